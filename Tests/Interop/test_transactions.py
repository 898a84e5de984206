"""Transactions: committed records are visible to read_committed consumers and aborted ones never are,
read_uncommitted sees both; open transactions hold back the last stable offset; consume-transform-produce
commits the group's offsets with the output; a new producer with the same transactional.id fences the old."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from interop_clients import (CALL_TIMEOUT_S, Rec, bounded, confluent_admin, confluent_consumer, confluent_producer,
                             consume, create_topic, kafka_python_producer, aiokafka_common, run_async, wait_until)

PARTITIONS = 2
# A maximum the tests can exceed on purpose (Kafka's default is 15 minutes).
TRANSACTION_TIMEOUT_MAX_MS = 300_000
pytestmark = pytest.mark.broker_args("--transaction-timeout-max-ms", str(TRANSACTION_TIMEOUT_MAX_MS))


def txn_records(name: str, count: int) -> list[Rec]:
    return [Rec(i % PARTITIONS, f"{name}-key".encode(), f"{name}-{i}".encode(), (("txn", name.encode()),))
            for i in range(count)]


# -- one transactional producer per client: run(transactions) where transactions = [(records, commit?)] --

def transact_confluent(bootstrap: str, topic: str, tid: str, transactions: list[tuple[list[Rec], bool]]) -> None:
    producer = confluent_producer(bootstrap, **{"transactional.id": tid})
    producer.init_transactions(CALL_TIMEOUT_S)
    for records, commit in transactions:
        producer.begin_transaction()
        for r in records:
            producer.produce(topic, value=r.value, key=r.key, partition=r.partition, headers=list(r.headers))
        if commit:
            producer.commit_transaction(CALL_TIMEOUT_S)
        else:
            assert producer.flush(CALL_TIMEOUT_S) == 0  # the aborted records really reach the log first
            producer.abort_transaction(CALL_TIMEOUT_S)


def transact_kafka_python(bootstrap: str, topic: str, tid: str, transactions: list[tuple[list[Rec], bool]]) -> None:
    producer = kafka_python_producer(bootstrap, transactional_id=tid)
    try:
        producer.init_transactions()
        for records, commit in transactions:
            producer.begin_transaction()
            futures = [producer.send(topic, value=r.value, key=r.key, partition=r.partition, headers=list(r.headers))
                       for r in records]
            if commit:
                bounded(producer.commit_transaction, what="kafka-python commit_transaction")
            else:
                for f in futures:
                    f.get(timeout=CALL_TIMEOUT_S)
                bounded(producer.abort_transaction, what="kafka-python abort_transaction")
    finally:
        producer.close(timeout=10)


def transact_aiokafka(bootstrap: str, topic: str, tid: str, transactions: list[tuple[list[Rec], bool]]) -> None:
    async def run() -> None:
        from aiokafka import AIOKafkaProducer
        producer = AIOKafkaProducer(**aiokafka_common(bootstrap), transactional_id=tid, enable_idempotence=True)
        await producer.start()
        try:
            for records, commit in transactions:
                await producer.begin_transaction()
                futures = [await producer.send(topic, value=r.value, key=r.key, partition=r.partition,
                                               headers=list(r.headers)) for r in records]
                await asyncio.gather(*futures)
                if commit:
                    await producer.commit_transaction()
                else:
                    await producer.abort_transaction()
        finally:
            await producer.stop()
    run_async(run(), 60)


TRANSACTORS = {"confluent": transact_confluent, "kafka-python": transact_kafka_python,
               "aiokafka": transact_aiokafka}


def values_by_partition(records: list[Any]) -> dict[int, list[bytes | None]]:
    out: dict[int, list[bytes | None]] = {p: [] for p in range(PARTITIONS)}
    for r in records:
        out[r.partition].append(r.value)
    return out


def list_offsets(bootstrap: str, topic: str, partitions: list[int], committed: bool) -> dict[int, int]:
    """ListOffsets(latest): the high watermark, or with read_committed the last stable offset."""
    from confluent_kafka import IsolationLevel, TopicPartition
    from confluent_kafka.admin import OffsetSpec
    admin = confluent_admin(bootstrap)
    level = IsolationLevel.READ_COMMITTED if committed else IsolationLevel.READ_UNCOMMITTED
    futures = admin.list_offsets({TopicPartition(topic, p): OffsetSpec.latest() for p in partitions},
                                 isolation_level=level, request_timeout=15)
    return {tp.partition: f.result(timeout=CALL_TIMEOUT_S).offset for tp, f in futures.items()}


@pytest.fixture(scope="module")
def transacted_topics() -> dict[str, str]:
    return {}


def transacted_topic(cache: dict[str, str], broker: Any, producer: str) -> str:
    """A topic written by `producer` as: commit A (10), abort B (10), commit C (10). Written once per module."""
    if producer not in cache:
        topic = f"txn-{producer}"
        create_topic(broker.bootstrap, topic, PARTITIONS)
        TRANSACTORS[producer](broker.bootstrap, topic, f"tid-{topic}",
                              [(txn_records("A", 10), True), (txn_records("B", 10), False),
                               (txn_records("C", 10), True)])
        cache[producer] = topic
    return cache[producer]


@pytest.mark.parametrize("consumer", ["confluent", "kafka-python", "aiokafka", "kcat"])
@pytest.mark.parametrize("producer", list(TRANSACTORS))
def test_committed_visible_aborted_never(broker: Any, transacted_topics: dict[str, str], producer: str,
                                         consumer: str) -> None:
    topic = transacted_topic(transacted_topics, broker, producer)
    committed = values_by_partition(txn_records("A", 10) + txn_records("C", 10))
    everything = values_by_partition(txn_records("A", 10) + txn_records("B", 10) + txn_records("C", 10))

    read_committed = consume(consumer, broker.bootstrap, topic, list(range(PARTITIONS)), 20, "read_committed")
    assert values_by_partition(read_committed) == committed, "read_committed must see A and C only, in order"

    read_uncommitted = consume(consumer, broker.bootstrap, topic, list(range(PARTITIONS)), 30, "read_uncommitted")
    assert values_by_partition(read_uncommitted) == everything, "read_uncommitted sees A, B and C"
    for r in read_uncommitted:
        assert r.headers == (("txn", r.value.split(b"-")[0]),)

    # Each partition: 5 records per transaction plus one control record (commit or abort marker) each.
    assert list_offsets(broker.bootstrap, topic, list(range(PARTITIONS)), committed=False) == {0: 18, 1: 18}
    assert list_offsets(broker.bootstrap, topic, list(range(PARTITIONS)), committed=True) == {0: 18, 1: 18}
    offsets = [r.offset for r in read_uncommitted if r.partition == 0]
    assert offsets == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16], "control records take one offset each"


def test_open_transaction_holds_back_last_stable_offset(broker: Any, topic_name: Any) -> None:
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 1)
    txn = confluent_producer(broker.bootstrap, **{"transactional.id": topic_name("tid")})
    txn.init_transactions(CALL_TIMEOUT_S)
    txn.begin_transaction()
    for i in range(5):
        txn.produce(topic, value=f"txn-{i}".encode(), partition=0)
    assert txn.flush(CALL_TIMEOUT_S) == 0
    plain = confluent_producer(broker.bootstrap)
    for i in range(3):
        plain.produce(topic, value=f"plain-{i}".encode(), partition=0)
    assert plain.flush(CALL_TIMEOUT_S) == 0

    assert list_offsets(broker.bootstrap, topic, [0], committed=False) == {0: 8}
    assert list_offsets(broker.bootstrap, topic, [0], committed=True) == {0: 0}, \
        "the last stable offset stops at the first record of the open transaction"

    txn.commit_transaction(CALL_TIMEOUT_S)
    assert list_offsets(broker.bootstrap, topic, [0], committed=False) == {0: 9}
    assert list_offsets(broker.bootstrap, topic, [0], committed=True) == {0: 9}
    got = consume("confluent", broker.bootstrap, topic, [0], 8, "read_committed")
    assert [c.value for c in got] == [f"txn-{i}".encode() for i in range(5)] + [f"plain-{i}".encode()
                                                                                  for i in range(3)]


def committed_offset(bootstrap: str, group: str, topic: str) -> int:
    """The group's committed offset of partition 0, without requiring stability (pending ones not shown)."""
    from confluent_kafka import TopicPartition
    consumer = confluent_consumer(bootstrap, group_id=group, **{"isolation.level": "read_uncommitted"})
    try:
        [tp] = consumer.committed([TopicPartition(topic, 0)], timeout=15)
        assert tp.error is None, tp.error
        return tp.offset
    finally:
        consumer.close()


