"""Records written by one client and read by another come back exactly: partition, offset, key, value,
headers (order, duplicates, empty and null values) and timestamps, with every compression codec."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import pytest

from interop_clients import (CLIENTS, CODECS, Consumed, Delivery, Rec, consume, create_topic, end_offsets,
                             kcat_can_carry, kcat_metadata, produce)

PARTITIONS = 2
RECORD_COUNT = 40
BASE_TIMESTAMP_MS = 1_700_000_000_000


def make_records(rng: random.Random, text_only: bool, null_header_values: bool = True) -> list[Rec]:
    """Records that exercise the format: null and empty keys and values, binary bytes, a large compressible
    value, repeated, empty, null and non-ASCII headers, timestamps out of order within a partition.
    With text_only (kcat on either side): printable text, no nulls, one header set per run, client timestamps.
    null_header_values False: for producers that cannot send a header without a value (kafka-python)."""
    records = []
    header_sets: list[tuple[tuple[str, bytes | None], ...]] = [
        (),
        (("trace-id", b"4bf92f3577b34da6"),),
        (("dup", b"1"), ("dup", b"2"), ("empty", b"")),
    ]
    if not text_only:
        header_sets += [(("null-value", None) if null_header_values else ("no-null-value", b"-"),
                         ("\u043a\u043b\u044e\u0447", b"\x00\xff\x7f"))]
    for i in range(RECORD_COUNT):
        partition = i % PARTITIONS
        if text_only:
            key = None if i % 5 == 0 else f"key-{i}".encode()
            value = f"value {i} {rng.randrange(10**9)}".encode()
            if i == 17:
                value = ("large compressible text " * 4000).encode()
            headers = header_sets[(i // PARTITIONS // 4) % len(header_sets)]
            timestamp = None
        else:
            key = None if i % 5 == 0 else (b"" if i % 7 == 0 else bytes([i]) + rng.randbytes(rng.randrange(1, 40)))
            value = None if i % 9 == 4 else (b"" if i % 11 == 3 else rng.randbytes(rng.randrange(1, 300)))
            if i == 17:
                value = b"large compressible bytes \x00\x01" * 4000
            headers = header_sets[i % len(header_sets)]
            timestamp = BASE_TIMESTAMP_MS + (i * 7919) % 100_000  # not monotonic: negative deltas in a batch
        records.append(Rec(partition, key, value, headers, timestamp))
    return records


@dataclass
class Produced:
    topic: str
    records: list[Rec]
    deliveries: list[Delivery]
    sent_after_ms: int
    sent_before_ms: int


@pytest.fixture(scope="module")
def produced_topics() -> dict[tuple[str, str, bool], Produced]:
    """Each (producer, codec, text_only) topic is written once and read by every consumer."""
    return {}


def produced_topic(cache: dict[tuple[str, str, bool], Produced], broker: Any, producer: str, codec: str,
                   text_only: bool) -> Produced:
    key = (producer, codec, text_only)
    if key not in cache:
        topic = f"roundtrip-{producer}-{codec}-{'text' if text_only else 'bytes'}"
        create_topic(broker.bootstrap, topic, PARTITIONS)
        records = make_records(random.Random(f"roundtrip/{producer}/{codec}/{text_only}"), text_only,
                               null_header_values=producer != "kafka-python")
        assert producer != "kcat" or kcat_can_carry(records)
        after = int(time.time() * 1000)
        deliveries = produce(producer, broker.bootstrap, topic, records, codec)
        before = int(time.time() * 1000)
        cache[key] = Produced(topic, records, deliveries, after, before)
    return cache[key]


@pytest.mark.parametrize("consumer", CLIENTS)
@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("producer", CLIENTS)
def test_roundtrip(broker: Any, produced_topics: dict[tuple[str, str, bool], Produced], producer: str, codec: str,
                   consumer: str) -> None:
    text_only = "kcat" in (producer, consumer)
    p = produced_topic(produced_topics, broker, producer, codec, text_only)
    got = consume(consumer, broker.bootstrap, p.topic, list(range(PARTITIONS)), len(p.records))

    # Nothing more than what was produced: the log ends where the records end.
    expected_by_partition = {q: [r for r in p.records if r.partition == q] for q in range(PARTITIONS)}
    assert end_offsets(broker.bootstrap, p.topic, list(range(PARTITIONS))) == {
        q: len(rs) for q, rs in expected_by_partition.items()}
    assert len(got) == len(p.records), f"{consumer} read {len(got)} records, {len(p.records)} were produced"

    for q, expected in expected_by_partition.items():
        actual = [c for c in got if c.partition == q]
        assert [c.offset for c in actual] == list(range(len(expected))), f"offsets of partition {q}"
        for index, (e, c) in enumerate(zip(expected, actual)):
            where = f"partition {q} offset {c.offset} ({producer} -> {consumer}, {codec})"
            assert c.key == e.key, f"key at {where}"
            assert c.value == e.value, f"value at {where}"
            assert c.headers == e.headers, f"headers at {where}"
            assert c.timestamp_type == "create", f"timestamp type at {where}"
            if e.timestamp is not None:
                assert c.timestamp == e.timestamp, f"timestamp at {where}"
            else:
                assert p.sent_after_ms - 1000 <= c.timestamp <= p.sent_before_ms + 1000, f"timestamp at {where}"

    # Where a producer reports offsets, the records are where the broker said they were.
    if p.deliveries:
        position = {(c.partition, c.offset): c for c in got}
        for r, d in zip(p.records, p.deliveries):
            assert d.partition == r.partition
            assert position[(d.partition, d.offset)].value == r.value, f"acknowledged offset {d}"


def test_kcat_metadata(broker: Any, topic_name: Any) -> None:
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 3)
    md = kcat_metadata(broker.bootstrap, topic)
    assert len(md["brokers"]) == 1
    only = md["brokers"][0]
    assert only["name"] == broker.bootstrap
    [t] = [t for t in md["topics"] if t["topic"] == topic]
    assert "error" not in t, t
    assert sorted(p["partition"] for p in t["partitions"]) == [0, 1, 2]
    for p in t["partitions"]:
        assert p["leader"] == only["id"]
        assert [r["id"] for r in p["replicas"]] == [only["id"]]
        assert [r["id"] for r in p["isrs"]] == [only["id"]]
    if not broker.external:
        assert only["id"] == 0, "a single Sluice node is node 0"


def test_kcat_metadata_lists_created_topics(broker: Any, topic_name: Any) -> None:
    topics = [topic_name(f"t{i}") for i in range(3)]
    for i, t in enumerate(topics):
        create_topic(broker.bootstrap, t, i + 1)
    md = kcat_metadata(broker.bootstrap)
    listed = {t["topic"]: len(t["partitions"]) for t in md["topics"]}
    for i, t in enumerate(topics):
        assert listed.get(t) == i + 1, f"{t} in {sorted(listed)}"


@pytest.mark.parametrize("client", ["confluent", "kafka-python", "aiokafka"])
def test_log_append_time_topic(broker: Any, topic_name: Any, client: str) -> None:
    """message.timestamp.type=LogAppendTime: the broker stamps records, whatever the producer sent."""
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 1, {"message.timestamp.type": "LogAppendTime"})
    records = [Rec(0, b"k%d" % i, b"v%d" % i, (), BASE_TIMESTAMP_MS + i) for i in range(5)]
    before = int(time.time() * 1000)
    produce(client, broker.bootstrap, topic, records)
    after = int(time.time() * 1000)
    got: list[Consumed] = consume(client, broker.bootstrap, topic, [0], len(records))
    for c in got:
        assert c.timestamp_type == "log_append", c
        assert before - 1000 <= c.timestamp <= after + 1000, c
    assert [c.value for c in got] == [r.value for r in records]


@pytest.mark.parametrize("client", ["confluent", "kafka-python", "aiokafka"])
def test_fetch_limit_smaller_than_a_batch(broker: Any, topic_name: Any, client: str) -> None:
    """A fetch whose byte limits are smaller than the next batch still returns that whole batch (KIP-74),
    so a consumer with small limits makes progress instead of stalling."""
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 1)
    values = [bytes([i]) * 20_000 for i in range(10)]  # one batch of ~200 KB: linger and no compression
    produce_confluent_batched(broker.bootstrap, topic, values)
    got = consume_with_small_fetches(client, broker.bootstrap, topic, len(values))
    assert [c.value for c in got] == values
    assert [c.offset for c in got] == list(range(len(values)))


def produce_confluent_batched(bootstrap: str, topic: str, values: list[bytes]) -> None:
    from interop_clients import confluent_producer
    producer = confluent_producer(bootstrap, **{"linger.ms": 200, "batch.size": 1_000_000})
    for v in values:
        producer.produce(topic, value=v, partition=0)
    assert producer.flush(30) == 0


def consume_with_small_fetches(client: str, bootstrap: str, topic: str, expected: int) -> list[Consumed]:
    from interop_clients import (_consumed_from_confluent, _consumed_from_kafka_python, aiokafka_common,
                                 confluent_consumer, kafka_python_consumer, run_async)
    deadline = time.monotonic() + 45
    out: list[Consumed] = []
    if client == "confluent":
        from confluent_kafka import OFFSET_BEGINNING, TopicPartition
        consumer = confluent_consumer(bootstrap, **{"fetch.max.bytes": 1024, "max.partition.fetch.bytes": 1024,
                                                    "message.max.bytes": 1000})
        try:
            consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
            while len(out) < expected and time.monotonic() < deadline:
                out += [_consumed_from_confluent(m) for m in consumer.consume(100, 0.5) if m.error() is None]
        finally:
            consumer.close()
    elif client == "kafka-python":
        from kafka import TopicPartition as KTopicPartition
        consumer = kafka_python_consumer(bootstrap, fetch_max_bytes=1024, max_partition_fetch_bytes=1024)
        try:
            tp = KTopicPartition(topic, 0)
            consumer.assign([tp])
            consumer.seek_to_beginning(tp)
            while len(out) < expected and time.monotonic() < deadline:
                for batch in consumer.poll(timeout_ms=500).values():
                    out += [_consumed_from_kafka_python(r) for r in batch]
        finally:
            consumer.close(autocommit=False, timeout_ms=5_000)
    else:
        async def run() -> list[Consumed]:
            from aiokafka import AIOKafkaConsumer, TopicPartition as ATopicPartition
            consumer = AIOKafkaConsumer(**aiokafka_common(bootstrap), group_id=None, enable_auto_commit=False,
                                        fetch_max_bytes=1024, max_partition_fetch_bytes=1024)
            await consumer.start()
            got: list[Consumed] = []
            try:
                tp = ATopicPartition(topic, 0)
                consumer.assign([tp])
                await consumer.seek_to_beginning(tp)
                while len(got) < expected and time.monotonic() < deadline:
                    for batch in (await consumer.getmany(tp, timeout_ms=500)).values():
                        got += [Consumed(r.partition, r.offset, r.key, r.value, tuple(r.headers or ()), r.timestamp,
                                         "create") for r in batch]
            finally:
                await consumer.stop()
            return got
        out = run_async(run(), 60)
    assert len(out) >= expected, f"{client} with 1 KiB fetch limits read {len(out)} of {expected} records"
    return out
