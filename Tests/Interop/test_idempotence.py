"""Idempotent producers: many records in many in-flight batches land once each, in order per partition,
also when the client retries requests that the broker had already appended (a stalled broker)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from interop_clients import (Consumed, Delivery, Rec, confluent_producer, consume_confluent,
                             create_topic, end_offsets, produce_aiokafka, produce_confluent, produce_kafka_python,
                             wait_until)

PARTITIONS = 3


def sequenced(count: int) -> list[Rec]:
    return [Rec(i % PARTITIONS, None, f"{i % PARTITIONS}:{i // PARTITIONS:07d}".encode()) for i in range(count)]


def assert_log_is_exactly(bootstrap: str, topic: str, records: list[Rec]) -> list[Consumed]:
    """Every partition holds its records once, in the order produced, at offsets 0..n-1, and nothing else."""
    expected = {p: [r.value for r in records if r.partition == p] for p in range(PARTITIONS)}
    ends = end_offsets(bootstrap, topic, list(range(PARTITIONS)))
    got = consume_confluent(bootstrap, topic, list(range(PARTITIONS)), sum(ends.values()), timeout_s=90)
    for p in range(PARTITIONS):
        values = [c.value for c in got if c.partition == p]
        assert [c.offset for c in got if c.partition == p] == list(range(len(values)))
        if values != expected[p]:
            raise AssertionError(f"partition {p}: {describe_difference(values, expected[p])}")
    assert ends == {p: len(v) for p, v in expected.items()}
    return got


def describe_difference(values: list[bytes | None], expected: list[bytes | None]) -> str:
    duplicated = [v for v, n in Counter(values).items() if n > 1]
    missing = set(expected) - set(values)
    first = next((i for i, (a, b) in enumerate(zip(values, expected)) if a != b), min(len(values), len(expected)))
    return (f"{len(values)} records where {len(expected)} were produced; {len(duplicated)} values duplicated "
            f"(e.g. {duplicated[:5]}), {len(missing)} missing (e.g. {sorted(missing)[:5]}); first difference at "
            f"offset {first}: {values[first:first + 3]} vs {expected[first:first + 3]}")


def assert_deliveries_match(deliveries: list[Delivery], got: list[Consumed]) -> None:
    at = {(c.partition, c.offset): c.value for c in got}
    for d in deliveries:
        stored = at.get((d.partition, d.offset))
        assert stored == d.value, f"acknowledged {d} but the log holds {stored!r}"


@pytest.mark.parametrize("client", ["confluent", "kafka-python", "aiokafka"])
def test_idempotent_producer_many_batches(broker: Any, topic_name: Any, client: str) -> None:
    topic = topic_name()
    create_topic(broker.bootstrap, topic, PARTITIONS)
    records = sequenced(6000)
    if client == "confluent":
        deliveries = produce_confluent(broker.bootstrap, topic, records, "lz4", **{
            "enable.idempotence": True, "linger.ms": 1, "batch.num.messages": 50,
            "max.in.flight.requests.per.connection": 5})
    elif client == "kafka-python":
        deliveries = produce_kafka_python(broker.bootstrap, topic, records, "lz4", enable_idempotence=True,
                                          batch_size=2048, linger_ms=1, max_in_flight_requests_per_connection=5)
    else:
        deliveries = produce_aiokafka(broker.bootstrap, topic, records, "lz4", enable_idempotence=True,
                                      max_batch_size=2048, linger_ms=1)
    got = assert_log_is_exactly(broker.bootstrap, topic, records)
    assert len(deliveries) == len(records)
    assert_deliveries_match(deliveries, got)


def test_idempotent_producer_retries_into_a_stalled_broker(own_broker: Any, topic_name: Any) -> None:
    """The broker is stopped (SIGSTOP) with requests in flight; the client times them out and retries
    them on a new connection; when the broker resumes, it may see each batch twice and must keep one."""
    topic = topic_name()
    create_topic(own_broker.bootstrap, topic, PARTITIONS)
    records = sequenced(12000)
    timeouts = {"count": 0}

    def on_stats(raw: str) -> None:
        stats = json.loads(raw)
        timeouts["count"] = sum(b.get("req_timeouts", 0) for b in stats.get("brokers", {}).values())

    deliveries: list[Delivery] = []
    errors: list[str] = []

    def on_delivery(err: Any, msg: Any) -> None:
        if err is not None:
            errors.append(str(err))
        else:
            deliveries.append(Delivery(msg.partition(), msg.offset(), msg.value()))

    producer = confluent_producer(own_broker.bootstrap, **{
        "enable.idempotence": True, "linger.ms": 1, "batch.num.messages": 100, "request.timeout.ms": 1500,
        "message.timeout.ms": 90_000, "statistics.interval.ms": 100, "stats_cb": on_stats,
        "retry.backoff.ms": 100})
    paused = False
    try:
        for i, r in enumerate(records):
            if i == len(records) // 3:
                wait_until(lambda: producer.poll(0.05) is not None and len(deliveries) >= 1000, 30,
                           "1000 acknowledged records before the stall")
                own_broker.pause()
                paused = True
            if i == 2 * len(records) // 3 and paused:
                wait_until(lambda: producer.poll(0.05) is not None and timeouts["count"] > 0, 30,
                           "the client to time out a request to the stalled broker")
                own_broker.resume()
                paused = False
            while True:
                try:
                    producer.produce(topic, value=r.value, partition=r.partition, on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
        assert producer.flush(90) == 0, "records still undelivered 90 s after the broker resumed"
    finally:
        if paused:
            own_broker.resume()
    assert not errors, f"delivery errors: {errors[:5]}"
    assert timeouts["count"] > 0
    got = assert_log_is_exactly(own_broker.bootstrap, topic, records)
    assert_deliveries_match(deliveries, got)