def test_consume_transform_produce(broker: Any, topic_name: Any) -> None:
    from confluent_kafka import TopicPartition
    source, sink, group = topic_name("in"), topic_name("out"), topic_name("group")
    create_topic(broker.bootstrap, source, 1)
    create_topic(broker.bootstrap, sink, 1)
    plain = confluent_producer(broker.bootstrap)
    for i in range(30):
        plain.produce(source, value=f"{i}".encode(), partition=0)
    assert plain.flush(CALL_TIMEOUT_S) == 0

    consumer = confluent_consumer(broker.bootstrap, group_id=group, **{"isolation.level": "read_committed"})
    producer = confluent_producer(broker.bootstrap, **{"transactional.id": topic_name("tid")})
    producer.init_transactions(CALL_TIMEOUT_S)
    consumer.subscribe([source])

    def take(count: int) -> list[Any]:
        msgs: list[Any] = []
        deadline = time.monotonic() + 60
        while len(msgs) < count:
            assert time.monotonic() < deadline, f"only {len(msgs)} of {count} input records within 60 s"
            msgs += [m for m in consumer.consume(count - len(msgs), 0.2) if m.error() is None]
        return msgs

    def transform(msgs: list[Any], commit: bool, committed_before: int) -> None:
        producer.begin_transaction()
        for m in msgs:
            producer.produce(sink, value=b"out-" + m.value(), partition=0)
        position = [TopicPartition(source, 0, msgs[-1].offset() + 1)]
        producer.send_offsets_to_transaction(position, consumer.consumer_group_metadata(), CALL_TIMEOUT_S)
        assert producer.flush(CALL_TIMEOUT_S) == 0
        # Offsets sent within an open transaction are not committed yet.
        assert committed_offset(broker.bootstrap, group, source) == committed_before
        if commit:
            producer.commit_transaction(CALL_TIMEOUT_S)
        else:
            producer.abort_transaction(CALL_TIMEOUT_S)

    try:
        nothing = -1001  # librdkafka's OFFSET_INVALID: nothing committed yet
        assert committed_offset(broker.bootstrap, group, source) == nothing
        first = take(10)
        assert [m.offset() for m in first] == list(range(10))
        transform(first, commit=True, committed_before=nothing)
        assert committed_offset(broker.bootstrap, group, source) == 10

        second = take(10)
        assert [m.offset() for m in second] == list(range(10, 20))
        transform(second, commit=False, committed_before=10)
        assert committed_offset(broker.bootstrap, group, source) == 10, "an aborted transaction commits no offsets"

        consumer.seek(TopicPartition(source, 0, 10))  # what an application does after an abort
        again = take(10)
        assert [m.offset() for m in again] == list(range(10, 20))
        transform(again, commit=True, committed_before=10)
        assert committed_offset(broker.bootstrap, group, source) == 20
        transform(take(10), commit=True, committed_before=20)
        assert committed_offset(broker.bootstrap, group, source) == 30
    finally:
        consumer.close()

    out = consume("confluent", broker.bootstrap, sink, [0], 30, "read_committed")
    assert [c.value for c in out] == [f"out-{i}".encode() for i in range(30)]
    raw = consume("confluent", broker.bootstrap, sink, [0], 40, "read_uncommitted")
    assert [c.value for c in raw] == [f"out-{i}".encode() for i in list(range(20)) + list(range(10, 30))]


