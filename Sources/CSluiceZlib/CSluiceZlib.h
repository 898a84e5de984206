#ifndef CSLUICE_ZLIB_H
#define CSLUICE_ZLIB_H

#include <zlib.h>

// zlib's init functions are macros (they pass the header's version and sizeof(z_stream) so the library can
// check them), which Swift cannot call; these wrappers expand them.

/// Starts a raw deflate stream wrapped as gzip (windowBits 15 + 16), as Kafka's Java producer writes.
static inline int sluice_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, MAX_WBITS + 16, 8, Z_DEFAULT_STRATEGY);
}

/// Starts an inflate stream that accepts a gzip or a zlib header (windowBits 15 + 32), as librdkafka does.
static inline int sluice_inflate_init_auto(z_streamp stream) {
    return inflateInit2(stream, MAX_WBITS + 32);
}

#endif
