"""Bad input on the wire: malformed frames, absurd frame lengths, unknown API keys and versions. The broker
answers with an error or closes that one connection, and clients on other connections keep working.
A produce whose record batch fails its CRC gets CORRUPT_MESSAGE and nothing is stored."""

from __future__ import annotations

import struct
from typing import Any, Iterator

import pytest

import interop_wire as wire
from interop_clients import CALL_TIMEOUT_S, consume, confluent_producer, create_topic

# The APIs of the contract (Kafka 3.9 numbering) that ApiVersions must announce.
CONTRACT_APIS = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
    10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
    15: "DescribeGroups", 16: "ListGroups", 18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics",
    22: "InitProducerId", 24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn", 28: "TxnOffsetCommit",
    32: "DescribeConfigs", 37: "CreatePartitions", 42: "DeleteGroups", 60: "DescribeCluster",
}
ALTER_CONFIGS_APIS = {33: "AlterConfigs", 44: "IncrementalAlterConfigs"}  # at least one of them


@pytest.fixture
def topic(broker: Any, topic_name: Any) -> str:
    name = topic_name()
    create_topic(broker.bootstrap, name, 1)
    return name


@pytest.fixture
def bystander(broker: Any, topic: str) -> Iterator[Any]:
    """A client whose connections are open before the bad input and must keep working after it."""
    producer = confluent_producer(broker.bootstrap)
    producer.produce(topic, value=b"before", partition=0)
    assert producer.flush(CALL_TIMEOUT_S) == 0
    yield producer
    producer.produce(topic, value=b"after", partition=0)
    assert producer.flush(CALL_TIMEOUT_S) == 0, "a client on another connection stopped working after bad input"
    got = consume("kafka-python", broker.bootstrap, topic, [0], 2)
    assert [c.value for c in got] == [b"before", b"after"]
    with connect(broker) as conn:  # and new connections are served
        versions = wire.parse_api_versions_v0(conn.request(wire.api_versions_request(77), 77))
        assert versions.error_code == wire.ERROR_NONE


def connect(broker: Any) -> wire.Connection:
    return wire.Connection(broker.host, broker.port, timeout_s=10)


def assert_closed_or_error(conn: wire.Connection, correlation_id: int | None, what: str) -> None:
    """The broker closed the connection, or answered this request (an error, since it was bad)."""
    try:
        outcome, response = conn.outcome()
    except TimeoutError:
        raise AssertionError(f"{what}: the broker neither answered nor closed the connection within "
                             f"{conn.timeout_s} s") from None
    if outcome == "response":
        assert response is not None and len(response) >= 4
        if correlation_id is not None:
            (got,) = struct.unpack(">i", response[:4])
            assert got == correlation_id, f"{what}: answered with correlation id {got}, sent {correlation_id}"


# ----------------------------------------------------------------------------------------------------
# well-formed requests first: the raw encoder and the broker agree
# ----------------------------------------------------------------------------------------------------

def test_api_versions_announces_the_contract(broker: Any) -> None:
    with connect(broker) as conn:
        response = wire.parse_api_versions_v0(conn.request(wire.api_versions_request(1, version=0), 1))
    assert response.error_code == wire.ERROR_NONE
    missing = {k: n for k, n in CONTRACT_APIS.items() if k not in response.versions}
    assert not missing, f"ApiVersions does not announce {missing}"
    assert set(ALTER_CONFIGS_APIS) & set(response.versions), "ApiVersions announces no way to alter configs"
    for key, (low, high) in response.versions.items():
        assert 0 <= low <= high, f"api {key}: versions {low}..{high}"


def test_api_versions_v3_flexible(broker: Any) -> None:
    with connect(broker) as conn:
        # ApiVersions answers with response header v0 even for flexible versions (KIP-511).
        body = conn.request(wire.api_versions_request(2, version=3), 2)
    (error_code,) = struct.unpack(">h", body[:2])
    assert error_code == wire.ERROR_NONE


def test_metadata_v1_raw(broker: Any, topic: str) -> None:
    with connect(broker) as conn:
        md = wire.parse_metadata_v1(conn.request(wire.metadata_request_v1(3, [topic]), 3))
    assert [(host, port) for _, host, port in md.brokers] == [(broker.host, broker.port)]
    error, partitions = md.topics[topic]
    assert error == wire.ERROR_NONE
    assert partitions == [(0, wire.ERROR_NONE, md.brokers[0][0])]


# ----------------------------------------------------------------------------------------------------
# unknown APIs and versions
# ----------------------------------------------------------------------------------------------------

