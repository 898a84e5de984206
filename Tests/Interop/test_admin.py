"""Admin APIs through confluent-kafka's AdminClient and kafka-python's KafkaAdminClient: topics (create,
describe, delete, more partitions), configs (describe, alter, incremental alter), the cluster, and
ListOffsets (earliest, latest, by timestamp, max timestamp) through every Python client."""

from __future__ import annotations

from typing import Any

import pytest

from interop_clients import (CALL_TIMEOUT_S, Rec, aiokafka_common, confluent_admin, confluent_consumer,
                             confluent_producer, consume, create_topic, end_offsets, kafka_python_admin,
                             kafka_python_consumer, produce_confluent, run_async, wait_for_topic, wait_until)

RETENTION_MS = "3600000"


# ----------------------------------------------------------------------------------------------------
# confluent-kafka AdminClient
# ----------------------------------------------------------------------------------------------------

def confluent_topic_configs(admin: Any, topic: str) -> dict[str, Any]:
    from confluent_kafka.admin import ConfigResource, ResourceType
    futures = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)], request_timeout=15)
    [future] = futures.values()
    return future.result(timeout=CALL_TIMEOUT_S)


def kafka_error_code(exc: BaseException) -> Any:
    from confluent_kafka import KafkaException
    assert isinstance(exc, KafkaException), repr(exc)
    return exc.args[0].code()


def test_confluent_topic_lifecycle(broker: Any, topic_name: Any) -> None:
    from confluent_kafka import KafkaError, TopicCollection
    from confluent_kafka.admin import ConfigSource, NewTopic
    admin = confluent_admin(broker.bootstrap)
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 3, {"cleanup.policy": "compact", "retention.ms": RETENTION_MS})

    [description] = admin.describe_topics(TopicCollection([topic]), request_timeout=15).values()
    described = description.result(timeout=CALL_TIMEOUT_S)
    assert described.name == topic
    assert [p.id for p in described.partitions] == [0, 1, 2]
    for p in described.partitions:
        assert p.leader is not None and [r.id for r in p.replicas] == [p.leader.id]
        assert [r.id for r in p.isr] == [p.leader.id]
    assert not described.is_internal

    configs = confluent_topic_configs(admin, topic)
    assert configs["cleanup.policy"].value == "compact"
    assert configs["retention.ms"].value == RETENTION_MS
    for name in ("cleanup.policy", "retention.ms"):
        assert configs[name].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value, (name, configs[name])
        assert not configs[name].is_default, name

    # Creating it again is refused and changes nothing.
    again = admin.create_topics([NewTopic(topic, 5, 1)], request_timeout=15)[topic]
    with pytest.raises(Exception) as exists:
        again.result(timeout=CALL_TIMEOUT_S)
    assert kafka_error_code(exists.value) == KafkaError.TOPIC_ALREADY_EXISTS
    assert len(admin.list_topics(topic=topic, timeout=10).topics[topic].partitions) == 3

    # More partitions: 3 -> 5, usable at once; fewer is refused.
    admin.create_partitions([new_partitions(topic, 5)], request_timeout=15)[topic].result(timeout=CALL_TIMEOUT_S)
    wait_for_topic(broker.bootstrap, topic, 5, admin)
    deliveries = produce_confluent(broker.bootstrap, topic, [Rec(4, b"k", b"on partition 4")])
    assert [(d.partition, d.offset) for d in deliveries] == [(4, 0)]
    fewer = admin.create_partitions([new_partitions(topic, 2)], request_timeout=15)[topic]
    with pytest.raises(Exception) as invalid:
        fewer.result(timeout=CALL_TIMEOUT_S)
    assert kafka_error_code(invalid.value) == KafkaError.INVALID_PARTITIONS

    # Delete: gone from metadata, deleting again fails, and a new topic of the same name starts empty.
    admin.delete_topics([topic], request_timeout=15)[topic].result(timeout=CALL_TIMEOUT_S)
    wait_until(lambda: topic not in admin.list_topics(timeout=10).topics, 30, f"{topic} gone from metadata")
    with pytest.raises(Exception) as unknown:
        admin.delete_topics([topic], request_timeout=15)[topic].result(timeout=CALL_TIMEOUT_S)
    assert kafka_error_code(unknown.value) == KafkaError.UNKNOWN_TOPIC_OR_PART
    create_topic(broker.bootstrap, topic, 1)
    assert end_offsets(broker.bootstrap, topic, [0]) == {0: 0}, "a recreated topic must not resurrect old records"
    configs = confluent_topic_configs(admin, topic)
    assert configs["cleanup.policy"].value == "delete", "a recreated topic must not keep the old topic's configs"


