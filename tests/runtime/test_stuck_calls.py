"""A transactional call that outlives its deadline is reported as stuck, not waited on forever
(librdkafka can block past a call's own timeout when a group coordinator leaves the cluster)."""

from __future__ import annotations

import threading
import time

import pytest

from conveyor.runtime.transactions import TransactionStuckError, within


def test_a_call_that_never_returns_is_reported_stuck_at_its_deadline() -> None:
    release = threading.Event()

    def blocked() -> None:
        release.wait()

    started = time.monotonic()
    with pytest.raises(TransactionStuckError, match="send_offsets_to_transaction"):
        within(blocked, 0.2, "send_offsets_to_transaction")
    assert 0.2 <= time.monotonic() - started < 2.0
    release.set()


def test_a_call_that_fails_in_time_raises_its_own_error() -> None:
    def refuse() -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        within(refuse, 5.0, "commit_transaction")


def test_a_call_that_returns_in_time_passes() -> None:
    calls: list[str] = []
    within(lambda: calls.append("done"), 5.0, "commit_transaction")
    assert calls == ["done"]
