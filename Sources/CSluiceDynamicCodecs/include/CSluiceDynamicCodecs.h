#ifndef CSLUICE_DYNAMIC_CODECS_H
#define CSLUICE_DYNAMIC_CODECS_H

// liblz4 and libzstd, loaded at run time with dlopen so that Sluice builds (and runs every other codec) on a
// machine that has neither library or has them without headers. Each library is loaded once, on first use;
// the wrappers below may be called only after the matching `*_available()` returned 1.

#include <stddef.h>

// MARK: lz4 (frame format)

/// 1 when liblz4 (liblz4.so.1, else liblz4.so) is loaded with every function used here, 0 otherwise.
int sluice_lz4_available(void);
/// Why liblz4 could not be loaded (dlerror's text), or NULL when it was.
const char *sluice_lz4_unavailable_reason(void);

/// Nonzero when `result` of an lz4 call is an error code.
int sluice_lz4_is_error(size_t result);
/// The library's name for an error code.
const char *sluice_lz4_error_name(size_t result);

/// The largest frame `sluice_lz4_compress_frame` can write for `source_byte_count` bytes.
size_t sluice_lz4_compress_frame_bound(size_t source_byte_count);
/// Writes one LZ4 frame as Kafka expects it: 64 KiB independent blocks, no checksums, no content size.
/// Returns the frame's byte count or an error code.
size_t sluice_lz4_compress_frame(void *destination, size_t destination_capacity, const void *source,
                                 size_t source_byte_count, int compression_level);

/// A streaming frame decoder; decodes concatenated frames one after the other.
typedef struct SluiceLZ4Decompressor SluiceLZ4Decompressor;
/// NULL when the library cannot allocate one.
SluiceLZ4Decompressor *sluice_lz4_decompressor_create(void);
void sluice_lz4_decompressor_free(SluiceLZ4Decompressor *decompressor);
/// Decodes from `source` into `destination`. On return `*destination_byte_count` holds the bytes written and
/// `*source_byte_count` the bytes consumed. Returns 0 at the end of a frame, otherwise a hint of how many more
/// input bytes the frame needs, or an error code.
size_t sluice_lz4_decompress(SluiceLZ4Decompressor *decompressor, void *destination, size_t *destination_byte_count,
                             const void *source, size_t *source_byte_count);

// MARK: zstd

/// 1 when libzstd (libzstd.so.1, else libzstd.so) is loaded with every function used here, 0 otherwise.
int sluice_zstd_available(void);
/// Why libzstd could not be loaded (dlerror's text), or NULL when it was.
const char *sluice_zstd_unavailable_reason(void);

int sluice_zstd_is_error(size_t result);
const char *sluice_zstd_error_name(size_t result);

size_t sluice_zstd_compress_bound(size_t source_byte_count);
/// One-shot compression into one frame that records its content size. Returns the byte count or an error code.
size_t sluice_zstd_compress(void *destination, size_t destination_capacity, const void *source,
                            size_t source_byte_count, int compression_level);

/// 1 and `*content_byte_count` set when the frame at `source` declares its decompressed size, 0 otherwise.
int sluice_zstd_frame_content_size(const void *source, size_t source_byte_count,
                                   unsigned long long *content_byte_count);

/// A streaming decoder; decodes concatenated frames one after the other.
typedef struct SluiceZstdDecompressor SluiceZstdDecompressor;
SluiceZstdDecompressor *sluice_zstd_decompressor_create(void);
void sluice_zstd_decompressor_free(SluiceZstdDecompressor *decompressor);
/// Decodes from `source[*source_position...]` into `destination[*destination_position...]`, advancing both
/// positions. Returns 0 when a frame is complete and flushed, a positive hint while more is expected, or an
/// error code.
size_t sluice_zstd_decompress_stream(SluiceZstdDecompressor *decompressor, void *destination,
                                     size_t destination_capacity, size_t *destination_position,
                                     const void *source, size_t source_byte_count, size_t *source_position);

#endif
