"""Consumer groups: members join one by one and leave, the group rebalances, every record is consumed
exactly once per group through committed offsets, and the group resumes from its committed offsets after
the broker restarts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from interop_clients import (Rec, confluent_admin, confluent_consumer, create_topic, end_offsets, produce_confluent,
                             wait_until)
from interop_group import GROUP_CLIENTS, Member, all_processed, wait_balanced, wait_processed

PARTITIONS = 6


def produce_phase(bootstrap: str, topic: str, phase: str, per_partition: int) -> set[tuple[int, int]]:
    records = [Rec(p, f"{phase}-{p}".encode(), f"{phase}-{p}-{i}".encode())
               for i in range(per_partition) for p in range(PARTITIONS)]
    deliveries = produce_confluent(bootstrap, topic, records)
    return {(d.partition, d.offset) for d in deliveries}


def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """OffsetFetch through a consumer that is not a member (it never subscribes)."""
    from confluent_kafka import TopicPartition
    consumer = confluent_consumer(bootstrap, group_id=group)
    try:
        result = consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=15)
        for tp in result:
            assert tp.error is None, f"OffsetFetch error for partition {tp.partition}: {tp.error}"
        return {tp.partition: tp.offset for tp in result}
    finally:
        consumer.close()


def assert_exactly_once(members: list[Member], produced: set[tuple[int, int]]) -> None:
    processed, uncommitted = all_processed(members)
    counts = Counter((p.partition, p.offset) for p in processed)
    missing = produced - set(counts)
    assert not missing, f"records never consumed: {sorted(missing)[:20]}"
    unknown = set(counts) - produced
    assert not unknown, f"consumed records that were never produced: {sorted(unknown)[:20]}"
    allowed = {(p.partition, p.offset) for p in uncommitted}
    duplicated = {k: n for k, n in counts.items() if n > 1 and k not in allowed}
    owners = {}
    for p in processed:
        if (p.partition, p.offset) in duplicated:
            owners.setdefault((p.partition, p.offset), []).append(p.member)
    assert not duplicated, (f"{len(duplicated)} records consumed more than once although their offsets had been "
                            f"committed: {dict(list(owners.items())[:10])}")


@pytest.mark.parametrize("client", GROUP_CLIENTS)
def test_group_members_join_and_leave(broker: Any, topic_name: Any, client: str) -> None:
    topic = topic_name()
    group = topic_name("group")
    create_topic(broker.bootstrap, topic, PARTITIONS)
    produced: set[tuple[int, int]] = set()
    everyone: list[Member] = []
    active: list[Member] = []
    try:
        for phase, joiner in (("one", "m1"), ("two", "m2"), ("three", "m3")):
            member = Member(client, joiner, broker.bootstrap, group, topic).start()
            everyone.append(member)
            active.append(member)
            wait_balanced(active, PARTITIONS)
            produced |= produce_phase(broker.bootstrap, topic, phase, 10)
            wait_processed(everyone, produced)
        # With three members on six partitions, each owns two.
        assert sorted(len(m.snapshot()[0]) for m in active) == [2, 2, 2]

        for phase in ("leave-m3", "leave-m2"):
            leaving = active.pop()
            leaving.leave()
            wait_balanced(active, PARTITIONS)
            produced |= produce_phase(broker.bootstrap, topic, phase, 10)
            wait_processed(everyone, produced)
        active.pop().leave()
    finally:
        for m in active:
            m.leave()

    assert_exactly_once(everyone, produced)
    ends = end_offsets(broker.bootstrap, topic, list(range(PARTITIONS)))
    assert ends == {p: 50 for p in range(PARTITIONS)}
    assert committed_offsets(broker.bootstrap, group, topic) == ends


@pytest.mark.parametrize("mode", ["sigterm", "sigkill"])
@pytest.mark.parametrize("client", GROUP_CLIENTS)
def test_group_resumes_from_committed_offsets_after_restart(own_broker: Any, topic_name: Any, client: str,
                                                            mode: str) -> None:
    topic = topic_name()
    group = topic_name("group")
    bootstrap = own_broker.bootstrap
    create_topic(bootstrap, topic, PARTITIONS)
    produced = produce_phase(bootstrap, topic, "before", 10)

    # A member processes everything but commits only offsets below 6: offsets 6..9 are uncommitted work.
    first = Member(client, "first", bootstrap, group, topic, commit_limit=lambda p: 6).start()
    try:
        wait_processed([first], produced)
        wait_until(lambda: committed_offsets(bootstrap, group, topic) == {p: 6 for p in range(PARTITIONS)}, 30,
                   "committed offsets 6 on every partition")
    finally:
        first.leave()

    own_broker.restart(mode)

    assert committed_offsets(bootstrap, group, topic) == {p: 6 for p in range(PARTITIONS)}, \
        f"committed offsets after {mode} restart"
    produced |= produce_phase(bootstrap, topic, "after", 1)

    # The group resumes at the committed offsets: exactly the uncommitted work and the new records.
    second = Member(client, "second", bootstrap, group, topic).start()
    try:
        expected = {(p, o) for p in range(PARTITIONS) for o in range(6, 11)}
        wait_processed([second], expected)
        _, got, _ = second.snapshot()
        reread = sorted((r.partition, r.offset) for r in got if r.offset < 6)
        assert not reread, f"records below the committed offset consumed again after restart: {reread[:20]}"
        assert Counter((r.partition, r.offset) for r in got) == Counter(expected), "each exactly once"
        wait_until(lambda: committed_offsets(bootstrap, group, topic) == {p: 11 for p in range(PARTITIONS)}, 30,
                   "committed offsets 11 on every partition")

        # A member that stays up while the broker restarts rejoins and carries on.
        own_broker.restart(mode)
        produced |= produce_phase(bootstrap, topic, "through", 5)
        wait_processed([second], {(p, o) for p in range(PARTITIONS) for o in range(11, 16)}, timeout_s=90)
        # Commits that raced the restart failed; the member gets those records again and commits them.
        wait_until(lambda: committed_offsets(bootstrap, group, topic) == {p: 16 for p in range(PARTITIONS)}, 60,
                   "committed offsets 16 on every partition")
    finally:
        second.leave()
    assert_exactly_once([second], {k for k in produced if k[1] >= 6})


def test_group_admin_list_describe_delete(broker: Any, topic_name: Any) -> None:
    """ListGroups, DescribeGroups and DeleteGroups through confluent's AdminClient around a live group."""
    from confluent_kafka import ConsumerGroupState
    topic = topic_name()
    group = topic_name("group")
    create_topic(broker.bootstrap, topic, PARTITIONS)
    admin = confluent_admin(broker.bootstrap)
    members = [Member("confluent", f"m{i}", broker.bootstrap, group, topic).start() for i in range(2)]
    try:
        wait_balanced(members, PARTITIONS)
        produced = produce_phase(broker.bootstrap, topic, "x", 2)
        wait_processed(members, produced)

        listed = admin.list_consumer_groups(request_timeout=15).result(timeout=30)
        assert not listed.errors, listed.errors
        assert group in {g.group_id for g in listed.valid}

        def stable_with_two() -> Any:
            d = admin.describe_consumer_groups([group], request_timeout=15)[group].result(timeout=30)
            return d if d.state == ConsumerGroupState.STABLE and len(d.members) == 2 else None

        description = wait_until(stable_with_two, 30, "group described as Stable with 2 members")
        assigned = sorted(tp.partition for m in description.members for tp in m.assignment.topic_partitions)
        assert assigned == list(range(PARTITIONS))
        assert {m.client_id for m in description.members} == {"m0", "m1"}

        # A group with members cannot be deleted.
        with pytest.raises(Exception) as deny:
            admin.delete_consumer_groups([group], request_timeout=15)[group].result(timeout=30)
        assert "NON_EMPTY_GROUP" in str(deny.value) or "not empty" in str(deny.value).lower(), deny.value
    finally:
        for m in members:
            m.leave()

    wait_until(lambda: admin.describe_consumer_groups([group], request_timeout=15)[group].result(timeout=30).state
               == ConsumerGroupState.EMPTY, 30, "group Empty after every member left")
    assert committed_offsets(broker.bootstrap, group, topic) == {p: 2 for p in range(PARTITIONS)}
    admin.delete_consumer_groups([group], request_timeout=15)[group].result(timeout=30)
    after = committed_offsets(broker.bootstrap, group, topic)
    assert all(o < 0 for o in after.values()), f"committed offsets survive DeleteGroups: {after}"
