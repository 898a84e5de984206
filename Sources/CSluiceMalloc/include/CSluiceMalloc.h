#ifndef CSLUICE_MALLOC_H
#define CSLUICE_MALLOC_H

/// glibc's allocator settings (malloc.h), which Swift's Glibc module does not import.
#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
static inline int csluice_set_malloc_thresholds(int mmapThresholdBytes, int trimThresholdBytes) {
    return mallopt(M_MMAP_THRESHOLD, mmapThresholdBytes) && mallopt(M_TRIM_THRESHOLD, trimThresholdBytes);
}
#else
static inline int csluice_set_malloc_thresholds(int mmapThresholdBytes, int trimThresholdBytes) {
    (void)mmapThresholdBytes; (void)trimThresholdBytes;
    return 0;
}
#endif

#endif
