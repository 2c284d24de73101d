#ifndef STACKC_CZSTD_SHIM_H
#define STACKC_CZSTD_SHIM_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <unistd.h>
#include <zstd.h>

/* syncfs(2) is a GNU extension the Swift Glibc module does not export; the archive syncs a whole
   backup's chunks with one call before publishing the manifest that refers to them. */
static inline int stackc_syncfs(int fd) { return syncfs(fd); }

#endif
