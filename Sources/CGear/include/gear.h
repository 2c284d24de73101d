#ifndef STACKC_GEAR_H
#define STACKC_GEAR_H

#include <stddef.h>
#include <stdint.h>

/// Rolls the gear hash over bytes[from..<count] from *state and stops at the first position whose
/// hash has none of `mask`'s bits set: returns that position with *state the hash there, or
/// `count` with *state the hash after the last byte. `shifted` is `table` shifted left by one.
size_t stackc_gear_next(const uint8_t *bytes, size_t from, size_t count, uint64_t *state,
                        const uint64_t *table, const uint64_t *shifted, uint64_t mask);

#endif
