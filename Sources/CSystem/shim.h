#ifndef STACKC_CSYSTEM_SHIM_H
#define STACKC_CSYSTEM_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <malloc.h>
#include <unistd.h>

/* Linux calls the Swift Glibc module does not export. */

/* syncfs(2), a GNU extension: the archive makes a whole backup's chunks durable with one call
   before publishing the manifest that refers to them. */
static inline int stackc_syncfs(int fd) { return syncfs(fd); }

/* Chunk-sized buffers are mapped and unmapped rather than kept in per-thread malloc arenas,
   whose high-water mark would otherwise grow with the amount of data backed up. */
static inline void stackc_bound_malloc(void) {
    mallopt(M_ARENA_MAX, 2);
}

#endif