def new_partitions(topic: str, count: int) -> Any:
    from confluent_kafka.admin import NewPartitions
    return NewPartitions(topic, count)


def test_confluent_create_topic_errors(broker: Any, topic_name: Any) -> None:
    from confluent_kafka import KafkaError
    from confluent_kafka.admin import NewTopic
    admin = confluent_admin(broker.bootstrap)
    cases = {
        topic_name("zero-partitions"): (NewTopic(topic_name("zero-partitions"), 0, 1), KafkaError.INVALID_PARTITIONS),
        topic_name("rf3"): (NewTopic(topic_name("rf3"), 1, 3), KafkaError.INVALID_REPLICATION_FACTOR),
        topic_name("bad-config"): (NewTopic(topic_name("bad-config"), 1, 1, config={"no.such.config": "1"}),
                                   KafkaError.INVALID_CONFIG),
        "bad/name": (NewTopic("bad/name", 1, 1), KafkaError.TOPIC_EXCEPTION),
    }
    for name, (new_topic, code) in cases.items():
        future = admin.create_topics([new_topic], request_timeout=15)[new_topic.topic]
        with pytest.raises(Exception) as refused:
            future.result(timeout=CALL_TIMEOUT_S)
        assert kafka_error_code(refused.value) == code, f"{name}: {refused.value}"
        assert new_topic.topic not in admin.list_topics(timeout=10).topics


def test_confluent_alter_configs(broker: Any, topic_name: Any) -> None:
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType
    admin = confluent_admin(broker.bootstrap)
    topic = topic_name()
    create_topic(broker.bootstrap, topic, 1, {"retention.ms": RETENTION_MS, "cleanup.policy": "compact"})

    # IncrementalAlterConfigs: SET one key, DELETE (back to default) another, the rest untouched.
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("retention.ms", "7200000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", None, incremental_operation=AlterConfigOpType.DELETE),
        ConfigEntry("max.message.bytes", "2097152", incremental_operation=AlterConfigOpType.SET),
    ])
    [future] = admin.incremental_alter_configs([resource], request_timeout=15).values()
    future.result(timeout=CALL_TIMEOUT_S)
    configs = confluent_topic_configs(admin, topic)
    assert configs["retention.ms"].value == "7200000"
    assert configs["cleanup.policy"].value == "delete" and configs["cleanup.policy"].is_default
    assert configs["max.message.bytes"].value == "2097152"


def test_confluent_describe_cluster(broker: Any) -> None:
    admin = confluent_admin(broker.bootstrap)
    cluster = admin.describe_cluster(request_timeout=15).result(timeout=CALL_TIMEOUT_S)
    assert len(cluster.nodes) == 1
    [node] = cluster.nodes
    assert (node.host, node.port) == (broker.host, broker.port)
    assert cluster.controller is not None and cluster.controller.id == node.id
    assert cluster.cluster_id, "a cluster id"
    md = admin.list_topics(timeout=10)
    assert list(md.brokers) == [node.id]
    assert md.controller_id == node.id
    if not broker.external:
        assert node.id == 0


# ----------------------------------------------------------------------------------------------------
# kafka-python KafkaAdminClient
# ----------------------------------------------------------------------------------------------------

def test_kafka_python_admin_topic_lifecycle(broker: Any, topic_name: Any) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
    from kafka.errors import InvalidPartitionsError, TopicAlreadyExistsError, UnknownTopicOrPartitionError
    admin = kafka_python_admin(broker.bootstrap)
    topic = topic_name()
    try:
        admin.create_topics([NewTopic(topic, 2, 1, topic_configs={"retention.ms": RETENTION_MS})], timeout_ms=15_000)
        wait_until(lambda: topic in admin.list_topics(), 30, f"{topic} listed")
        [described] = admin.describe_topics([topic])
        assert described["name"] == topic and described["error_code"] == 0
        assert sorted(p["partition_index"] for p in described["partitions"]) == [0, 1]

        with pytest.raises(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(topic, 2, 1)], timeout_ms=15_000)

        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)],
                                         config_filter="all")["topic"][topic]
        assert configs["retention.ms"]["value"] == RETENTION_MS
        assert configs["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"

        for incremental in (True, False):
            value = "1800000" if incremental else "900000"
            admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": value})],
                                incremental=incremental)
            now = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])["topic"][topic]
            assert now["retention.ms"]["value"] == value, f"alter_configs(incremental={incremental})"

        admin.create_partitions({topic: 4}, timeout_ms=15_000)
        wait_for_topic(broker.bootstrap, topic, 4)
        with pytest.raises(InvalidPartitionsError):
            admin.create_partitions({topic: 3}, timeout_ms=15_000)

        admin.delete_topics([topic], timeout_ms=15_000)
        wait_until(lambda: topic not in admin.list_topics(), 30, f"{topic} gone")
        with pytest.raises(UnknownTopicOrPartitionError):
            admin.delete_topics([topic], timeout_ms=15_000)
    finally:
        admin.close()


