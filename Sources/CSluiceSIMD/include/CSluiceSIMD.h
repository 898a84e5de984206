#ifndef CSLUICE_SIMD_H
#define CSLUICE_SIMD_H

#include <stdint.h>
#include <string.h>

/// Sixteen bytes at a time, for SluiceJSON's string scanning: the vector compares Swift cannot spell
/// portably (its SIMD types have no "mask to bits"). Header-only and `static inline`, so that the Swift
/// scanner inlines them. SSE2 is part of every x86-64; other machines get a byte loop with the same results.
///
/// Each function reads exactly 16 bytes at `bytes` (unaligned): the caller checks that they are there.

/// The vector width, in bytes.
#define CSLUICE_SIMD_BYTES 16

#if defined(__SSE2__)
#include <emmintrin.h>

/// Bit i set when byte i is one a JSON string scanner stops at: '"', '\\', a control character (below 0x20)
/// or a byte of a non-ASCII UTF-8 sequence (0x80 and up).
static inline uint32_t csluice_json_string_stops16(const void *bytes) {
    __m128i v = _mm_loadu_si128((const __m128i *)bytes);
    // A signed compare: bytes below 0x20 and bytes from 0x80 (negative as int8) both compare less.
    __m128i stops = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                              _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                 _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    return (uint32_t)_mm_movemask_epi8(stops);
}

/// Bit i set when byte i is '"'.
static inline uint32_t csluice_json_quotes16(const void *bytes) {
    __m128i v = _mm_loadu_si128((const __m128i *)bytes);
    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
}

#else

static inline uint32_t csluice_json_string_stops16(const void *bytes) {
    const uint8_t *p = (const uint8_t *)bytes;
    uint32_t mask = 0;
    for (int i = 0; i < CSLUICE_SIMD_BYTES; i++) {
        uint8_t b = p[i];
        mask |= (uint32_t)(b == '"' || b == '\\' || b < 0x20 || b >= 0x80) << i;
    }
    return mask;
}

static inline uint32_t csluice_json_quotes16(const void *bytes) {
    const uint8_t *p = (const uint8_t *)bytes;
    uint32_t mask = 0;
    for (int i = 0; i < CSLUICE_SIMD_BYTES; i++) {
        mask |= (uint32_t)(p[i] == '"') << i;
    }
    return mask;
}

#endif

#endif
