"""The broker's lifecycle and crashes: SIGTERM exits 0 and keeps everything; SIGKILL in the middle of an
acks=all produce stream loses no acknowledged record (each is where it was acknowledged) and, with
idempotence, duplicates none; one data directory admits one broker at a time."""

from __future__ import annotations

import subprocess
from collections import Counter
from typing import Any

import time

import pytest

from interop_broker import BrokerError, SluiceBroker
from interop_clients import (CALL_TIMEOUT_S, Delivery, Rec, confluent_producer, consume, consume_confluent,
                             create_topic, end_offsets, produce_confluent, wait_until)

PARTITIONS = 3


def test_sigterm_exits_zero_and_keeps_data(own_broker: Any, topic_name: Any) -> None:
    topic = topic_name()
    create_topic(own_broker.bootstrap, topic, PARTITIONS)
    records = [Rec(i % PARTITIONS, b"k%d" % i, b"v%d" % i, (("h", b"%d" % i),), 1_700_000_000_000 + i)
               for i in range(300)]
    deliveries = produce_confluent(own_broker.bootstrap, topic, records, "zstd")

    code = own_broker.terminate()
    assert code == 0, f"sluice serve exited {code} on SIGTERM"
    own_broker.start()

    got = consume("confluent", own_broker.bootstrap, topic, list(range(PARTITIONS)), len(records))
    at = {(c.partition, c.offset): c for c in got}
    for r, d in zip(records, deliveries):
        c = at[(d.partition, d.offset)]
        assert (c.key, c.value, c.headers, c.timestamp) == (r.key, r.value, r.headers, r.timestamp)
    assert end_offsets(own_broker.bootstrap, topic, list(range(PARTITIONS))) == {p: 100 for p in range(PARTITIONS)}
    assert own_broker.terminate() == 0


def test_second_broker_on_the_same_data_dir_is_refused(own_broker: Any) -> None:
    second = SluiceBroker(own_broker.binary, own_broker.data_dir, own_broker.log_dir / "second",
                          extra_args=own_broker.extra_args)
    try:
        with pytest.raises(BrokerError, match="exited with code"):
            second.start(timeout_s=20)
    finally:
        second.close()
    assert own_broker.is_running(), "the first broker must keep running"
    text = second.stderr_path.read_text(errors="replace") + second.stdout_path.read_text(errors="replace")
    assert "lock" in text.lower() or "in use" in text.lower() or "already" in text.lower(), \
        f"the refusal should say why:\n{text[-2000:]}"


@pytest.mark.parametrize("idempotence", [True, False], ids=["idempotent", "plain"])
def test_sigkill_during_acks_all_stream(own_broker: Any, topic_name: Any, idempotence: bool) -> None:
    topic = topic_name()
    create_topic(own_broker.bootstrap, topic, PARTITIONS)
    kill_after_acks = 5_000
    in_flight_after_kill = 20_000
    produced_max = 200_000
    acknowledged: list[Delivery] = []
    failed: list[tuple[bytes, str]] = []

    def on_delivery(err: Any, msg: Any) -> None:
        if err is None:
            acknowledged.append(Delivery(msg.partition(), msg.offset(), msg.value()))
        else:
            failed.append((msg.value(), str(err)))

    producer = confluent_producer(own_broker.bootstrap, **{
        "enable.idempotence": idempotence, "acks": "all", "linger.ms": 2, "batch.num.messages": 200,
        "queue.buffering.max.messages": 1_000_000,
        "message.timeout.ms": 120_000, "retry.backoff.ms": 100, "retry.backoff.max.ms": 500})

    def produce(index: int) -> None:
        value = f"{index % PARTITIONS}:{index // PARTITIONS:07d}".encode()
        while True:
            try:
                producer.produce(topic, value=value, partition=index % PARTITIONS, on_delivery=on_delivery)
                return
            except BufferError:
                producer.poll(0.05)

    # Produce until enough records are acknowledged, then kill at once: whatever was produced after
    # them is queued or in flight, however fast the broker is.
    produced = 0
    deadline = time.monotonic() + 60
    while len(acknowledged) < kill_after_acks:
        assert time.monotonic() < deadline, f"only {len(acknowledged)} acknowledgements in 60 s"
        if produced < produced_max:
            produce(produced)
            produced += 1
            producer.poll(0)
        else:
            producer.poll(0.01)
    own_broker.kill()
    acknowledged_before_kill = len(acknowledged)
    for index in range(produced, produced + in_flight_after_kill):
        produce(index)
    total = produced + in_flight_after_kill
    assert acknowledged_before_kill < total, "everything was acknowledged before the kill: nothing was in flight"
    own_broker.start()
    remaining = producer.flush(120)
    assert remaining == 0, f"{remaining} records neither acknowledged nor failed 120 s after the restart"

    ends = end_offsets(own_broker.bootstrap, topic, list(range(PARTITIONS)))
    got = consume_confluent(own_broker.bootstrap, topic, list(range(PARTITIONS)), sum(ends.values()), timeout_s=90)
    at = {(c.partition, c.offset): c.value for c in got}
    misplaced = [d for d in acknowledged if at.get((d.partition, d.offset)) != d.value]
    assert not misplaced, (f"{len(misplaced)} of {len(acknowledged)} acknowledged records are not where they were "
                           f"acknowledged, e.g. {[(d, at.get((d.partition, d.offset))) for d in misplaced[:5]]}")
    counts = Counter(c.value for c in got)
    if idempotence:
        duplicated = [v for v, n in counts.items() if n > 1]
        assert not duplicated, f"{len(duplicated)} values stored more than once, e.g. {duplicated[:5]}"
        assert not failed, f"{len(failed)} deliveries failed with idempotence on, e.g. {failed[:3]}"
        for p in range(PARTITIONS):
            values = [c.value for c in got if c.partition == p]
            assert values == sorted(values), f"partition {p}: order not kept"
    assert len(acknowledged) + len(failed) == total