def test_new_producer_with_same_transactional_id_fences_the_old(broker: Any, topic_name: Any) -> None:
    from confluent_kafka import KafkaError, KafkaException
    topic = topic_name()
    tid = topic_name("tid")
    create_topic(broker.bootstrap, topic, 1)
    old = confluent_producer(broker.bootstrap, **{"transactional.id": tid})
    old.init_transactions(CALL_TIMEOUT_S)
    old.begin_transaction()
    for i in range(3):
        old.produce(topic, value=f"old-{i}".encode(), partition=0)
    assert old.flush(CALL_TIMEOUT_S) == 0

    new = confluent_producer(broker.bootstrap, **{"transactional.id": tid})
    new.init_transactions(CALL_TIMEOUT_S)  # aborts the old producer's open transaction and bumps the epoch

    # The old producer learns it is fenced at its next request: the late record or the commit fails.
    with pytest.raises(KafkaException) as fenced:
        old.produce(topic, value=b"old-late", partition=0)
        old.commit_transaction(CALL_TIMEOUT_S)
    error = fenced.value.args[0]
    assert error.fatal() or error.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                                              KafkaError.INVALID_PRODUCER_EPOCH), error

    new.begin_transaction()
    for i in range(2):
        new.produce(topic, value=f"new-{i}".encode(), partition=0)
    new.commit_transaction(CALL_TIMEOUT_S)

    committed = consume("confluent", broker.bootstrap, topic, [0], 2, "read_committed")
    assert [c.value for c in committed] == [b"new-0", b"new-1"]
    everything = consume("confluent", broker.bootstrap, topic, [0], 5, "read_uncommitted")
    assert [c.value for c in everything] == [b"old-0", b"old-1", b"old-2", b"new-0", b"new-1"], \
        "the fenced producer's late record must not be appended"