def test_kafka_python_admin_describe_cluster(broker: Any) -> None:
    admin = kafka_python_admin(broker.bootstrap)
    try:
        cluster = admin.describe_cluster()
        [node] = cluster["brokers"]
        assert (node["host"], node["port"]) == (broker.host, broker.port)
        assert cluster["controller_id"] == node["broker_id"]
        if not broker.external:
            assert node["broker_id"] == 0
    finally:
        admin.close()


# ----------------------------------------------------------------------------------------------------
# ListOffsets
# ----------------------------------------------------------------------------------------------------

T0 = 1_700_000_000_000
# Partition 0: timestamps rise by one second per record. Partition 1: they do not rise monotonically,
# so "the first offset whose timestamp is >= t" differs from a binary search over timestamps.
TIMESTAMPS = {0: [T0 + 1000 * i for i in range(10)],
              1: [T0, T0 + 5000, T0 + 1000, T0 + 6000, T0 + 2000, T0 + 9000, T0 + 3000]}
# (partition, query timestamp) -> expected offset, None where no record is that late.
BY_TIME = {
    (0, T0 - 1): 0, (0, T0): 0, (0, T0 + 1): 1, (0, T0 + 5000): 5, (0, T0 + 9000): 9, (0, T0 + 9001): None,
    (1, T0): 0, (1, T0 + 500): 1, (1, T0 + 2000): 1, (1, T0 + 5500): 3, (1, T0 + 6001): 5, (1, T0 + 9001): None,
}


@pytest.fixture(scope="module")
def timed_topic(broker: Any) -> str:
    topic = "list-offsets-by-time"
    create_topic(broker.bootstrap, topic, 2)
    produce_confluent(broker.bootstrap, topic, [Rec(p, None, f"{p}-{i}".encode(), (), ts)
                                                for p, stamps in TIMESTAMPS.items() for i, ts in enumerate(stamps)])
    return topic


# (offset by (partition, time) or None, earliest by partition, latest by partition)
Offsets = tuple[dict[tuple[int, int], int | None], dict[int, int], dict[int, int]]


def offsets_confluent(bootstrap: str, topic: str) -> Offsets:
    from confluent_kafka import TopicPartition
    consumer = confluent_consumer(bootstrap)
    try:
        by_time = {}
        for p, ts in BY_TIME:  # one query per partition and time: one request cannot ask twice for a partition
            [tp] = consumer.offsets_for_times([TopicPartition(topic, p, ts)], timeout=15)
            assert tp.error is None, tp.error
            by_time[(p, ts)] = None if tp.offset < 0 else tp.offset
        marks = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)
                 for p in TIMESTAMPS}
        return by_time, {p: m[0] for p, m in marks.items()}, {p: m[1] for p, m in marks.items()}
    finally:
        consumer.close()


def offsets_kafka_python(bootstrap: str, topic: str) -> Offsets:
    from kafka import TopicPartition
    consumer = kafka_python_consumer(bootstrap)
    try:
        by_time = {}
        for p, ts in BY_TIME:  # one query per partition and time, as above
            tp = TopicPartition(topic, p)
            answer = consumer.offsets_for_times({tp: ts}, timeout_ms=15_000)[tp]
            by_time[(p, ts)] = None if answer is None else answer.offset
        tps = [TopicPartition(topic, p) for p in TIMESTAMPS]
        first = consumer.beginning_offsets(tps, timeout_ms=15_000)
        last = consumer.end_offsets(tps, timeout_ms=15_000)
        return by_time, {tp.partition: o for tp, o in first.items()}, {tp.partition: o for tp, o in last.items()}
    finally:
        consumer.close(autocommit=False, timeout_ms=5_000)


