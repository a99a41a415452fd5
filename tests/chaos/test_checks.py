"""The chaos checks judge what they claim: a run built to be right passes every one, and each
defect the suite hunts, put into that run, fails exactly its own check."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from conveyor import naming
from conveyor.deadletter import SourceRecord
from shop_events import UserSignedUp
from tests.chaos.checks import NAMES, RunView, ServiceView, judge
from tests.chaos.fleet import Exit
from tests.chaos.observe import Handling
from tests.chaos.plan import ChaosPlan, Traffic

TOPIC = "chaos-t"


def _letter(run: RunView, service: str, ident: str, offset: int, **extra: str) -> SourceRecord:
    key = ident if ident.startswith("poison-") else _key_of(run, ident)
    headers = dict.fromkeys(naming.DEAD_LETTER_HEADERS, b"1")
    headers |= {naming.ORIGINAL_TOPIC: TOPIC.encode(), naming.CONSUMER_GROUP: service.encode()}
    headers |= {naming.ORIGINAL_OFFSET: str(offset).encode()}
    if not ident.startswith("poison-"):
        headers[naming.EVENT_ID] = ident.encode()
    headers |= {name: value.encode() for name, value in extra.items()}
    return SourceRecord(TOPIC, 0, offset, 0, key.encode(), b"v", list(headers.items()))


def _key_of(run: RunView, event_id: str) -> str:
    return next(e.user_id for e in run.traffic.events if str(e.event_id) == event_id)


def _service(run: RunView, name: str, ordered: bool) -> ServiceView:
    traffic = run.traffic
    service = ServiceView(name, ordered, 3 if ordered else 2, [], [], [])
    offsets = {str(e.event_id): n for n, e in enumerate(traffic.events)}
    failing_key = next(iter(traffic.failing))
    first = str(traffic.failing_event(failing_key).event_id)
    service.dead.append(_letter(run, name, "poison-0", 1000, **{naming.ATTEMPTS: "1"}))
    for event in traffic.events:
        event_id = str(event.event_id)
        if traffic.is_failing(event):
            extra = {naming.ATTEMPTS: str(service.attempts),
                     naming.ERROR_TYPE: "tests.chaos.worker.DownstreamRefusedError"}  # fmt: skip
            service.dead.append(_letter(run, name, event_id, offsets[event_id], **extra))
        elif ordered and traffic.is_parked_behind(event):
            extra = {naming.PARKED_BEHIND: first}
            service.dead.append(_letter(run, name, event_id, offsets[event_id], **extra))
        else:
            service.handled.append(_handled(event))
            service.effects.append(event_id)
    service.handled.append(_handled(traffic.events[0], effect=False))  # one redelivery
    if ordered:
        service.parked = {(TOPIC, failing_key.encode())}
    return service


def _handled(event: UserSignedUp, effect: bool = True) -> Handling:
    return Handling(event.user_id, int(event.name), str(event.event_id), effect)


@pytest.fixture
def right(tmp_path: Path) -> RunView:
    """A small run in which everything went as it must."""
    traffic = Traffic.of(ChaosPlan(events=20, keys=4, partitions=1, poison=1, failing=1))
    log = tmp_path / "ordered-1.err"
    log.write_text('{"event": "service.started"}\n')
    acked = {str(e.event_id): (0, n) for n, e in enumerate(traffic.events)} | {"poison-0": (0, 99)}
    run = RunView(TOPIC, traffic, acked, [], [Exit("ordered-1", 0, "SIGTERM")], [log], 1.0, 60, {})
    run.services = [_service(run, "s-ordered", True), _service(run, "s-unordered", False)]
    return run


def _lose_one(run: RunView) -> None:
    run.services[0].handled = [h for h in run.services[0].handled if h.seq != 1]


def _disorder(run: RunView) -> None:
    handled = run.services[0].handled
    first, second = [n for n, h in enumerate(handled) if h.key == handled[0].key][:2]
    handled[first], handled[second] = handled[second], handled[first]


def _effect_twice(run: RunView) -> None:
    run.services[1].effects.append(run.services[1].effects[0])


def _dead_letter_a_handled_event(run: RunView) -> None:
    handled = run.services[0].handled[1]
    run.services[0].dead.append(_letter(run, "s-ordered", handled.event_id, 1))


def _park_another_key(run: RunView) -> None:
    run.services[0].parked.add((TOPIC, b"user-0"))


def _exit_unasked(run: RunView) -> None:
    run.exits.append(Exit("ordered-2", 1, None, "ParkedKeysLoadError"))


def _catch_up_late(run: RunView) -> None:
    run.seconds_to_zero_lag = 61.0


def _raw_line(run: RunView) -> None:
    with run.log_files[0].open("a") as log:
        log.write("%3|1796587248.426|FAIL|rdkafka#consumer-2| Connection refused\n")


def _dead_letter_twice(run: RunView) -> None:
    run.services[1].dead.append(run.services[1].dead[0])


DEFECTS: list[tuple[Callable[[RunView], None], str]] = [
    (_lose_one, NAMES[0]),
    (_disorder, NAMES[1]),
    (_effect_twice, NAMES[2]),
    (_dead_letter_a_handled_event, NAMES[3]),
    (_park_another_key, NAMES[4]),
    (_exit_unasked, NAMES[5]),
    (_catch_up_late, NAMES[6]),
    (_raw_line, NAMES[7]),
    (_dead_letter_twice, NAMES[8]),
]


def test_a_run_that_went_right_passes_every_check(right: RunView) -> None:
    """The reference run is right by construction; every check agrees."""
    assert [c.name for c in judge(right) if not c.passed] == []


@pytest.mark.parametrize(("defect", "check"), DEFECTS, ids=[d.__name__ for d, _ in DEFECTS])
def test_each_defect_fails_its_own_check(
    right: RunView, defect: Callable[[RunView], None], check: str
) -> None:
    """One defect put into the right run fails the check that hunts it, and no other."""
    run = copy.deepcopy(right)
    defect(run)
    assert [c.name for c in judge(run) if not c.passed] == [check]