def test_api_versions_with_unknown_version_gets_v0_error(broker: Any, bystander: Any) -> None:
    """KIP-511: an ApiVersions request of a version the broker does not know is answered in v0 format with
    UNSUPPORTED_VERSION and the supported ranges, and the connection stays usable for the retry."""
    with connect(broker) as conn:
        # Version 99 is past the flexible threshold (3), so a client sends request header v2 and a v3-shaped body.
        response = wire.parse_api_versions_v0(conn.request(wire.api_versions_request(5, version=99), 5))
        assert response.error_code == wire.ERROR_UNSUPPORTED_VERSION
        assert wire.API_API_VERSIONS in response.versions, "the answer lists the ApiVersions versions to retry with"
        retry = wire.parse_api_versions_v0(conn.request(wire.api_versions_request(6, version=0), 6))
        assert retry.error_code == wire.ERROR_NONE


def test_unknown_api_key(broker: Any, bystander: Any) -> None:
    with connect(broker) as conn:
        conn.send_frame(wire.request_header_v1(32000, 0, 7) + b"\x00" * 8)
        assert_closed_or_error(conn, 7, "unknown api key 32000")


def test_unknown_version_of_a_known_api(broker: Any, bystander: Any) -> None:
    with connect(broker) as conn:
        conn.send_frame(wire.request_header_v1(wire.API_METADATA, 999, 8) + struct.pack(">i", -1))
        assert_closed_or_error(conn, 8, "Metadata v999")


# ----------------------------------------------------------------------------------------------------
# malformed frames
# ----------------------------------------------------------------------------------------------------

MALFORMED = {
    "one-byte-frame": wire.frame(b"\x00"),
    "empty-frame": struct.pack(">i", 0),
    "header-only-no-client-id": wire.frame(struct.pack(">hhi", wire.API_METADATA, 1, 9)),
    "client-id-longer-than-frame": wire.frame(struct.pack(">hhih", wire.API_METADATA, 1, 9, 30000) + b"abc"),
    "metadata-array-count-without-elements": wire.frame(wire.request_header_v1(wire.API_METADATA, 1, 9)
                                                        + struct.pack(">i", 1_000_000)),
    "produce-truncated-body": wire.frame(wire.request_header_v1(wire.API_PRODUCE, 8, 9) + b"\xff\xff\x00"),
    "produce-negative-records-length": wire.frame(
        wire.request_header_v1(wire.API_PRODUCE, 8, 9) + wire.string(None) + struct.pack(">hi", -1, 1000)
        + struct.pack(">i", 1) + wire.string("t") + struct.pack(">i", 1) + struct.pack(">ii", 0, -5)),
    "random-bytes": wire.frame(bytes((i * 37 + 11) % 256 for i in range(200))),
}


