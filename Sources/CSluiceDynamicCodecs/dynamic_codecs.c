// Run-time binding to liblz4 and libzstd. Only the functions Sluice calls are declared here, with the types
// of their stable public ABI (lz4frame.h since 1.8, zstd.h since 1.3); nothing is taken from those headers.
#include "CSluiceDynamicCodecs.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// MARK: Loading

/// Opens the first library of `names` that loads and resolves `symbol_count` symbols into `slots`.
/// On failure writes the reason into `reason` and returns 0.
static int open_library(const char *const *names, size_t name_count, const char *const *symbols,
                        void **slots, size_t symbol_count, char *reason, size_t reason_capacity) {
    reason[0] = '\0';
    for (size_t n = 0; n < name_count; n++) {
        void *handle = dlopen(names[n], RTLD_NOW | RTLD_LOCAL);
        if (handle == NULL) {
            const char *error = dlerror();
            size_t used = strlen(reason);
            snprintf(reason + used, reason_capacity - used, "%s%s", used > 0 ? "; " : "",
                     error != NULL ? error : names[n]);
            continue;
        }
        size_t s = 0;
        for (; s < symbol_count; s++) {
            slots[s] = dlsym(handle, symbols[s]);
            if (slots[s] == NULL) break;
        }
        if (s == symbol_count) {
            reason[0] = '\0';
            return 1;
        }
        size_t used = strlen(reason);
        snprintf(reason + used, reason_capacity - used, "%s%s lacks %s", used > 0 ? "; " : "", names[n],
                 symbols[s]);
        memset(slots, 0, symbol_count * sizeof(void *));
        dlclose(handle);
    }
    return 0;
}

// MARK: lz4

// LZ4F_preferences_t as laid out by lz4frame.h (enums are ints): frame info, then the compression settings.
typedef struct {
    int block_size_id;           // 4 = blocks of at most 64 KiB
    int block_mode;              // 1 = independent blocks
    int content_checksum;        // 0 = none
    int frame_type;              // 0 = a normal frame
    unsigned long long content_size;  // 0 = not recorded
    unsigned dictionary_id;
    int block_checksum;          // 0 = none
    int compression_level;
    unsigned auto_flush;
    unsigned favor_decompression_speed;
    unsigned reserved[3];
} lz4_frame_preferences;

enum { lz4_frame_api_version = 100 };

static struct {
    unsigned (*is_error)(size_t);
    const char *(*error_name)(size_t);
    size_t (*compress_frame_bound)(size_t, const lz4_frame_preferences *);
    size_t (*compress_frame)(void *, size_t, const void *, size_t, const lz4_frame_preferences *);
    size_t (*create_decompression_context)(void **, unsigned);
    size_t (*free_decompression_context)(void *);
    size_t (*decompress)(void *, void *, size_t *, const void *, size_t *, const void *);
} lz4;

static int lz4_loaded;
static char lz4_reason[512];
static pthread_once_t lz4_once = PTHREAD_ONCE_INIT;

static void load_lz4(void) {
#ifdef __APPLE__
    static const char *const names[] = {"liblz4.1.dylib", "liblz4.dylib"};
#else
    static const char *const names[] = {"liblz4.so.1", "liblz4.so"};
#endif
    static const char *const symbols[] = {
        "LZ4F_isError", "LZ4F_getErrorName", "LZ4F_compressFrameBound", "LZ4F_compressFrame",
        "LZ4F_createDecompressionContext", "LZ4F_freeDecompressionContext", "LZ4F_decompress",
    };
    void *slots[sizeof(symbols) / sizeof(symbols[0])];
    _Static_assert(sizeof(slots) == sizeof(lz4), "one slot per lz4 function");
    lz4_loaded = open_library(names, 2, symbols, slots, sizeof(symbols) / sizeof(symbols[0]), lz4_reason,
                              sizeof(lz4_reason));
    if (lz4_loaded) memcpy(&lz4, slots, sizeof(lz4));
}

int sluice_lz4_available(void) {
    pthread_once(&lz4_once, load_lz4);
    return lz4_loaded;
}

const char *sluice_lz4_unavailable_reason(void) {
    return sluice_lz4_available() ? NULL : lz4_reason;
}

int sluice_lz4_is_error(size_t result) { return lz4.is_error(result) != 0; }

const char *sluice_lz4_error_name(size_t result) { return lz4.error_name(result); }

static lz4_frame_preferences kafka_preferences(int compression_level) {
    lz4_frame_preferences preferences;
    memset(&preferences, 0, sizeof(preferences));
    preferences.block_size_id = 4;
    preferences.block_mode = 1;
    preferences.compression_level = compression_level;
    return preferences;
}

size_t sluice_lz4_compress_frame_bound(size_t source_byte_count) {
    lz4_frame_preferences preferences = kafka_preferences(0);
    return lz4.compress_frame_bound(source_byte_count, &preferences);
}

size_t sluice_lz4_compress_frame(void *destination, size_t destination_capacity, const void *source,
                                 size_t source_byte_count, int compression_level) {
    lz4_frame_preferences preferences = kafka_preferences(compression_level);
    return lz4.compress_frame(destination, destination_capacity, source, source_byte_count, &preferences);
}

