#ifndef CSLUICE_FILE_H
#define CSLUICE_FILE_H

/// Linux file calls that Swift's Glibc module does not import (they need _GNU_SOURCE).
#if defined(__linux__)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <errno.h>
/// Reserves blocks for `length` bytes at `offset` without changing the file's size
/// (fallocate with FALLOC_FL_KEEP_SIZE). 0 on success, else the errno.
static inline int csluice_preallocate_keeping_size(int descriptor, long long offset, long long length) {
    return fallocate(descriptor, FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length) == 0 ? 0 : errno;
}
#else
#include <errno.h>
static inline int csluice_preallocate_keeping_size(int descriptor, long long offset, long long length) {
    (void)descriptor; (void)offset; (void)length;
    return EOPNOTSUPP;
}
#endif

#endif