def test_log_verify_after_crash(own_broker: Any, topic_name: Any) -> None:
    """After a SIGKILL and a recovery, `sluice log verify` finds the data directory consistent."""
    topic = topic_name()
    create_topic(own_broker.bootstrap, topic, PARTITIONS)
    producer = confluent_producer(own_broker.bootstrap, **{"linger.ms": 5})
    for i in range(20_000):
        while True:
            try:
                producer.produce(topic, value=b"x" * 100, partition=i % PARTITIONS)
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(0.5)  # some in flight when the broker dies
    own_broker.kill()
    own_broker.start()
    assert own_broker.terminate() == 0
    verify = subprocess.run([str(own_broker.binary), "log", "verify", "--data-dir", str(own_broker.data_dir)],
                            capture_output=True, timeout=120)
    assert verify.returncode == 0, (f"sluice log verify exited {verify.returncode}\n"
                                    f"{verify.stdout.decode(errors='replace')[-3000:]}\n"
                                    f"{verify.stderr.decode(errors='replace')[-3000:]}")
    own_broker.start()


def test_time_index_and_offsets_survive_sigkill(own_broker: Any, topic_name: Any) -> None:
    """ListOffsets by timestamp answers the same after a SIGKILL (indexes rebuilt or recovered)."""
    from confluent_kafka import TopicPartition
    from interop_clients import confluent_consumer
    topic = topic_name()
    create_topic(own_broker.bootstrap, topic, 1)
    t0 = 1_700_000_000_000
    stamps = [t0 + 1000 * (i // 10) for i in range(2000)]  # ten records per second of event time
    produce_confluent(own_broker.bootstrap, topic, [Rec(0, None, b"%d" % i, (), ts) for i, ts in enumerate(stamps)])

    def by_time() -> dict[int, int]:
        consumer = confluent_consumer(own_broker.bootstrap)
        try:
            out = {}
            for query in (t0 - 1, t0, t0 + 1, t0 + 55_000, t0 + 199_000, t0 + 199_001):
                [tp] = consumer.offsets_for_times([TopicPartition(topic, 0, query)], timeout=15)
                assert tp.error is None, tp.error
                out[query] = tp.offset
            return out
        finally:
            consumer.close()

    before = by_time()
    assert before == {t0 - 1: 0, t0: 0, t0 + 1: 10, t0 + 55_000: 550, t0 + 199_000: 1990, t0 + 199_001: -1}
    own_broker.kill()
    own_broker.start()
    assert by_time() == before
    assert end_offsets(own_broker.bootstrap, topic, [0]) == {0: 2000}


def test_transaction_state_survives_sigkill(own_broker: Any, topic_name: Any) -> None:
    """Committed, aborted and open transactions across a SIGKILL: after the restart read_committed still
    hides the aborted one, the open one holds the last stable offset back until the producer's successor
    (same transactional.id) aborts it, and nothing of it ever becomes visible."""
    from confluent_kafka import IsolationLevel
    from confluent_kafka.admin import OffsetSpec
    from confluent_kafka import TopicPartition
    from interop_clients import confluent_admin
    topic, tid = topic_name(), topic_name("tid")
    create_topic(own_broker.bootstrap, topic, 1)

    def stable_offset(level: Any) -> int:
        admin = confluent_admin(own_broker.bootstrap)
        [f] = admin.list_offsets({TopicPartition(topic, 0): OffsetSpec.latest()}, isolation_level=level,
                                 request_timeout=15).values()
        return f.result(timeout=CALL_TIMEOUT_S).offset

    producer = confluent_producer(own_broker.bootstrap, **{"transactional.id": tid})
    producer.init_transactions(CALL_TIMEOUT_S)
    for name, action in (("committed", "commit"), ("aborted", "abort"), ("open", None)):
        producer.begin_transaction()
        for i in range(3):
            producer.produce(topic, value=f"{name}-{i}".encode(), partition=0)
        assert producer.flush(CALL_TIMEOUT_S) == 0
        if action == "commit":
            producer.commit_transaction(CALL_TIMEOUT_S)
        elif action == "abort":
            producer.abort_transaction(CALL_TIMEOUT_S)
    # log: committed 0-2, marker 3, aborted 4-6, marker 7, open 8-10
    assert stable_offset(IsolationLevel.READ_COMMITTED) == 8
    own_broker.kill()
    own_broker.start()

    assert stable_offset(IsolationLevel.READ_UNCOMMITTED) == 11
    assert stable_offset(IsolationLevel.READ_COMMITTED) == 8, "the open transaction still holds the LSO back"
    successor = confluent_producer(own_broker.bootstrap, **{"transactional.id": tid})
    successor.init_transactions(CALL_TIMEOUT_S)  # aborts the open transaction of its predecessor
    wait_until(lambda: stable_offset(IsolationLevel.READ_COMMITTED) == 12, 30, "LSO past the abort marker")
    successor.begin_transaction()
    successor.produce(topic, value=b"successor-0", partition=0)
    successor.commit_transaction(CALL_TIMEOUT_S)

    got = consume("confluent", own_broker.bootstrap, topic, [0], 4, "read_committed")
    assert [c.value for c in got] == [b"committed-0", b"committed-1", b"committed-2", b"successor-0"]
    raw = consume("confluent", own_broker.bootstrap, topic, [0], 10, "read_uncommitted")
    assert [c.value for c in raw][:9] == [f"{n}-{i}".encode() for n in ("committed", "aborted", "open")
                                          for i in range(3)]
