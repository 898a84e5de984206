// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as Kafka's RecordBatch v2 uses.
// The hardware path uses the CPU's CRC32 instruction with three interleaved streams so that the
// instruction's latency is hidden; the portable path is slicing-by-8.
#include "CSluiceCRC32C.h"
#include <string.h>

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static int table_ready = 0;

static void build_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ POLY : crc >> 1;
        table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = table[0][crc & 0xff] ^ (crc >> 8);
            table[k][n] = crc;
        }
    }
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t sluice_crc32c_extend_portable(uint32_t crc, const void *bytes, size_t length) {
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE)) build_table();
    const uint8_t *p = bytes;
    crc = ~crc;
    while (length && ((uintptr_t)p & 7)) {
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        length--;
    }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc;
        crc = table[7][word & 0xff] ^ table[6][(word >> 8) & 0xff] ^ table[5][(word >> 16) & 0xff] ^
              table[4][(word >> 24) & 0xff] ^ table[3][(word >> 32) & 0xff] ^ table[2][(word >> 40) & 0xff] ^
              table[1][(word >> 48) & 0xff] ^ table[0][word >> 56];
        p += 8;
        length -= 8;
    }
    while (length--) crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

// Multiplies a CRC by x^(8*len) modulo the polynomial: used to shift a stream's CRC over the
// bytes of the streams after it. Computed by repeated squaring of the shift operator.
static uint32_t gf2_matrix_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    while (vec) {
        if (vec & 1) sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void gf2_matrix_square(uint32_t *square, const uint32_t *mat) {
    for (int n = 0; n < 32; n++) square[n] = gf2_matrix_times(mat, mat[n]);
}

// Operator that advances a (non-inverted) CRC register over `len` zero bytes.
static void zeros_operator(uint32_t *even, size_t len) {
    uint32_t odd[32];
    odd[0] = POLY;
    uint32_t row = 1;
    for (int n = 1; n < 32; n++) {
        odd[n] = row;
        row <<= 1;
    }
    gf2_matrix_square(even, odd);  // 2 zero bits
    gf2_matrix_square(odd, even);  // 4 zero bits
    // odd now shifts by one zero byte (8 bits) after one more squaring
    do {
        gf2_matrix_square(even, odd);
        len >>= 1;
        if (len == 0) return;
        gf2_matrix_square(odd, even);
        len >>= 1;
    } while (len);
    memcpy(even, odd, sizeof(odd));
}

// Tables that apply the shift operator one byte of the CRC at a time.
static void zeros_table(uint32_t tbl[4][256], size_t len) {
    uint32_t op[32];
    zeros_operator(op, len);
    for (uint32_t n = 0; n < 256; n++) {
        tbl[0][n] = gf2_matrix_times(op, n);
        tbl[1][n] = gf2_matrix_times(op, n << 8);
        tbl[2][n] = gf2_matrix_times(op, n << 16);
        tbl[3][n] = gf2_matrix_times(op, n << 24);
    }
}

static inline uint32_t shift_crc(uint32_t tbl[4][256], uint32_t crc) {
    return tbl[0][crc & 0xff] ^ tbl[1][(crc >> 8) & 0xff] ^ tbl[2][(crc >> 16) & 0xff] ^ tbl[3][crc >> 24];
}

#define LONG_BLOCK 8192
#define SHORT_BLOCK 256
static uint32_t long_shift[4][256];
static uint32_t short_shift[4][256];
static int shift_ready = 0;

static void build_shift_tables(void) {
    zeros_table(long_shift, LONG_BLOCK);
    zeros_table(short_shift, SHORT_BLOCK);
    __atomic_store_n(&shift_ready, 1, __ATOMIC_RELEASE);
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const void *bytes, size_t length) {
    if (!__atomic_load_n(&shift_ready, __ATOMIC_ACQUIRE)) build_shift_tables();
    const uint8_t *next = bytes;
    uint64_t crc0 = ~crc;
    while (length && ((uintptr_t)next & 7)) {
        crc0 = _mm_crc32_u8((uint32_t)crc0, *next++);
        length--;
    }
    // Three streams of LONG_BLOCK bytes each, combined by shifting.
    while (length >= LONG_BLOCK * 3) {
        uint64_t crc1 = 0, crc2 = 0;
        const uint8_t *end = next + LONG_BLOCK;
        do {
            uint64_t a, b, c;
            memcpy(&a, next, 8);
            memcpy(&b, next + LONG_BLOCK, 8);
            memcpy(&c, next + 2 * LONG_BLOCK, 8);
            crc0 = _mm_crc32_u64(crc0, a);
            crc1 = _mm_crc32_u64(crc1, b);
            crc2 = _mm_crc32_u64(crc2, c);
            next += 8;
        } while (next < end);
        crc0 = shift_crc(long_shift, (uint32_t)crc0) ^ crc1;
        crc0 = shift_crc(long_shift, (uint32_t)crc0) ^ crc2;
        next += LONG_BLOCK * 2;
        length -= LONG_BLOCK * 3;
    }
    while (length >= SHORT_BLOCK * 3) {
        uint64_t crc1 = 0, crc2 = 0;
        const uint8_t *end = next + SHORT_BLOCK;
        do {
            uint64_t a, b, c;
            memcpy(&a, next, 8);
            memcpy(&b, next + SHORT_BLOCK, 8);
            memcpy(&c, next + 2 * SHORT_BLOCK, 8);
            crc0 = _mm_crc32_u64(crc0, a);
            crc1 = _mm_crc32_u64(crc1, b);
            crc2 = _mm_crc32_u64(crc2, c);
            next += 8;
        } while (next < end);
        crc0 = shift_crc(short_shift, (uint32_t)crc0) ^ crc1;
        crc0 = shift_crc(short_shift, (uint32_t)crc0) ^ crc2;
        next += SHORT_BLOCK * 2;
        length -= SHORT_BLOCK * 3;
    }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, next, 8);
        crc0 = _mm_crc32_u64(crc0, word);
        next += 8;
        length -= 8;
    }
    while (length--) crc0 = _mm_crc32_u8((uint32_t)crc0, *next++);
    return ~(uint32_t)crc0;
}

static int hw_state = -1;

int sluice_crc32c_hardware_available(void) {
    int state = __atomic_load_n(&hw_state, __ATOMIC_RELAXED);
    if (state < 0) {
        __builtin_cpu_init();
        state = __builtin_cpu_supports("sse4.2") ? 1 : 0;
        __atomic_store_n(&hw_state, state, __ATOMIC_RELAXED);
    }
    return state;
}

uint32_t sluice_crc32c_extend(uint32_t crc, const void *bytes, size_t length) {
    if (sluice_crc32c_hardware_available()) return crc32c_hw(crc, bytes, length);
    return sluice_crc32c_extend_portable(crc, bytes, length);
}

#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>

int sluice_crc32c_hardware_available(void) { return 1; }

uint32_t sluice_crc32c_extend(uint32_t crc, const void *bytes, size_t length) {
    const uint8_t *p = bytes;
    crc = ~crc;
    while (length && ((uintptr_t)p & 7)) {
        crc = __crc32cb(crc, *p++);
        length--;
    }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = __crc32cd(crc, word);
        p += 8;
        length -= 8;
    }
    while (length--) crc = __crc32cb(crc, *p++);
    return ~crc;
}

#else

int sluice_crc32c_hardware_available(void) { return 0; }

uint32_t sluice_crc32c_extend(uint32_t crc, const void *bytes, size_t length) {
    return sluice_crc32c_extend_portable(crc, bytes, length);
}

#endif
