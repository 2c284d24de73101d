#ifndef STACKC_CSYSTEM_SHIM_H
#define STACKC_CSYSTEM_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>
#include <stdio.h>
#include <sys/syscall.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* Linux calls the Swift Glibc module does not export. */

/* syncfs(2), a GNU extension: the archive makes a whole backup's chunks durable with one call
   before publishing the manifest that refers to them. */
static inline int stackc_syncfs(int fd) { return syncfs(fd); }

/* Starts writing a file's dirty pages back without waiting (sync_file_range(2), Linux only):
   chunks go to disk while the backup runs, so the one syncfs at the end has little left to do. */
static inline int stackc_start_writeback(int fd) { return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); }

/* Chunk-sized buffers are mapped and unmapped rather than kept in per-thread malloc arenas,
   whose high-water mark would otherwise grow with the amount of data backed up. */
static inline void stackc_bound_malloc(void) {
    mallopt(M_ARENA_MAX, 2);
}

/* For a short-lived compile: the heap grows in large steps and is never trimmed, so building a
   graph of thousands of instances is not a stream of brk/mprotect calls. */
static inline void stackc_generous_malloc(void) {
    mallopt(M_TOP_PAD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

/* Swaps two paths in one step (renameat2(2) with RENAME_EXCHANGE): a new dump directory replaces
   the old one with no moment where neither is in place. */
static inline int stackc_exchange(const char *first, const char *second) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, first, AT_FDCWD, second, RENAME_EXCHANGE);
}

#endif
