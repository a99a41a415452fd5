"""Apply a topology: read the cluster, print the plan, refuse unsafe changes, then act."""

from __future__ import annotations

from collections.abc import Callable

from conveyor.topology.admin import TopologyAdmin
from conveyor.topology.errors import UnsafeChangeError
from conveyor.topology.model import Topology
from conveyor.topology.plan import Plan, plan


def apply(
    topology: Topology,
    admin: TopologyAdmin,
    *,
    dry_run: bool = False,
    report: Callable[[str], None] = lambda line: None,
) -> Plan:
    """Bring the cluster to `topology`: each plan line goes to `report` first. Raises
    `UnsafeChangeError` (having changed nothing) when the plan holds a refusal; in a dry run
    it only plans. Applying the same topology again plans nothing."""
    current = admin.describe(t.name for t in topology.topics)
    planned = plan(topology, current, admin.brokers())
    for line in planned.lines():
        report(line)
    if planned.refusals:
        raise UnsafeChangeError(
            f"nothing was changed: {len(planned.refusals)} topic(s) refused, "
            f"first {planned.refusals[0].topic}: {planned.refusals[0].reason}"
        )
    if not dry_run and planned.changes:
        admin.execute(planned)
    return planned
