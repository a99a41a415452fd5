"""The Grafana dashboard in deploy/grafana/ and the Prometheus alerts in deploy/prometheus/:
well formed, and every query asks for metrics and labels the code actually exports, so a
renamed metric breaks this test rather than a dashboard nobody looks at until an incident."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from conveyor import naming
from conveyor.policies.metrics import PolicyMetrics
from conveyor.runtime.metrics import RuntimeMetrics
from gateway.metrics import GatewayMetrics
from tests.deploy import promql

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "conveyor.json"
ALERTS = ROOT / "deploy" / "prometheus" / "conveyor-alerts.yaml"
ALERT_TESTS = ROOT / "deploy" / "prometheus" / "conveyor-alerts.test.yaml"
DASHBOARD_SCHEMA = json.loads((Path(__file__).parent / "grafana-dashboard.schema.json").read_text())
LABEL_VALUES = re.compile(r"label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)")
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
}


def exported() -> dict[str, frozenset[str]]:
    """Every series a service process and a gateway serve, with its label names."""
    runtime = RuntimeMetrics("svc")
    PolicyMetrics(runtime)
    runtime.for_event_type("e").duration.observe(0.01)  # the histogram's own collector
    runtime.lag.labels("svc", naming.retry_topic("svc", 1), "0").set(1)  # retry tier depth
    series: dict[str, frozenset[str]] = {}
    for registry in (runtime.registry, GatewayMetrics().registry):
        _one_child_each(registry)
        for family in registry.collect():
            for sample in family.samples:
                series[sample.name] = frozenset(sample.labels)
    return series


def _one_child_each(registry: CollectorRegistry) -> None:
    """A labelled metric has no series before its first child: make one of each, so the
    samples show its label names (prometheus-client offers no public way to list them)."""
    for collector in list(registry._collector_to_names):
        names = getattr(collector, "_labelnames", ())
        parent = not getattr(collector, "_labelvalues", ())
        if isinstance(collector, MetricWrapperBase) and names and parent:
            collector.labels(*("x" for _ in names))


def problems(expr: str, series: dict[str, frozenset[str]]) -> list[str]:
    """What in `expr` the code does not export: unknown metric names, labels a selector
    matches on that its metric lacks, labels grouped by that none of its metrics has."""
    query = promql.read(expr)
    found = []
    for selector in query.selectors:
        if selector.metric not in series:
            found.append(f"unknown metric {selector.metric!r}")
        elif missing := selector.matched - series[selector.metric]:
            found.append(f"{selector.metric} has no label {sorted(missing)}")
    available = frozenset().union(*(series.get(s.metric, frozenset()) for s in query.selectors))
    if missing := query.grouping - available:
        found.append(f"grouped by {sorted(missing)}, which no metric of the query has")
    if not query.selectors:
        found.append("selects no metric")
    return found


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expression) of every panel query and variable query (a variable's
    `label_values(m, l)` read as `sum by (l) (m)`, which asks the same of `m`)."""
    board = dashboard()
    queries = [
        (panel["title"], target["expr"])
        for panel in board["panels"]
        for target in panel.get("targets", [])
    ]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            found = LABEL_VALUES.fullmatch(variable["query"]["query"])
            assert found is not None, variable["name"]
            metric, label = found.groups()
            queries.append((f"${variable['name']}", f"sum by ({label}) ({metric})"))
    return queries


def test_the_dashboard_matches_its_schema_with_unique_ids_and_no_overlapping_panels() -> None:
    """Grafana accepts what it does not know and drops it silently: the schema is strict, and
    panels (whose ids Grafana keys state on) are unique and do not cover one another."""
    board = dashboard()
    jsonschema.validate(board, DASHBOARD_SCHEMA)
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        covered = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, f"{panel['title']} overlaps another panel"
        cells |= covered


def test_every_dashboard_query_uses_metrics_and_labels_the_code_exports() -> None:
    series = exported()
    found = {title: problems(expr, series) for title, expr in dashboard_queries()}
    assert {title: p for title, p in found.items() if p} == {}


def test_every_alert_is_well_formed_and_uses_metrics_and_labels_the_code_exports() -> None:
    """Each rule has a name, an expression, a severity, and a summary and description for the
    person paged; its expression selects what the code exports."""
    series = exported()
    rules = alert_rules()
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert {"summary", "description"} <= set(rule["annotations"])
        assert problems(rule["expr"], series) == [], rule["alert"]
    assert len({rule["alert"] for rule in rules}) == len(rules)


def test_the_alerts_watch_lag_seconds_dead_letters_the_breaker_and_handler_errors() -> None:
    used = {s.metric for rule in alert_rules() for s in promql.read(rule["expr"]).selectors}
    assert {
        "conveyor_partition_lag_seconds",
        "conveyor_events_dead_lettered_total",
        "conveyor_dead_letter_breaker_open",
        "conveyor_events_failed_total",
    } <= used


def test_a_query_the_code_cannot_answer_is_reported() -> None:
    """The check itself: a misspelt metric, a label the metric lacks, a grouping by a label no
    metric has, are each reported; what the code exports is not."""
    series = exported()

    assert problems('sum by (service) (conveyor_partition_lag{service=~"$s"})', series) == []
    assert problems("conveyor_partition_lags", series) == [
        "unknown metric 'conveyor_partition_lags'"
    ]
    assert problems('conveyor_in_flight{topic="t"}', series) == [
        "conveyor_in_flight has no label ['topic']"
    ]
    assert problems("sum by (route) (conveyor_parked_keys)", series) == [
        "grouped by ['route'], which no metric of the query has"
    ]
    assert problems("rate(conveyor_events_processed[5m])", series) == [
        "unknown metric 'conveyor_events_processed'"  # a counter's series end in _total
    ]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian: prometheus)")
def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    """Prometheus's own checker parses every expression and template, and the rule unit tests
    (deploy/prometheus/conveyor-alerts.test.yaml) fire each alert on the series meant to."""
    for command in (["check", "rules", str(ALERTS)], ["test", "rules", str(ALERT_TESTS)]):
        result = subprocess.run(
            ["promtool", *command], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