@pytest.mark.parametrize("payload", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_frame(broker: Any, bystander: Any, payload: bytes) -> None:
    with connect(broker) as conn:
        conn.send_raw(payload)
        assert_closed_or_error(conn, None, "malformed frame")


@pytest.mark.parametrize("length", [-1, -2_147_483_648, 2_147_483_647, 1 << 30, 200 * 1024 * 1024 + 1],
                         ids=["minus-one", "int32-min", "int32-max", "one-gib", "200-mib"])
def test_oversize_or_negative_frame_length(broker: Any, bystander: Any, length: int) -> None:
    """The frame length alone must be refused: the broker closes without waiting for (or allocating) the body."""
    with connect(broker) as conn:
        conn.send_raw(struct.pack(">i", length) + wire.request_header_v1(wire.API_METADATA, 1, 10))
        outcome, _ = conn.outcome()
        assert outcome == "closed", f"a frame of {length} bytes was announced and the broker answered"


def test_many_bad_connections_in_a_row(broker: Any, bystander: Any) -> None:
    for i in range(50):
        with connect(broker) as conn:
            conn.send_raw(list(MALFORMED.values())[i % len(MALFORMED)])
            assert_closed_or_error(conn, None, f"bad connection {i}")


def test_connection_closed_mid_frame(broker: Any, bystander: Any) -> None:
    """A client that dies half-way through a frame costs the broker nothing."""
    for _ in range(20):
        conn = connect(broker)
        conn.send_raw(struct.pack(">i", 1000) + b"\x00" * 10)
        conn.close()


# ----------------------------------------------------------------------------------------------------
# record batches whose checksum does not hold
# ----------------------------------------------------------------------------------------------------

T0 = 1_700_000_000_000


def good_batch(tag: str) -> bytes:
    return wire.record_batch([wire.RawRecord(f"key-{tag}".encode(), f"value-{tag}".encode(), [("tag", tag.encode())]),
                              wire.RawRecord(None, f"second-{tag}".encode(), [], 7)], T0)


def corrupt(kind: str) -> bytes:
    batch = good_batch("bad")
    if kind == "wrong-crc-field":
        return wire.record_batch([wire.RawRecord(b"key-bad", b"value-bad", [("tag", b"bad")]),
                                  wire.RawRecord(None, b"second-bad", [], 7)], T0,
                                 crc_override=wire.batch_crc(batch) ^ 0xFFFFFFFF)
    if kind == "flipped-value-byte":
        i = batch.index(b"value-bad")
        return batch[:i] + b"V" + batch[i + 1:]
    if kind == "flipped-timestamp-byte":
        return batch[:30] + bytes([batch[30] ^ 0x01]) + batch[31:]
    raise ValueError(kind)


def produce_raw(conn: wire.Connection, topic: str, records: bytes, correlation_id: int) -> wire.PartitionProduceResult:
    [result] = wire.parse_produce_v8(conn.request(wire.produce_request_v8(correlation_id, topic, 0, records),
                                                  correlation_id))
    assert (result.topic, result.partition) == (topic, 0)
    return result


@pytest.mark.parametrize("kind", ["wrong-crc-field", "flipped-value-byte", "flipped-timestamp-byte"])
def test_produce_with_corrupt_crc_gets_corrupt_message(broker: Any, topic: str, kind: str) -> None:
    with connect(broker) as conn:
        first = produce_raw(conn, topic, good_batch("one"), 11)
        assert (first.error_code, first.base_offset) == (wire.ERROR_NONE, 0), first

        bad = produce_raw(conn, topic, corrupt(kind), 12)
        assert bad.error_code == wire.ERROR_CORRUPT_MESSAGE, f"{kind}: {bad}"

        # The connection is still good and the log continues right after the first batch.
        second = produce_raw(conn, topic, good_batch("two"), 13)
        assert (second.error_code, second.base_offset) == (wire.ERROR_NONE, 2), second

    got = consume("confluent", broker.bootstrap, topic, [0], 4)
    assert [(c.offset, c.key, c.value, c.headers, c.timestamp) for c in got] == [
        (0, b"key-one", b"value-one", (("tag", b"one"),), T0),
        (1, None, b"second-one", (), T0 + 7),
        (2, b"key-two", b"value-two", (("tag", b"two"),), T0),
        (3, None, b"second-two", (), T0 + 7),
    ]


def test_produce_truncated_batch_is_refused(broker: Any, topic: str) -> None:
    batch = good_batch("cut")
    with connect(broker) as conn:
        result = produce_raw(conn, topic, batch[:-5], 14)
        assert result.error_code in (wire.ERROR_CORRUPT_MESSAGE, 87), f"truncated batch: {result}"  # 87 INVALID_RECORD
        ok = produce_raw(conn, topic, good_batch("whole"), 15)
        assert (ok.error_code, ok.base_offset) == (wire.ERROR_NONE, 0), ok


def test_produce_to_unknown_topic_raw(broker: Any, topic_name: Any) -> None:
    with connect(broker) as conn:
        result = produce_raw(conn, topic_name("missing"), good_batch("x"), 16)
    assert result.error_code == wire.ERROR_UNKNOWN_TOPIC_OR_PARTITION, result


def test_produce_with_acks_zero_gets_no_response(broker: Any, topic: str) -> None:
    """acks=0: the broker appends and answers nothing, so the next response on the connection is the next
    request's (a broker that answers acks=0 desynchronises every client that pipelines requests)."""
    with connect(broker) as conn:
        conn.send_frame(wire.produce_request_v8(20, topic, 0, good_batch("zero"), acks=0))
        after = produce_raw(conn, topic, good_batch("one"), 21)  # raises if the answer carries id 20
        assert (after.error_code, after.base_offset) == (wire.ERROR_NONE, 2), after
    got = consume("confluent", broker.bootstrap, topic, [0], 4)
    assert [c.value for c in got] == [b"value-zero", b"second-zero", b"value-one", b"second-one"]


def test_pipelined_requests_are_answered_in_order(broker: Any, topic: str) -> None:
    """Several requests written at once on one connection get their responses in request order."""
    requests = [wire.api_versions_request(30, 0), wire.metadata_request_v1(31, [topic]),
                wire.produce_request_v8(32, topic, 0, good_batch("p")), wire.api_versions_request(33, 0)]
    with connect(broker) as conn:
        conn.send_raw(b"".join(wire.frame(r) for r in requests))
        ids = []
        for _ in requests:
            response = conn.recv_frame()
            assert response is not None, "connection closed before every pipelined request was answered"
            ids.append(struct.unpack(">i", response[:4])[0])
    assert ids == [30, 31, 32, 33]
