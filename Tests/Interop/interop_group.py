"""Consumer-group members, one thread each, for confluent-kafka, kafka-python and aiokafka.

A member subscribes to one topic, and in a loop polls, "processes" (records what it got) and commits the
processed offsets synchronously before polling again, so that a rebalance never hands over processed but
uncommitted records. A commit that fails (a rebalance raced it) is recorded: only those records may be
delivered twice. The test thread reads snapshots and asks members to leave.
"""

from __future__ import annotations

import asyncio
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable

from interop_clients import aiokafka_common, confluent_consumer, kafka_python_consumer

GROUP_CLIENTS = ["confluent", "kafka-python", "aiokafka"]
POLL_TIMEOUT_S = 0.2
JOIN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Processed:
    member: str
    partition: int
    offset: int
    value: bytes | None


class Member:
    """One group member in its own thread. commit_limit(partition) caps the offset it commits (None: no cap)."""

    def __init__(self, client: str, name: str, bootstrap: str, group: str, topic: str,
                 commit_limit: Callable[[int], int | None] | None = None) -> None:
        self.client = client
        self.name = name
        self.bootstrap = bootstrap
        self.group = group
        self.topic = topic
        self.commit_limit = commit_limit or (lambda partition: None)
        self.lock = threading.Lock()
        self.processed: list[Processed] = []
        self.uncommitted: list[Processed] = []  # processed, commit failed
        self.commit_errors: list[str] = []
        self.assigned: frozenset[int] = frozenset()
        self.polls = 0
        self.error: str | None = None
        self.closed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"member-{name}", daemon=True)

    # -- test thread side --

    def start(self) -> "Member":
        self._thread.start()
        return self

    def leave(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise AssertionError(f"member {self.name} did not leave within {timeout_s} s")
        self.check()

    def check(self) -> None:
        if self.error:
            raise AssertionError(f"member {self.name} ({self.client}) failed: {self.error}")

    def snapshot(self) -> tuple[frozenset[int], list[Processed], list[Processed]]:
        with self.lock:
            return self.assigned, list(self.processed), list(self.uncommitted)

    # -- member thread side --

    def _record(self, batch: list[tuple[int, int, bytes | None]], committed: bool, error: str | None) -> None:
        items = [Processed(self.name, p, o, v) for p, o, v in batch]
        with self.lock:
            self.processed.extend(items)
            if not committed:
                self.uncommitted.extend(items)
                if error:
                    self.commit_errors.append(error)

    def _commit_offsets(self, batch: list[tuple[int, int, bytes | None]]) -> dict[int, int]:
        offsets: dict[int, int] = {}
        for p, o, _ in batch:
            limit = self.commit_limit(p)
            target = o + 1 if limit is None else min(o + 1, limit)
            offsets[p] = max(offsets.get(p, 0), target)
        return offsets

    def _run(self) -> None:
        try:
            if self.client == "confluent":
                self._run_confluent()
            elif self.client == "kafka-python":
                self._run_kafka_python()
            elif self.client == "aiokafka":
                asyncio.run(self._run_aiokafka())
            else:
                raise ValueError(self.client)
        except Exception:  # noqa: BLE001 - reported to the test thread
            self.error = traceback.format_exc()
        finally:
            self.closed.set()

    def _run_confluent(self) -> None:
        from confluent_kafka import KafkaException, TopicPartition
        consumer = confluent_consumer(self.bootstrap, group_id=self.group, **{"client.id": self.name})
        consumer.subscribe([self.topic])
        try:
            while not self._stop.is_set():
                msgs = consumer.consume(num_messages=100, timeout=POLL_TIMEOUT_S)
                batch = []
                for m in msgs:
                    if m.error() is not None:
                        if m.error().retriable() or m.error().code() < 0:
                            continue  # transient (e.g. broker restarting): librdkafka recovers by itself
                        raise AssertionError(f"consumer error: {m.error()}")
                    batch.append((m.partition(), m.offset(), m.value()))
                committed, error = True, None
                if batch:
                    offsets = [TopicPartition(self.topic, p, o) for p, o in self._commit_offsets(batch).items()]
                    try:
                        result = consumer.commit(offsets=offsets, asynchronous=False)
                        failed = [tp for tp in result or [] if tp.error is not None]
                        if failed:
                            errors = [(t.partition, str(t.error)) for t in failed]
                            committed, error = False, f"commit partition errors: {errors}"
                    except KafkaException as e:
                        committed, error = False, f"commit failed: {e}"
                    self._record(batch, committed, error)
                with self.lock:
                    self.assigned = frozenset(tp.partition for tp in consumer.assignment())
                    self.polls += 1
        finally:
            consumer.close()

    def _run_kafka_python(self) -> None:
        from kafka import OffsetAndMetadata, TopicPartition
        from kafka.errors import KafkaError
        consumer = kafka_python_consumer(self.bootstrap, group_id=self.group, client_id=self.name,
                                         max_poll_interval_ms=30_000)
        consumer.subscribe([self.topic])
        try:
            while not self._stop.is_set():
                try:
                    polled = consumer.poll(timeout_ms=int(POLL_TIMEOUT_S * 1000), max_records=100)
                except KafkaError as e:
                    if getattr(e, "retriable", False):
                        continue  # transient (e.g. broker restarting)
                    raise
                batch = [(r.partition, r.offset, r.value) for records in polled.values() for r in records]
                if batch:
                    offsets = {TopicPartition(self.topic, p): OffsetAndMetadata(o, "", -1)
                               for p, o in self._commit_offsets(batch).items()}
                    committed, error = True, None
                    try:
                        consumer.commit(offsets=offsets, timeout_ms=15_000)
                    except KafkaError as e:
                        committed, error = False, f"commit failed: {e!r}"
                    self._record(batch, committed, error)
                with self.lock:
                    self.assigned = frozenset(tp.partition for tp in consumer.assignment())
                    self.polls += 1
        finally:
            consumer.close(autocommit=False, timeout_ms=10_000)

    async def _run_aiokafka(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition
        from aiokafka.errors import KafkaError
        consumer = AIOKafkaConsumer(self.topic, **aiokafka_common(self.bootstrap), group_id=self.group,
                                    client_id=self.name, enable_auto_commit=False, auto_offset_reset="earliest",
                                    session_timeout_ms=10_000, heartbeat_interval_ms=1_000,
                                    max_poll_interval_ms=30_000)
        await asyncio.wait_for(consumer.start(), JOIN_TIMEOUT_S)
        try:
            while not self._stop.is_set():
                polled = await consumer.getmany(timeout_ms=int(POLL_TIMEOUT_S * 1000), max_records=100)
                batch = [(r.partition, r.offset, r.value) for records in polled.values() for r in records]
                if batch:
                    offsets = {TopicPartition(self.topic, p): o for p, o in self._commit_offsets(batch).items()}
                    committed, error = True, None
                    try:
                        await asyncio.wait_for(consumer.commit(offsets), 15)
                    except (KafkaError, asyncio.TimeoutError) as e:
                        committed, error = False, f"commit failed: {e!r}"
                    self._record(batch, committed, error)
                with self.lock:
                    self.assigned = frozenset(tp.partition for tp in consumer.assignment())
                    self.polls += 1
        finally:
            await asyncio.wait_for(consumer.stop(), 15)


def balanced(members: list[Member], partitions: int) -> bool:
    """Every partition owned by exactly one member and the members' shares differ by at most one."""
    for m in members:
        m.check()
    owned = [m.snapshot()[0] for m in members]
    union: set[int] = set().union(*owned) if owned else set()
    if union != set(range(partitions)) or sum(len(o) for o in owned) != partitions:
        return False
    sizes = [len(o) for o in owned]
    return max(sizes) - min(sizes) <= 1


def describe_assignment(members: list[Member]) -> str:
    return ", ".join(f"{m.name}: {sorted(m.snapshot()[0])} ({m.polls} polls)" for m in members)


def wait_balanced(members: list[Member], partitions: int, timeout_s: float = JOIN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not balanced(members, partitions):
        if time.monotonic() > deadline:
            raise AssertionError(f"group not balanced over {partitions} partitions after {timeout_s} s: "
                                 f"{describe_assignment(members)}")
        time.sleep(0.05)


def all_processed(members: list[Member]) -> tuple[list[Processed], list[Processed]]:
    processed: list[Processed] = []
    uncommitted: list[Processed] = []
    for m in members:
        _, p, u = m.snapshot()
        processed += p
        uncommitted += u
    return processed, uncommitted


def wait_processed(members: list[Member], expected: set[tuple[int, int]], timeout_s: float = JOIN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        for m in members:
            m.check()
        seen = {(p.partition, p.offset) for p in all_processed(members)[0]}
        missing = expected - seen
        if not missing:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(missing)} of {len(expected)} records not consumed by the group after "
                                 f"{timeout_s} s, e.g. {sorted(missing)[:10]}; {describe_assignment(members)}")
        time.sleep(0.05)