SluiceLZ4Decompressor *sluice_lz4_decompressor_create(void) {
    void *context = NULL;
    size_t result = lz4.create_decompression_context(&context, lz4_frame_api_version);
    if (lz4.is_error(result)) {
        if (context != NULL) lz4.free_decompression_context(context);
        return NULL;
    }
    return (SluiceLZ4Decompressor *)context;
}

void sluice_lz4_decompressor_free(SluiceLZ4Decompressor *decompressor) {
    if (decompressor != NULL) lz4.free_decompression_context(decompressor);
}

size_t sluice_lz4_decompress(SluiceLZ4Decompressor *decompressor, void *destination, size_t *destination_byte_count,
                             const void *source, size_t *source_byte_count) {
    return lz4.decompress(decompressor, destination, destination_byte_count, source, source_byte_count, NULL);
}

// MARK: zstd

typedef struct {
    const void *source;
    size_t byte_count;
    size_t position;
} zstd_input;

typedef struct {
    void *destination;
    size_t capacity;
    size_t position;
} zstd_output;

static const unsigned long long zstd_content_size_unknown = 0ULL - 1;
static const unsigned long long zstd_content_size_error = 0ULL - 2;

static struct {
    unsigned (*is_error)(size_t);
    const char *(*error_name)(size_t);
    size_t (*compress_bound)(size_t);
    size_t (*compress)(void *, size_t, const void *, size_t, int);
    unsigned long long (*frame_content_size)(const void *, size_t);
    void *(*create_dstream)(void);
    size_t (*free_dstream)(void *);
    size_t (*init_dstream)(void *);
    size_t (*decompress_stream)(void *, zstd_output *, zstd_input *);
} zstd;

static int zstd_loaded;
static char zstd_reason[512];
static pthread_once_t zstd_once = PTHREAD_ONCE_INIT;

static void load_zstd(void) {
#ifdef __APPLE__
    static const char *const names[] = {"libzstd.1.dylib", "libzstd.dylib"};
#else
    static const char *const names[] = {"libzstd.so.1", "libzstd.so"};
#endif
    static const char *const symbols[] = {
        "ZSTD_isError", "ZSTD_getErrorName", "ZSTD_compressBound", "ZSTD_compress", "ZSTD_getFrameContentSize",
        "ZSTD_createDStream", "ZSTD_freeDStream", "ZSTD_initDStream", "ZSTD_decompressStream",
    };
    void *slots[sizeof(symbols) / sizeof(symbols[0])];
    _Static_assert(sizeof(slots) == sizeof(zstd), "one slot per zstd function");
    zstd_loaded = open_library(names, 2, symbols, slots, sizeof(symbols) / sizeof(symbols[0]), zstd_reason,
                               sizeof(zstd_reason));
    if (zstd_loaded) memcpy(&zstd, slots, sizeof(zstd));
}

int sluice_zstd_available(void) {
    pthread_once(&zstd_once, load_zstd);
    return zstd_loaded;
}

const char *sluice_zstd_unavailable_reason(void) {
    return sluice_zstd_available() ? NULL : zstd_reason;
}

int sluice_zstd_is_error(size_t result) { return zstd.is_error(result) != 0; }

const char *sluice_zstd_error_name(size_t result) { return zstd.error_name(result); }

size_t sluice_zstd_compress_bound(size_t source_byte_count) { return zstd.compress_bound(source_byte_count); }

size_t sluice_zstd_compress(void *destination, size_t destination_capacity, const void *source,
                            size_t source_byte_count, int compression_level) {
    return zstd.compress(destination, destination_capacity, source, source_byte_count, compression_level);
}

int sluice_zstd_frame_content_size(const void *source, size_t source_byte_count,
                                   unsigned long long *content_byte_count) {
    unsigned long long size = zstd.frame_content_size(source, source_byte_count);
    if (size == zstd_content_size_unknown || size == zstd_content_size_error) return 0;
    *content_byte_count = size;
    return 1;
}

SluiceZstdDecompressor *sluice_zstd_decompressor_create(void) {
    void *stream = zstd.create_dstream();
    if (stream == NULL) return NULL;
    if (zstd.is_error(zstd.init_dstream(stream))) {
        zstd.free_dstream(stream);
        return NULL;
    }
    return (SluiceZstdDecompressor *)stream;
}

void sluice_zstd_decompressor_free(SluiceZstdDecompressor *decompressor) {
    if (decompressor != NULL) zstd.free_dstream(decompressor);
}

size_t sluice_zstd_decompress_stream(SluiceZstdDecompressor *decompressor, void *destination,
                                     size_t destination_capacity, size_t *destination_position,
                                     const void *source, size_t source_byte_count, size_t *source_position) {
    zstd_output output = {destination, destination_capacity, *destination_position};
    zstd_input input = {source, source_byte_count, *source_position};
    size_t result = zstd.decompress_stream(decompressor, &output, &input);
    *destination_position = output.position;
    *source_position = input.position;
    return result;
}
