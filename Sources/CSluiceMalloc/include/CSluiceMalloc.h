#ifndef CSLUICE_MALLOC_H
#define CSLUICE_MALLOC_H

/// glibc's allocator settings (malloc.h), which Swift's Glibc module does not import.
// __GLIBC__ comes from <features.h>: tested before any header was read, it is never defined,
// and the settings were silently never made.
#if defined(__linux__)
#include <features.h>
#endif
#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
static inline int csluice_set_malloc_thresholds(int mmapThresholdBytes, int trimThresholdBytes, int topPadBytes) {
    return mallopt(M_MMAP_THRESHOLD, mmapThresholdBytes) && mallopt(M_TRIM_THRESHOLD, trimThresholdBytes)
        && mallopt(M_TOP_PAD, topPadBytes);
}
#else
static inline int csluice_set_malloc_thresholds(int mmapThresholdBytes, int trimThresholdBytes, int topPadBytes) {
    (void)mmapThresholdBytes; (void)trimThresholdBytes; (void)topPadBytes;
    return 0;
}
#endif

#endif
