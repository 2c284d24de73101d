#include "gear.h"

// The chunker's hot loop, in C so that it stays in registers: from Swift, the candidate-append
// path made the compiler spill the tables and masks to the stack, and a re-run spent a third of
// its time here. Two bytes per step, as FastCDC 2020 describes.
size_t stackc_gear_next(const uint8_t *bytes, size_t from, size_t count, uint64_t *state,
                        const uint64_t *table, const uint64_t *shifted, uint64_t mask) {
    uint64_t hash = *state;
    const uint64_t shiftedMask = mask << 1;
    size_t index = from;
    while (index + 1 < count) {
        const uint64_t first = shifted[bytes[index]];
        uint64_t pair = first + table[bytes[index + 1]];
        // Keeps the compiler from rewriting `next` as `middle + table[…]`: summed first, the two
        // bytes cost the hash's dependency chain one shift and one add instead of three steps.
        __asm__("" : "+r"(pair));
        const uint64_t base = hash << 2;
        const uint64_t middle = base + first;
        const uint64_t next = base + pair;
        if (__builtin_expect((middle & shiftedMask) == 0, 0)) {
            *state = (hash << 1) + table[bytes[index]];
            return index;
        }
        if (__builtin_expect((next & mask) == 0, 0)) {
            *state = next;
            return index + 1;
        }
        hash = next;
        index += 2;
    }
    if (index < count) {
        hash = (hash << 1) + table[bytes[index]];
        if ((hash & mask) == 0) {
            *state = hash;
            return index;
        }
        index += 1;
    }
    *state = hash;
    return count;
}
