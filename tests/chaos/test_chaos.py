"""The chaos suite's small mode: one run (3,000 events over 100 keys, two service processes
killed, two terminated, a rebalance storm, a broker node killed and one paused) on the session's
3-node cluster, then one test per check, so a failure names what broke. `make chaos` runs the
full mode (`python -m tests.chaos --full`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conveyor.localkafka import LocalKafka
from tests.chaos.checks import NAMES, Check
from tests.chaos.plan import ChaosPlan
from tests.chaos.scenario import ChaosReport, run_chaos

pytestmark = [pytest.mark.kafka, pytest.mark.cluster]


@pytest.fixture(scope="module")
def report(kafka_cluster: LocalKafka, tmp_path_factory: pytest.TempPathFactory) -> ChaosReport:
    workdir: Path = tmp_path_factory.mktemp("chaos")
    done = run_chaos(kafka_cluster, ChaosPlan.small(), workdir, say=lambda line: None)
    print(done.render())  # shown with the failing test's output: the figures and every check
    return done


def _holds(report: ChaosReport, index: int) -> None:
    check: Check = report.check(NAMES[index])
    assert check.passed, check.detail


def test_nothing_acknowledged_is_lost(report: ChaosReport) -> None:
    """Every event the broker acknowledged was handled or dead-lettered by both services."""
    _holds(report, 0)


def test_each_keys_events_are_first_handled_in_order(report: ChaosReport) -> None:
    """The ordered service first handled each key's events in the key's order."""
    _holds(report, 1)


def test_no_side_effect_happens_twice(report: ChaosReport) -> None:
    """Redeliveries happened, and the idempotency store absorbed every one: one row per event."""
    _holds(report, 2)


def test_dead_letters_are_exactly_the_expected_events_with_their_headers(
    report: ChaosReport,
) -> None:
    """Poison, the events failing for good and (ordered) the events parked behind them, and
    nothing else, each with the dead-letter headers, a parked key's letters in its order."""
    _holds(report, 3)


def test_parked_keys_are_exactly_the_keys_of_the_failing_events(report: ChaosReport) -> None:
    """The ordered service parked the keys of the events failing for good, and no other."""
    _holds(report, 4)


def test_no_service_process_exits_unasked(report: ChaosReport) -> None:
    """No process ended but those killed or terminated on purpose, and those exited 0."""
    _holds(report, 5)


def test_lag_reaches_zero_after_the_last_fault(report: ChaosReport) -> None:
    """Both groups committed everything within the plan's deadline after the last fault."""
    _holds(report, 6)


def test_every_log_line_of_every_service_is_json(report: ChaosReport) -> None:
    """No raw librdkafka line (or anything else) beside the JSON log stream."""
    _holds(report, 7)


def test_each_dead_letter_is_written_once(report: ChaosReport) -> None:
    """No source record reached the dead letters twice, redeliveries notwithstanding."""
    _holds(report, 8)
