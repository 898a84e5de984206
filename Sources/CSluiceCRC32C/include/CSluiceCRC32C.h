#ifndef CSLUICE_CRC32C_H
#define CSLUICE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Extends a CRC32C (Castagnoli) over `length` bytes. Pass 0 to start; the result is already
/// finalised (pre- and post-inverted), so chaining calls gives the CRC of the concatenation.
uint32_t sluice_crc32c_extend(uint32_t crc, const void *bytes, size_t length);

/// The portable table implementation, exposed so tests can compare it with the hardware path.
uint32_t sluice_crc32c_extend_portable(uint32_t crc, const void *bytes, size_t length);

/// 1 when the hardware path (SSE4.2 or ARMv8 CRC) is in use.
int sluice_crc32c_hardware_available(void);

#endif
