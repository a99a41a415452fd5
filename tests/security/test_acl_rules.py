"""`conveyor.acls.rules.derive`: what each principal may do, derived from the topology alone."""

from __future__ import annotations

import pytest

from conveyor import naming
from conveyor.acls import plan
from conveyor.acls.rules import (
    OPERATOR,
    Grant,
    Operation,
    Pattern,
    Resource,
    derive,
    event_topics,
    principals,
    user,
)
from conveyor.topology.errors import TopologyFileError
from conveyor.topology.loader import parse
from tests.project import PROJECT

TOPOLOGY = PROJECT.topology()
GRANTS = derive(TOPOLOGY)


def _of(name: str) -> set[Grant]:
    return {g for g in GRANTS if g.principal == user(name)}


def _topics(name: str, operation: Operation) -> set[str]:
    return {g.name for g in _of(name) if g.resource is Resource.TOPIC and g.operation is operation}


def test_a_service_reads_its_inputs_and_its_own_failure_topics() -> None:
    """An unordered service reads what it consumes, its retry tiers and its dead letters."""
    reads = _topics("welcome-email", Operation.READ)
    assert {"user.signup", "welcome-email.dlq"} <= reads
    assert {f"welcome-email.retry.{n}" for n in (1, 2, 3)} <= reads
    assert "order.events" not in reads


def test_a_service_writes_only_its_own_topics() -> None:
    """A service writes its dead letters and retry tiers, no event topic it does not publish to
    and no other service's topic."""
    writes = _topics("welcome-email", Operation.WRITE)
    assert writes == {"welcome-email.dlq", *(f"welcome-email.retry.{n}" for n in (1, 2, 3))}


def test_an_ordered_service_reads_its_redrive_and_parked_topics() -> None:
    """An ordered service reads its redrive and parked topics and writes its parked keys."""
    assert {"inventory.redrive", "inventory.parked"} <= _topics("inventory", Operation.READ)
    assert "inventory.parked" in _topics("inventory", Operation.WRITE)
    assert "inventory.redrive" not in _topics("inventory", Operation.WRITE)


def test_a_service_that_publishes_follow_ups_writes_there_in_transactions() -> None:
    """payments publishes to order.events: it may write there, with its transactional ids."""
    assert "order.events" in _topics("payments", Operation.WRITE)
    transactional = Grant(
        user("payments"), Resource.TRANSACTIONAL_ID, "payments-", Pattern.PREFIXED, Operation.WRITE
    )
    assert transactional in GRANTS


def test_a_service_without_follow_ups_has_no_transactional_ids() -> None:
    """Only transactional services get transactional ids."""
    assert not {g for g in _of("inventory") if g.resource is Resource.TRANSACTIONAL_ID}


def test_a_service_joins_its_own_group_only() -> None:
    """A service reads its group (and its loaders' prefixed groups), not another's."""
    groups = {(g.name, g.pattern) for g in _of("crm-sync") if g.resource is Resource.GROUP}
    assert ("crm-sync", Pattern.LITERAL) in groups
    assert ("crm-sync.", Pattern.PREFIXED) in groups
    assert not {name for name, _ in groups if name.startswith("welcome-email")}


def test_publishers_write_event_topics_and_delays_only() -> None:
    """The gateway and the outbox relay write every event topic, delayed events and cancels,
    and nothing else: not the operators' pauses."""
    expected = set(event_topics(TOPOLOGY)) | {naming.DELAY_TOPIC, naming.DELAY_CANCEL_TOPIC}
    assert "order.events" in expected
    for publisher in ("gateway", "outbox-relay"):
        assert {(g.resource, g.operation) for g in _of(publisher)} == {
            (Resource.TOPIC, Operation.WRITE)
        }
        assert _topics(publisher, Operation.WRITE) == expected
        assert naming.CONTROL_TOPIC not in _topics(publisher, Operation.WRITE)


def test_every_service_reads_the_pauses_and_only_operators_write_them() -> None:
    """Each service reads conveyor.control; the operator alone writes it."""
    writers = {
        g.principal
        for g in GRANTS
        if g.name == naming.CONTROL_TOPIC and g.operation is Operation.WRITE
    }
    assert writers == {user(OPERATOR)}
    for service in TOPOLOGY.services:
        assert naming.CONTROL_TOPIC in _topics(service.name, Operation.READ)


def test_the_scheduler_delivers_delayed_events_in_transactions() -> None:
    """The scheduler reads delayed events and cancels and writes the event topics, with its
    transactional ids; it writes no service's topics."""
    assert {naming.DELAY_TOPIC, naming.DELAY_CANCEL_TOPIC} <= _topics("scheduler", Operation.READ)
    assert _topics("scheduler", Operation.WRITE) == set(event_topics(TOPOLOGY))
    assert Grant(
        user("scheduler"), Resource.TRANSACTIONAL_ID, "conveyor-scheduler-", Pattern.PREFIXED,
        Operation.WRITE,
    ) in GRANTS  # fmt: skip


def test_the_operator_reads_everything_but_writes_only_redrives_and_its_records() -> None:
    """The operator reads every declared topic and may alter the services' offsets, but writes
    no event topic and no dead letters."""
    assert {t.name for t in TOPOLOGY.topics} <= _topics(OPERATOR, Operation.READ)
    writes = _topics(OPERATOR, Operation.WRITE)
    assert "order.events" not in writes
    assert not {w for w in writes if w.endswith(".dlq")}
    assert {"payments.redrive", "welcome-email.retry.1", "conveyor.replays"} <= writes
    groups = {g.name for g in _of(OPERATOR) if g.resource is Resource.GROUP}
    assert {s.group for s in TOPOLOGY.services} <= groups


def test_every_grant_belongs_to_a_listed_principal() -> None:
    """`principals` covers every principal `derive` grants to (so apply describes them all)."""
    assert {g.principal for g in GRANTS} == set(principals(TOPOLOGY))


def test_a_prefixed_topology_grants_the_prefixed_names() -> None:
    """Derivation follows renames: a prefixed topology's principals and topics are prefixed."""
    prefixed = derive(TOPOLOGY.with_prefix("t1-"))
    assert (
        Grant(
            user("t1-payments"), Resource.TOPIC, "t1-order.events", Pattern.LITERAL, Operation.WRITE
        )
        in prefixed
    )


def test_plan_adds_what_is_missing_and_reports_what_is_extra() -> None:
    """The plan's difference runs both ways and is empty once the cluster matches."""
    stale = Grant(user("gateway"), Resource.TOPIC, "old", Pattern.LITERAL, Operation.WRITE)
    present = set(list(GRANTS)[:5]) | {stale}
    planned = plan(GRANTS, present)
    assert set(planned.add) == set(GRANTS) - present
    assert planned.extra == (stale,)
    assert plan(GRANTS, GRANTS).lines() == []


def test_a_service_may_only_produce_to_declared_topics() -> None:
    """`produces` naming an undeclared topic is refused when the topology is read."""
    document = {
        "defaults": {
            "replication_factor": 1,
            "min_insync_replicas": 1,
            "partitions": 1,
            "retention": "1d",
            "cleanup_policy": "delete",
        },
        "topics": {"a": {}},
        "services": {"s": {"consumes": ["a"], "ordering": "ordered", "produces": ["b"]}},
    }
    with pytest.raises(TopologyFileError, match="produces undeclared"):
        parse(document)
