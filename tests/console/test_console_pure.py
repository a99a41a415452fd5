"""The console's pure parts, without a broker or a browser: settings, the action guard, the
history behind the charts."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from conveyor.console import guard
from conveyor.console.history import STALLED_SAMPLES, History, Point, activity
from conveyor.console.settings import ConsoleConfigError, ConsoleSettings, Token
from conveyor.ops.broker import Member
from conveyor.ops.status import ServiceStatus

SECRET = "s3cret-token"
ACTIONS = ConsoleSettings(allow_actions=True, token=Token(SECRET))


def _request(**headers: str) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": "/api/services/x/redrive",
        "query_string": b"",
        "server": ("127.0.0.1", 8088),
        "client": ("127.0.0.1", 50000),
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope)


SAME_ORIGIN = {
    "host": "127.0.0.1:8088",
    "origin": "http://127.0.0.1:8088",
    "sec_fetch_site": "same-origin",
    "content_type": "application/json",
    "x_conveyor_token": SECRET,
}


def test_actions_need_a_token() -> None:
    """--allow-actions without CONVEYOR_CONSOLE_TOKEN is refused at start, not at first use."""
    with pytest.raises(ConsoleConfigError, match="CONVEYOR_CONSOLE_TOKEN"):
        ConsoleSettings(allow_actions=True)


def test_token_is_never_shown() -> None:
    """Neither the token nor the settings holding it print the secret."""
    assert SECRET not in repr(Token(SECRET))
    assert SECRET not in repr(ACTIONS)


def test_same_origin_request_with_the_token_may_act() -> None:
    """The console's own page, with the token, passes every check."""
    assert guard.check(_request(**SAME_ORIGIN), ACTIONS, "redrive") is None


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"x_conveyor_token": "wrong"}, 401),
        ({"x_conveyor_token": ""}, 401),
        ({"origin": "http://evil.example"}, 403),
        ({"origin": "null"}, 403),
        ({"sec_fetch_site": "cross-site"}, 403),
        ({"sec_fetch_site": "same-site"}, 403),
        ({"content_type": "text/plain"}, 415),
    ],
)
def test_request_is_refused(change: dict[str, str], status: int) -> None:
    """A wrong or missing token, another origin or site, or a body a form could send: refused."""
    refusal = guard.check(_request(**{**SAME_ORIGIN, **change}), ACTIONS, "redrive")
    assert refusal is not None
    assert refusal.status == status


def test_read_only_console_refuses_every_action() -> None:
    """Without --allow-actions even the right token acts on nothing."""
    refusal = guard.check(_request(**SAME_ORIGIN), ConsoleSettings(), "replay")
    assert refusal is not None
    assert refusal.status == 403


def test_only_loopback_hosts_count_as_loopback() -> None:
    """The console trusts Host headers of loopback names only when it listens on loopback."""
    assert ConsoleSettings(host="127.0.0.1").loopback
    assert ConsoleSettings(host="::1").loopback
    assert not ConsoleSettings(host="0.0.0.0").loopback


def _status(waiting: int, members: int = 1, rate: float | None = 0.0) -> ServiceStatus:
    member = Member("m-1", "svc", "/127.0.0.1", ())
    return ServiceStatus(
        service="svc",
        state="stable",
        members=(member,) * members,
        partitions=(),
        retrying={"svc.retry.1": 2},
        parked=1,
        dead_lettered=3,
        taken_at_ms=1000,
        processed=0,
        events_per_second=rate,
    )


def test_history_keeps_the_most_recent_points_only() -> None:
    """A full history drops its oldest point for each new one."""
    history = History(points=3)
    for at in range(5):
        history.add("svc", Point(at, at, 0.0, None, 0, 0, 0))
    assert history.as_columns("svc")["at_ms"] == [2, 3, 4]
    assert history.as_columns("other")["waiting"] == []


def test_running_service_that_handles_nothing_while_events_wait_is_paused() -> None:
    """Members, events waiting and no progress over the last samples read as paused; no
    members read as stopped."""
    waiting = Point(0, 5, 1.0, 0.0, 0, 0, 0)
    assert activity(_status(5), [waiting] * STALLED_SAMPLES) == "paused"
    assert activity(_status(5), [waiting] * (STALLED_SAMPLES - 1)) == "running"
    assert activity(_status(0, members=0), []) == "stopped"
    assert Point.of(_status(5)).retrying == 2
