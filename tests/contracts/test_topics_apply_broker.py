"""`topics apply` against a real broker: idempotent, dry runs and refusals change nothing.

Every test applies its own uniquely prefixed topology, so it never touches other tests' topics.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.topology import (
    ChangeKind,
    TopicSpec,
    Topology,
    TopologyAdmin,
    UnsafeChangeError,
    apply,
)
from tests.project import PROJECT

pytestmark = pytest.mark.kafka


@pytest.fixture
def prefix(admin: AdminClient) -> Iterator[str]:
    """A unique topic-name prefix; the test's topics are deleted afterwards."""
    value = f"t-topo-{uuid.uuid4().hex[:8]}-"
    yield value
    names = [n for n in admin.list_topics(timeout=10).topics if n.startswith(value)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            future.result(timeout=30)


@pytest.fixture
def topology_admin(kafka_bootstrap: str) -> TopologyAdmin:
    return TopologyAdmin(kafka_bootstrap, timeout=30)


def topic(name: str, partitions: int = 2, retention_ms: int = 3_600_000) -> TopicSpec:
    return TopicSpec(name, partitions, 1, 1, retention_ms, "delete")


def test_declared_topology_applies_once_and_then_changes_nothing(
    topology_admin: TopologyAdmin, prefix: str
) -> None:
    """The real topics.yaml creates every topic on the first apply; the second plans nothing."""
    topology = PROJECT.topology().with_prefix(prefix)

    first = apply(topology, topology_admin)
    second = apply(topology, topology_admin)

    assert {c.kind for c in first.changes} == {ChangeKind.CREATE}
    assert len(first.changes) == len(topology.topics)
    assert second.is_empty
    assert set(second.unchanged) == {t.name for t in topology.topics}
    parked = topology_admin.describe([f"{prefix}payments.parked"])[f"{prefix}payments.parked"]
    assert parked.configs["cleanup.policy"] == "compact"
    assert parked.partitions == 12


def test_dry_run_changes_nothing(topology_admin: TopologyAdmin, prefix: str) -> None:
    """A dry run plans creation, growth and a config change, and the cluster stays as it was."""
    apply(Topology((topic(f"{prefix}a"),)), topology_admin)
    before = topology_admin.describe([f"{prefix}a", f"{prefix}b"])
    wanted = Topology(
        (topic(f"{prefix}a", partitions=4, retention_ms=7_200_000), topic(f"{prefix}b"))
    )

    planned = apply(wanted, topology_admin, dry_run=True)

    assert [c.kind for c in planned.changes] == [
        ChangeKind.ADD_PARTITIONS,
        ChangeKind.ALTER_CONFIGS,
        ChangeKind.CREATE,
    ]
    assert topology_admin.describe([f"{prefix}a", f"{prefix}b"]) == before


def test_partitions_and_configs_are_updated_in_place(
    topology_admin: TopologyAdmin, prefix: str
) -> None:
    """More partitions and a new retention are applied to the existing topic."""
    name = f"{prefix}grow"
    apply(Topology((topic(name),)), topology_admin)

    apply(Topology((topic(name, partitions=4, retention_ms=7_200_000),)), topology_admin)

    found = topology_admin.describe([name])[name]
    assert found.partitions == 4
    assert found.configs["retention.ms"] == "7200000"


def test_refused_change_stops_the_whole_apply(topology_admin: TopologyAdmin, prefix: str) -> None:
    """Declaring fewer partitions refuses with the reason, and no other change is made either."""
    apply(Topology((topic(f"{prefix}wide", partitions=4),)), topology_admin)
    lines: list[str] = []

    with pytest.raises(UnsafeChangeError, match="cannot remove partitions"):
        apply(
            Topology((topic(f"{prefix}wide", partitions=2), topic(f"{prefix}new"))),
            topology_admin,
            report=lines.append,
        )

    assert f"{prefix}new" not in topology_admin.describe([f"{prefix}new"])
    assert any(line.startswith(f"! refused {prefix}wide") for line in lines)


def test_cli_dry_run_prints_the_plan_of_the_real_file(
    kafka_bootstrap: str, admin: AdminClient
) -> None:
    """`conveyor topics apply --dry-run` on the real file plans its topics and changes nothing."""
    before = set(admin.list_topics(timeout=10).topics)
    result = CliRunner(env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}).invoke(
        cli, ["topics", "apply", "--dry-run"]
    )

    assert result.exit_code == 0, result.output
    assert "dry run: nothing was changed" in result.output
    if "order.events" not in before:  # else another test (the pipeline's) applied the file
        assert "create order.events" in result.output
    # Other tests share the broker and create topics meanwhile: only the file's must not appear.
    appeared = set(admin.list_topics(timeout=10).topics) - before
    assert not appeared & {topic.name for topic in PROJECT.topology().topics}


def test_cli_applies_a_file_and_lists_it_as_matching(
    kafka_bootstrap: str, prefix: str, tmp_path: Path
) -> None:
    """`topics apply --file` creates the declared topic; `topics list` then shows it as ok."""
    topology_file = tmp_path / "topics.yaml"
    topology_file.write_text(
        "defaults: {replication_factor: 1, min_insync_replicas: 1, retention: 1h, "
        "cleanup_policy: delete}\n"
        f"topics:\n  {prefix}cli:\n    partitions: 2\n"
    )
    runner = CliRunner(env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "COLUMNS": "200"})

    applied = runner.invoke(cli, ["topics", "apply", "--file", str(topology_file)])
    listed = runner.invoke(cli, ["topics", "list", "--file", str(topology_file)])

    assert applied.exit_code == 0, applied.output
    assert f"+ create {prefix}cli: 2 partitions" in applied.output
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if f"{prefix}cli" in line)
    assert "2p rf1 isr1 1h delete" in row
    assert row.rstrip(" │").endswith("ok")
