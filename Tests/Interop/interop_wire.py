"""Kafka wire format by hand, independent of any client: framing, a few requests and responses, and
RecordBatch v2 (with CRC32C) so that tests can send exactly the bytes they mean, including wrong ones.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass, field

# API keys and error codes used by the tests (Kafka's numbering).
API_PRODUCE = 0
API_METADATA = 3
API_API_VERSIONS = 18

ERROR_NONE = 0
ERROR_CORRUPT_MESSAGE = 2
ERROR_UNKNOWN_TOPIC_OR_PARTITION = 3
ERROR_INVALID_REQUEST = 42
ERROR_UNSUPPORTED_VERSION = 35

# -- CRC32C (Castagnoli), table driven --

def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value


# -- primitives --

def zigzag_varint(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def string(s: str | None) -> bytes:
    if s is None:
        return struct.pack(">h", -1)
    raw = s.encode()
    return struct.pack(">h", len(raw)) + raw


def compact_string(s: str | None) -> bytes:
    if s is None:
        return uvarint(0)
    raw = s.encode()
    return uvarint(len(raw) + 1) + raw


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError(f"response truncated: need {n} bytes at {self.pos} of {len(self.data)}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int8(self) -> int:
        return struct.unpack(">b", self.take(1))[0]

    def int16(self) -> int:
        return struct.unpack(">h", self.take(2))[0]

    def int32(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def int64(self) -> int:
        return struct.unpack(">q", self.take(8))[0]

    def string(self) -> str | None:
        n = self.int16()
        return None if n < 0 else self.take(n).decode()

    def array_len(self) -> int:
        return self.int32()


# -- record batches --

@dataclass
class RawRecord:
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)
    timestamp_delta: int = 0


def encode_record(offset_delta: int, record: RawRecord) -> bytes:
    body = bytearray()
    body += b"\x00"  # attributes
    body += zigzag_varint(record.timestamp_delta)
    body += zigzag_varint(offset_delta)
    for part in (record.key, record.value):
        if part is None:
            body += zigzag_varint(-1)
        else:
            body += zigzag_varint(len(part)) + part
    body += zigzag_varint(len(record.headers))
    for name, value in record.headers:
        raw_name = name.encode()
        body += zigzag_varint(len(raw_name)) + raw_name
        body += zigzag_varint(-1) if value is None else zigzag_varint(len(value)) + value
    return zigzag_varint(len(body)) + bytes(body)


def record_batch(records: list[RawRecord], base_timestamp: int, producer_id: int = -1, producer_epoch: int = -1,
                 base_sequence: int = -1, attributes: int = 0, crc_override: int | None = None) -> bytes:
    """An uncompressed RecordBatch v2 at base offset 0; `crc_override` writes a chosen (wrong) CRC."""
    encoded = b"".join(encode_record(i, r) for i, r in enumerate(records))
    max_timestamp = base_timestamp + max((r.timestamp_delta for r in records), default=0)
    after_crc = struct.pack(">hiqqqhii", attributes, len(records) - 1, base_timestamp, max_timestamp,
                            producer_id, producer_epoch, base_sequence, len(records)) + encoded
    crc = crc32c(after_crc) if crc_override is None else crc_override
    after_length = struct.pack(">ibI", 0, 2, crc) + after_crc  # partition leader epoch, magic, crc
    return struct.pack(">qi", 0, len(after_length)) + after_length


def batch_crc(batch: bytes) -> int:
    return struct.unpack(">I", batch[17:21])[0]


# -- requests --

def request_header_v1(api_key: int, api_version: int, correlation_id: int, client_id: str = "interop-raw") -> bytes:
    return struct.pack(">hhi", api_key, api_version, correlation_id) + string(client_id)


def request_header_v2(api_key: int, api_version: int, correlation_id: int, client_id: str = "interop-raw") -> bytes:
    return request_header_v1(api_key, api_version, correlation_id, client_id) + b"\x00"  # no tagged fields


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def api_versions_request(correlation_id: int, version: int = 0) -> bytes:
    if version >= 3:
        body = compact_string("interop-raw") + compact_string("1.0") + b"\x00"
        return request_header_v2(API_API_VERSIONS, version, correlation_id) + body
    return request_header_v1(API_API_VERSIONS, version, correlation_id)


def metadata_request_v1(correlation_id: int, topics: list[str] | None = None) -> bytes:
    if topics is None:
        body = struct.pack(">i", -1)
    else:
        body = struct.pack(">i", len(topics)) + b"".join(string(t) for t in topics)
    return request_header_v1(API_METADATA, 1, correlation_id) + body


def produce_request_v8(correlation_id: int, topic: str, partition: int, records: bytes, acks: int = -1,
                       timeout_ms: int = 10_000) -> bytes:
    body = string(None) + struct.pack(">hi", acks, timeout_ms)
    body += struct.pack(">i", 1) + string(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", partition) + struct.pack(">i", len(records)) + records
    return request_header_v1(API_PRODUCE, 8, correlation_id) + body


# -- responses --

@dataclass
class ApiVersionsResponse:
    error_code: int
    versions: dict[int, tuple[int, int]]


def parse_api_versions_v0(payload: bytes) -> ApiVersionsResponse:
    r = Reader(payload)
    error_code = r.int16()
    versions = {}
    for _ in range(max(r.array_len(), 0)):
        key, low, high = r.int16(), r.int16(), r.int16()
        versions[key] = (low, high)
    return ApiVersionsResponse(error_code, versions)


@dataclass
class PartitionProduceResult:
    topic: str
    partition: int
    error_code: int
    base_offset: int
    error_message: str | None


def parse_produce_v8(payload: bytes) -> list[PartitionProduceResult]:
    r = Reader(payload)
    results = []
    for _ in range(r.array_len()):
        topic = r.string() or ""
        for _ in range(r.array_len()):
            partition, error_code, base_offset = r.int32(), r.int16(), r.int64()
            r.int64()  # log append time
            r.int64()  # log start offset
            for _ in range(max(r.array_len(), 0)):
                r.int32()
                r.string()
            message = r.string()
            results.append(PartitionProduceResult(topic, partition, error_code, base_offset, message))
    r.int32()  # throttle time
    return results


@dataclass
class MetadataV1:
    brokers: list[tuple[int, str, int]]
    controller_id: int
    topics: dict[str, tuple[int, list[tuple[int, int, int]]]]  # name -> (error, [(partition, error, leader)])


def parse_metadata_v1(payload: bytes) -> MetadataV1:
    r = Reader(payload)
    brokers = []
    for _ in range(r.array_len()):
        node_id, host, port = r.int32(), r.string() or "", r.int32()
        r.string()  # rack
        brokers.append((node_id, host, port))
    controller_id = r.int32()
    topics = {}
    for _ in range(r.array_len()):
        error, name = r.int16(), r.string() or ""
        r.int8()  # is internal
        partitions = []
        for _ in range(r.array_len()):
            p_error, index, leader = r.int16(), r.int32(), r.int32()
            for _ in range(max(r.array_len(), 0)):
                r.int32()
            for _ in range(max(r.array_len(), 0)):
                r.int32()
            partitions.append((index, p_error, leader))
        topics[name] = (error, partitions)
    return MetadataV1(brokers, controller_id, topics)


# -- a connection --

class Connection:
    """One TCP connection speaking frames; every read bounded by a deadline."""

    def __init__(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout_s = timeout_s

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, payload: bytes) -> None:
        self.sock.sendall(frame(payload))

    def _recv_exact(self, n: int, deadline: float) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete frame within {self.timeout_s} s ({len(chunks)} of {n} bytes)")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(n - len(chunks))
            except socket.timeout:
                continue
            if not chunk:
                if chunks:
                    raise ConnectionError(f"connection closed in the middle of a frame ({len(chunks)} of {n})")
                return None
            chunks += chunk
        return bytes(chunks)

    def recv_frame(self) -> bytes | None:
        """The next frame's payload, or None when the peer closed the connection."""
        deadline = time.monotonic() + self.timeout_s
        head = self._recv_exact(4, deadline)
        if head is None:
            return None
        (length,) = struct.unpack(">i", head)
        if length < 4 or length > 100 * 1024 * 1024:
            raise ValueError(f"response frame length {length} is not plausible")
        return self._recv_exact(length, deadline)

    def request(self, payload: bytes, correlation_id: int, flexible_response_header: bool = False) -> bytes:
        """Send a request frame and return the response body (after the response header)."""
        self.send_frame(payload)
        response = self.recv_frame()
        if response is None:
            raise ConnectionError("broker closed the connection instead of answering")
        (got,) = struct.unpack(">i", response[:4])
        if got != correlation_id:
            raise AssertionError(f"response correlation id {got}, expected {correlation_id}")
        body = response[4:]
        if flexible_response_header:
            body = body[1:]  # empty tagged fields
        return body

    def outcome(self) -> tuple[str, bytes | None]:
        """After bad input: ('closed', None) if the broker closed the connection (FIN or reset),
        ('response', frame) if it answered. Raises TimeoutError if it did neither in time."""
        try:
            response = self.recv_frame()
        except (ConnectionResetError, BrokenPipeError):
            return ("closed", None)
        except ConnectionError:
            return ("closed", None)
        if response is None:
            return ("closed", None)
        return ("response", response)