def test_transaction_timeout_above_broker_maximum_is_refused(broker: Any, topic_name: Any) -> None:
    from confluent_kafka import KafkaError, KafkaException
    producer = confluent_producer(broker.bootstrap, **{"transactional.id": topic_name("tid"),
                                                       "transaction.timeout.ms": TRANSACTION_TIMEOUT_MAX_MS + 1000})
    with pytest.raises(KafkaException) as refused:
        producer.init_transactions(CALL_TIMEOUT_S)
    assert refused.value.args[0].code() == KafkaError.INVALID_TRANSACTION_TIMEOUT, refused.value


def test_broker_aborts_a_transaction_that_times_out(broker: Any, topic_name: Any) -> None:
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 1)
    producer = confluent_producer(broker.bootstrap, **{"transactional.id": topic_name("tid"),
                                                       "transaction.timeout.ms": 2000, "socket.timeout.ms": 2000,
                                                       "message.timeout.ms": 2000})
    producer.init_transactions(CALL_TIMEOUT_S)
    producer.begin_transaction()
    producer.produce(topic, value=b"never-committed", partition=0)
    assert producer.flush(CALL_TIMEOUT_S) == 0
    assert list_offsets(broker.bootstrap, topic, [0], committed=True) == {0: 0}
    # The coordinator aborts it on its own: an abort marker follows and the stable offset moves past it.
    wait_until(lambda: list_offsets(broker.bootstrap, topic, [0], committed=True) == {0: 2}, 90,
               "the broker to abort the timed-out transaction (LSO 2)")
    plain = confluent_producer(broker.bootstrap)
    plain.produce(topic, value=b"after", partition=0)
    assert plain.flush(CALL_TIMEOUT_S) == 0
    got = consume("confluent", broker.bootstrap, topic, [0], 1, "read_committed")
    assert [c.value for c in got] == [b"after"]