def offsets_aiokafka(bootstrap: str, topic: str) -> Offsets:
    async def run() -> Any:
        from aiokafka import AIOKafkaConsumer, TopicPartition
        consumer = AIOKafkaConsumer(**aiokafka_common(bootstrap), group_id=None, enable_auto_commit=False)
        await consumer.start()
        try:
            by_time = {}
            for p, ts in BY_TIME:
                tp = TopicPartition(topic, p)
                answer = (await consumer.offsets_for_times({tp: ts}))[tp]
                by_time[(p, ts)] = None if answer is None else answer.offset
            tps = [TopicPartition(topic, p) for p in TIMESTAMPS]
            first = await consumer.beginning_offsets(tps)
            last = await consumer.end_offsets(tps)
            return by_time, {tp.partition: o for tp, o in first.items()}, {tp.partition: o for tp, o in last.items()}
        finally:
            await consumer.stop()
    return run_async(run(), 60)


@pytest.mark.parametrize("client", ["confluent", "kafka-python", "aiokafka"])
def test_list_offsets(broker: Any, timed_topic: str, client: str) -> None:
    query = {"confluent": offsets_confluent, "kafka-python": offsets_kafka_python, "aiokafka": offsets_aiokafka}[client]
    by_time, earliest, latest = query(broker.bootstrap, timed_topic)
    assert by_time == BY_TIME
    assert earliest == {0: 0, 1: 0}
    assert latest == {p: len(stamps) for p, stamps in TIMESTAMPS.items()}


def test_list_offsets_admin_specs(broker: Any, timed_topic: str) -> None:
    """confluent's AdminClient.list_offsets: earliest, latest, for_timestamp and max_timestamp (KIP-734)."""
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import OffsetSpec
    admin = confluent_admin(broker.bootstrap)

    def ask(spec: Any) -> dict[int, tuple[int, int]]:
        futures = admin.list_offsets({TopicPartition(timed_topic, p): spec for p in TIMESTAMPS}, request_timeout=15)
        out = {}
        for tp, f in futures.items():
            info = f.result(timeout=CALL_TIMEOUT_S)
            out[tp.partition] = (info.offset, info.timestamp)
        return out

    assert {p: o for p, (o, _) in ask(OffsetSpec.earliest()).items()} == {0: 0, 1: 0}
    assert {p: o for p, (o, _) in ask(OffsetSpec.latest()).items()} == {0: 10, 1: 7}
    at = ask(OffsetSpec.for_timestamp(T0 + 2000))
    assert at == {0: (2, T0 + 2000), 1: (1, T0 + 5000)}
    assert ask(OffsetSpec.max_timestamp()) == {0: (9, T0 + 9000), 1: (5, T0 + 9000)}


# ----------------------------------------------------------------------------------------------------
# topic auto-creation
# ----------------------------------------------------------------------------------------------------

def test_no_auto_creation_when_disabled(broker: Any, topic_name: Any) -> None:
    from confluent_kafka import KafkaError
    topic = topic_name()
    admin = confluent_admin(broker.bootstrap)
    md = admin.list_topics(topic=topic, timeout=10)
    assert md.topics[topic].error is not None and md.topics[topic].error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    errors: list[Any] = []
    producer = confluent_producer(broker.bootstrap, **{"message.timeout.ms": 3000})
    producer.produce(topic, value=b"x", on_delivery=lambda err, msg: errors.append(err))
    producer.flush(CALL_TIMEOUT_S)
    assert errors and errors[0] is not None, "producing to an unknown topic must fail when auto-creation is off"
    assert topic not in admin.list_topics(timeout=10).topics


@pytest.mark.broker_args("--auto-create-topics", "true", "--default-partitions", "3")
def test_auto_creation_with_default_partitions(own_broker: Any, topic_name: Any) -> None:
    topic = topic_name()
    deliveries = produce_confluent(own_broker.bootstrap, topic, [Rec(2, b"k", b"auto-created")])
    assert [(d.partition, d.offset) for d in deliveries] == [(2, 0)]
    wait_for_topic(own_broker.bootstrap, topic, 3)
    got = consume("kafka-python", own_broker.bootstrap, topic, [2], 1)
    assert got[0].value == b"auto-created"
