"""The four Kafka clients behind one small interface, so that each test can be run over every client.

A record is what a producer sends (`Rec`) and what a consumer sees (`Consumed`), with keys, values and
header values as bytes (or None) and timestamps in milliseconds. Every call is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, TypeVar

T = TypeVar("T")

CLIENTS = ["confluent", "kafka-python", "aiokafka", "kcat"]
PYTHON_CLIENTS = ["confluent", "kafka-python", "aiokafka"]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]

CALL_TIMEOUT_S = 30.0
CONSUME_TIMEOUT_S = 45.0
KCAT = os.environ.get("KCAT") or shutil.which("kcat") or "/usr/bin/kcat"


@dataclass(frozen=True)
class Rec:
    """A record to produce. timestamp None: the client stamps it (CreateTime = now)."""
    partition: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    timestamp: int | None = None


@dataclass(frozen=True)
class Consumed:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    timestamp: int
    timestamp_type: str  # "create" or "log_append"

    def content(self) -> tuple[Any, ...]:
        return (self.partition, self.key, self.value, self.headers)


@dataclass
class Delivery:
    """An acknowledged record: where the broker said it put it."""
    partition: int
    offset: int
    value: bytes | None


def bounded(fn: Callable[[], T], timeout_s: float = CALL_TIMEOUT_S, what: str = "client call") -> T:
    """Run a blocking call that has no timeout of its own in a helper thread; give up after timeout_s."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the caller
            result["error"] = e

    thread = threading.Thread(target=run, name=f"bounded-{what}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise TimeoutError(f"{what} did not return within {timeout_s} s")
    if "error" in result:
        raise result["error"]
    return result["value"]


def run_async(coro: Any, timeout_s: float = CONSUME_TIMEOUT_S) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def wait_until(predicate: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.1) -> Any:
    """Poll until predicate() is truthy and return its value; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last_error = e
        if time.monotonic() > deadline:
            suffix = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}{suffix}")
        time.sleep(interval_s)


# ----------------------------------------------------------------------------------------------------
# confluent-kafka (librdkafka)
# ----------------------------------------------------------------------------------------------------

def confluent_base(bootstrap: str, **extra: Any) -> dict[str, Any]:
    conf = {
        "bootstrap.servers": bootstrap,
        "socket.timeout.ms": 10_000,
        "broker.address.family": "v4",
        "topic.metadata.refresh.interval.ms": 5_000,
        "reconnect.backoff.max.ms": 1_000,
    }
    conf.update(extra)
    return conf


def confluent_producer(bootstrap: str, **extra: Any) -> Any:
    from confluent_kafka import Producer
    conf = confluent_base(bootstrap, **{"acks": "all", "linger.ms": 5, "message.timeout.ms": 30_000})
    conf.update(extra)
    return Producer(conf)


def confluent_consumer(bootstrap: str, group_id: str = "interop-reader", **extra: Any) -> Any:
    from confluent_kafka import Consumer
    conf = confluent_base(bootstrap, **{
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 10_000,
        "heartbeat.interval.ms": 1_000,
        "enable.partition.eof": False,
    })
    conf.update(extra)
    return Consumer(conf)


def confluent_admin(bootstrap: str) -> Any:
    from confluent_kafka.admin import AdminClient
    return AdminClient(confluent_base(bootstrap))


def _confluent_headers(headers: Iterable[tuple[str, bytes | None]]) -> list[tuple[str, bytes | None]] | None:
    headers = list(headers)
    return headers or None


def produce_confluent(bootstrap: str, topic: str, records: list[Rec], compression: str = "none",
                      **extra: Any) -> list[Delivery]:
    producer = confluent_producer(bootstrap, **{"compression.type": compression}, **extra)
    deliveries: list[Delivery | None] = [None] * len(records)
    errors: list[str] = []

    def on_delivery(index: int) -> Callable[[Any, Any], None]:
        def callback(err: Any, msg: Any) -> None:
            if err is not None:
                errors.append(f"record {index}: {err}")
            else:
                deliveries[index] = Delivery(msg.partition(), msg.offset(), msg.value())
        return callback

    for i, r in enumerate(records):
        kwargs: dict[str, Any] = {"value": r.value, "key": r.key, "partition": r.partition,
                                  "on_delivery": on_delivery(i)}
        if r.headers:
            kwargs["headers"] = list(r.headers)
        if r.timestamp is not None:
            kwargs["timestamp"] = r.timestamp
        while True:
            try:
                producer.produce(topic, **kwargs)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(CALL_TIMEOUT_S)
    assert remaining == 0, f"confluent producer: {remaining} records not delivered within {CALL_TIMEOUT_S} s"
    assert not errors, f"confluent producer delivery errors: {errors[:5]}"
    return [d for d in deliveries if d is not None]


def _consumed_from_confluent(msg: Any) -> Consumed:
    ts_type, ts = msg.timestamp()
    from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME
    return Consumed(msg.partition(), msg.offset(), msg.key(), msg.value(), tuple(msg.headers() or ()), ts,
                    "log_append" if ts_type == TIMESTAMP_LOG_APPEND_TIME else "create")


def consume_confluent(bootstrap: str, topic: str, partitions: list[int], expected: int,
                      isolation: str = "read_uncommitted", timeout_s: float = CONSUME_TIMEOUT_S) -> list[Consumed]:
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition
    consumer = confluent_consumer(bootstrap, **{"isolation.level": isolation})
    out: list[Consumed] = []
    positions: dict[int, int] = {}
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout_s
        while len(out) < expected and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=500, timeout=0.5):
                if msg.error() is not None:
                    raise AssertionError(f"confluent consumer error: {msg.error()}")
                out.append(_consumed_from_confluent(msg))
        if len(out) < expected:
            positions = {tp.partition: tp.offset for tp in consumer.position(
                [TopicPartition(topic, p) for p in partitions])}
    finally:
        consumer.close()
    return _check_count("confluent", out, expected, positions)


# ----------------------------------------------------------------------------------------------------
# kafka-python
# ----------------------------------------------------------------------------------------------------

def kafka_python_common(bootstrap: str) -> dict[str, Any]:
    return {"bootstrap_servers": bootstrap, "request_timeout_ms": 20_000, "bootstrap_timeout_ms": 10_000,
            "reconnect_backoff_max_ms": 1_000}


def kafka_python_producer(bootstrap: str, **extra: Any) -> Any:
    from kafka import KafkaProducer
    conf = kafka_python_common(bootstrap)
    conf.update({"acks": "all", "linger_ms": 5, "max_block_ms": 20_000, "delivery_timeout_ms": 30_000})
    conf.update(extra)
    return KafkaProducer(**conf)


def kafka_python_consumer(bootstrap: str, **extra: Any) -> Any:
    from kafka import KafkaConsumer
    conf = kafka_python_common(bootstrap)
    conf.update({"enable_auto_commit": False, "auto_offset_reset": "earliest", "group_id": None,
                 "session_timeout_ms": 10_000, "heartbeat_interval_ms": 1_000})
    conf.update(extra)
    return KafkaConsumer(**conf)


def kafka_python_admin(bootstrap: str) -> Any:
    from kafka.admin import KafkaAdminClient
    return KafkaAdminClient(**kafka_python_common(bootstrap))


def produce_kafka_python(bootstrap: str, topic: str, records: list[Rec], compression: str = "none",
                         **extra: Any) -> list[Delivery]:
    producer = kafka_python_producer(bootstrap, compression_type=None if compression == "none" else compression,
                                     **extra)
    try:
        futures = [producer.send(topic, value=r.value, key=r.key, partition=r.partition,
                                 headers=list(r.headers) or None, timestamp_ms=r.timestamp) for r in records]
        producer.flush(timeout=CALL_TIMEOUT_S)
        out = []
        for r, f in zip(records, futures):
            md = f.get(timeout=CALL_TIMEOUT_S)
            out.append(Delivery(md.partition, md.offset, r.value))
        return out
    finally:
        producer.close(timeout=10)


def _consumed_from_kafka_python(rec: Any) -> Consumed:
    return Consumed(rec.partition, rec.offset, rec.key, rec.value, tuple((k, v) for k, v in (rec.headers or ())),
                    rec.timestamp, "log_append" if rec.timestamp_type == 1 else "create")


def consume_kafka_python(bootstrap: str, topic: str, partitions: list[int], expected: int,
                         isolation: str = "read_uncommitted", timeout_s: float = CONSUME_TIMEOUT_S) -> list[Consumed]:
    from kafka import TopicPartition
    consumer = kafka_python_consumer(bootstrap, isolation_level=isolation)
    out: list[Consumed] = []
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        while len(out) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500, max_records=1000).values():
                out.extend(_consumed_from_kafka_python(r) for r in batch)
        positions = {} if len(out) >= expected else {tp.partition: consumer.position(tp, timeout_ms=5_000)
                                                     for tp in tps}
    finally:
        consumer.close(autocommit=False, timeout_ms=5_000)
    return _check_count("kafka-python", out, expected, positions)


# ----------------------------------------------------------------------------------------------------
# aiokafka
# ----------------------------------------------------------------------------------------------------

def aiokafka_common(bootstrap: str) -> dict[str, Any]:
    return {"bootstrap_servers": bootstrap, "request_timeout_ms": 20_000, "retry_backoff_ms": 100}


async def _produce_aiokafka(bootstrap: str, topic: str, records: list[Rec], compression: str,
                            extra: dict[str, Any]) -> list[Delivery]:
    from aiokafka import AIOKafkaProducer
    conf = aiokafka_common(bootstrap)
    conf.update({"acks": "all", "linger_ms": 5, "compression_type": None if compression == "none" else compression})
    conf.update(extra)
    producer = AIOKafkaProducer(**conf)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=r.value, key=r.key, partition=r.partition,
                                       headers=list(r.headers) or None, timestamp_ms=r.timestamp) for r in records]
        metadata = await asyncio.gather(*futures)
        return [Delivery(md.partition, md.offset, r.value) for r, md in zip(records, metadata)]
    finally:
        await producer.stop()


def produce_aiokafka(bootstrap: str, topic: str, records: list[Rec], compression: str = "none",
                     **extra: Any) -> list[Delivery]:
    return run_async(_produce_aiokafka(bootstrap, topic, records, compression, extra))


async def _consume_aiokafka(bootstrap: str, topic: str, partitions: list[int], expected: int, isolation: str,
                            timeout_s: float, positions: dict[int, int]) -> list[Consumed]:
    from aiokafka import AIOKafkaConsumer, TopicPartition
    consumer = AIOKafkaConsumer(**aiokafka_common(bootstrap), group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", isolation_level=isolation)
    await consumer.start()
    out: list[Consumed] = []
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        while len(out) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(*tps, timeout_ms=500, max_records=1000)
            for batch in batches.values():
                for r in batch:
                    out.append(Consumed(r.partition, r.offset, r.key, r.value,
                                        tuple((k, v) for k, v in (r.headers or ())), r.timestamp,
                                        "log_append" if r.timestamp_type == 1 else "create"))
        if len(out) < expected:
            positions.update({tp.partition: await consumer.position(tp) for tp in tps})
    finally:
        await consumer.stop()
    return out


def consume_aiokafka(bootstrap: str, topic: str, partitions: list[int], expected: int,
                     isolation: str = "read_uncommitted", timeout_s: float = CONSUME_TIMEOUT_S) -> list[Consumed]:
    positions: dict[int, int] = {}
    out = run_async(_consume_aiokafka(bootstrap, topic, partitions, expected, isolation, timeout_s, positions),
                    timeout_s + 20)
    return _check_count("aiokafka", out, expected, positions)


# ----------------------------------------------------------------------------------------------------
# kcat (librdkafka through its command line): text records only, one header set per run, no timestamps
# ----------------------------------------------------------------------------------------------------

KCAT_KEY_DELIMITER = "\t"


def kcat_run(args: list[str], stdin: bytes | None = None, timeout_s: float = CALL_TIMEOUT_S) -> bytes:
    proc = subprocess.run([KCAT, *args], input=stdin, capture_output=True, timeout=timeout_s)
    if proc.returncode != 0:
        raise AssertionError(f"kcat {' '.join(args)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def kcat_can_carry(records: list[Rec]) -> bool:
    for r in records:
        for part in (r.key, r.value):
            if part is not None and (b"\n" in part or KCAT_KEY_DELIMITER.encode() in part or not _is_text(part)):
                return False
        if r.key is None and r.value is not None and KCAT_KEY_DELIMITER.encode() in r.value:
            return False
        if r.value is None or r.timestamp is not None:
            return False
        for name, value in r.headers:
            if value is None or not _is_text(value) or "=" in name or not name.isprintable():
                return False
    return True


def _is_text(b: bytes) -> bool:
    try:
        return b.decode("utf-8").isprintable()
    except UnicodeDecodeError:
        return False


def produce_kcat(bootstrap: str, topic: str, records: list[Rec], compression: str = "none") -> list[Delivery]:
    """Runs kcat once per (partition, header set), in record order; kcat reports no offsets."""
    assert kcat_can_carry(records), "records not representable through kcat's line-based producer"
    groups: list[tuple[int, tuple[tuple[str, bytes | None], ...], list[Rec]]] = []
    for r in records:
        if groups and groups[-1][0] == r.partition and groups[-1][1] == r.headers:
            groups[-1][2].append(r)
        else:
            groups.append((r.partition, r.headers, [r]))
    for partition, headers, group in groups:
        args = ["-P", "-b", bootstrap, "-t", topic, "-p", str(partition), "-K", KCAT_KEY_DELIMITER,
                "-X", "acks=all", "-X", "socket.timeout.ms=10000", "-X", "message.timeout.ms=30000"]
        if compression != "none":
            args += ["-z", compression]
        for name, value in headers:
            assert value is not None
            args += ["-H", f"{name}={value.decode()}"]
        lines = []
        for r in group:
            assert r.value is not None
            line = r.value if r.key is None else r.key + KCAT_KEY_DELIMITER.encode() + r.value
            lines.append(line + b"\n")
        kcat_run(args, stdin=b"".join(lines))
    return []


def consume_kcat(bootstrap: str, topic: str, partitions: list[int], expected: int,
                 isolation: str = "read_uncommitted", timeout_s: float = CONSUME_TIMEOUT_S) -> list[Consumed]:
    out: list[Consumed] = []
    for p in partitions:
        raw = kcat_run(["-C", "-b", bootstrap, "-t", topic, "-p", str(p), "-o", "beginning", "-e", "-J", "-q",
                        "-X", f"isolation.level={isolation}", "-X", "socket.timeout.ms=10000"], timeout_s=timeout_s)
        for line in raw.decode().splitlines():
            if not line.strip():
                continue
            doc = json.loads(line)
            flat = doc.get("headers") or []
            headers = tuple((flat[i], None if flat[i + 1] is None else flat[i + 1].encode())
                            for i in range(0, len(flat), 2))
            out.append(Consumed(doc["partition"], doc["offset"],
                                None if doc["key"] is None else doc["key"].encode(),
                                None if doc["payload"] is None else doc["payload"].encode(),
                                headers, doc["ts"], "log_append" if doc["tstype"] == "logappend" else "create"))
    return _check_count("kcat", out, expected)


def kcat_metadata(bootstrap: str, topic: str | None = None) -> dict[str, Any]:
    args = ["-L", "-b", bootstrap, "-J", "-m", "10"]
    if topic:
        args += ["-t", topic]
    return json.loads(kcat_run(args))


# ----------------------------------------------------------------------------------------------------
# dispatch
# ----------------------------------------------------------------------------------------------------

PRODUCERS: dict[str, Callable[..., list[Delivery]]] = {
    "confluent": produce_confluent,
    "kafka-python": produce_kafka_python,
    "aiokafka": produce_aiokafka,
    "kcat": produce_kcat,
}

CONSUMERS: dict[str, Callable[..., list[Consumed]]] = {
    "confluent": consume_confluent,
    "kafka-python": consume_kafka_python,
    "aiokafka": consume_aiokafka,
    "kcat": consume_kcat,
}


def produce(client: str, bootstrap: str, topic: str, records: list[Rec], compression: str = "none") -> list[Delivery]:
    return PRODUCERS[client](bootstrap, topic, records, compression)


def consume(client: str, bootstrap: str, topic: str, partitions: list[int], expected: int,
            isolation: str = "read_uncommitted", timeout_s: float = CONSUME_TIMEOUT_S) -> list[Consumed]:
    try:
        return CONSUMERS[client](bootstrap, topic, partitions, expected, isolation, timeout_s)
    except AssertionError as e:
        if "before its deadline" not in str(e):
            raise
        try:
            marks = f"{end_offsets(bootstrap, topic, partitions)}"
        except Exception as inner:  # noqa: BLE001 - a diagnostic only
            marks = f"unknown ({inner})"
        raise AssertionError(f"{e}; high watermarks (librdkafka): {marks}") from None


def _check_count(client: str, out: list[Consumed], expected: int,
                 positions: dict[int, int] | None = None) -> list[Consumed]:
    """Sorted by (partition, offset); a short read says how far the consumer got, to tell a consumer that
    never received records from one that skipped them."""
    out.sort(key=lambda c: (c.partition, c.offset))
    if len(out) < expected:
        by_partition: dict[int, int] = {}
        for c in out:
            by_partition[c.partition] = by_partition.get(c.partition, 0) + 1
        raise AssertionError(f"{client} consumer got {len(out)} of {expected} records before its deadline "
                             f"(records per partition: {by_partition}; fetch positions at the deadline: "
                             f"{positions if positions else 'not known'})")
    return out


# ----------------------------------------------------------------------------------------------------
# topics
# ----------------------------------------------------------------------------------------------------

# Tests write records with fixed timestamps from 2023; time-based retention (7 days by default) would delete
# them whenever the broker's retention check happens to run. So topics keep everything unless a test says.
TOPIC_DEFAULTS = {"retention.ms": "-1"}


def create_topic(bootstrap: str, name: str, partitions: int = 1, config: dict[str, str] | None = None) -> None:
    """CreateTopics through confluent's AdminClient, then wait until metadata shows every partition led."""
    from confluent_kafka.admin import NewTopic
    admin = confluent_admin(bootstrap)
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                            config={**TOPIC_DEFAULTS, **(config or {})})],
                                  operation_timeout=20, request_timeout=30)
    futures[name].result(timeout=CALL_TIMEOUT_S)
    wait_for_topic(bootstrap, name, partitions, admin)


def wait_for_topic(bootstrap: str, name: str, partitions: int, admin: Any = None) -> None:
    admin = admin or confluent_admin(bootstrap)

    def ready() -> bool:
        md = admin.list_topics(topic=name, timeout=10)
        t = md.topics.get(name)
        return (t is not None and t.error is None and len(t.partitions) == partitions
                and all(p.leader >= 0 and p.error is None for p in t.partitions.values()))

    wait_until(ready, CALL_TIMEOUT_S, f"metadata of topic {name} with {partitions} led partitions")


def end_offsets(bootstrap: str, topic: str, partitions: list[int]) -> dict[int, int]:
    from confluent_kafka import TopicPartition
    consumer = confluent_consumer(bootstrap)
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)[1]
                for p in partitions}
    finally:
        consumer.close()
