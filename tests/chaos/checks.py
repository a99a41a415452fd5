"""The checks of a chaos run, each a pure function of what the run observed, returning a
`Check`: its name, whether it held, and the evidence in a line or two."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from conveyor import naming
from conveyor.deadletter import SourceRecord
from tests.chaos.fleet import Exit
from tests.chaos.observe import Handling
from tests.chaos.plan import Traffic


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class ServiceView:
    """One service as the run left it, and what it should have done."""

    name: str
    ordered: bool
    attempts: int  # what its retry policy allows, the first try included
    handled: list[Handling]
    effects: list[str]
    dead: list[SourceRecord]
    parked: set[tuple[str, bytes]] = field(default_factory=set)


@dataclass
class RunView:
    """Everything the checks judge."""

    topic: str
    traffic: Traffic
    acked: dict[str, tuple[int, int]]
    services: list[ServiceView]
    exits: list[Exit]
    log_files: list[Path]
    seconds_to_zero_lag: float | None
    lag_deadline: float
    final_lag: dict[str, int]


NAMES = (
    "nothing acknowledged is lost",
    "per-key order of first handlings",
    "no duplicate side effect",
    "dead letters hold exactly the expected events, with their headers",
    "parked keys are exactly the expected ones",
    "no service process exits unasked",
    "lag reaches 0 after the last fault",
    "every log line is JSON",
    "each dead letter is written once",
)


def expected_dead(run: RunView, service: ServiceView) -> set[str]:
    """Idents (event ids, `poison-<n>`) the service must dead-letter, of those acknowledged."""
    traffic = run.traffic
    idents = {f"poison-{n}" for n in range(traffic.plan.poison)}
    for event in traffic.events:
        if traffic.is_failing(event) or (service.ordered and traffic.is_parked_behind(event)):
            idents.add(str(event.event_id))
    return idents & run.acked.keys()


def expected_handled(run: RunView, service: ServiceView) -> set[str]:
    events = {str(e.event_id) for e in run.traffic.events}
    return (events & run.acked.keys()) - expected_dead(run, service)


def ident(record: SourceRecord) -> str:
    event_id = record.header(naming.EVENT_ID)
    if event_id is not None:
        return event_id.decode()
    return (record.key or b"").decode()


def nothing_lost(run: RunView) -> Check:
    lines, passed = [], True
    for service in run.services:
        handled = {h.event_id for h in service.handled}
        dead = {ident(r) for r in service.dead}
        missing = (expected_handled(run, service) - handled) | (expected_dead(run, service) - dead)
        passed &= not missing
        lines.append(
            f"{service.name}: {len(missing)} acknowledged messages neither handled nor "
            f"dead-lettered" + (f" (e.g. {sorted(missing)[:3]})" if missing else "")
        )
    unacked = len(_event_ids(run) - run.acked.keys())
    lines.append(f"{len(run.acked)} messages acknowledged, {unacked} events not")
    return Check(NAMES[0], passed and unacked == 0, "; ".join(lines))


def _event_ids(run: RunView) -> set[str]:
    return {str(e.event_id) for e in run.traffic.events}


def key_order(run: RunView) -> Check:
    disordered: list[str] = []
    for service in (s for s in run.services if s.ordered):
        first: dict[str, list[int]] = {}
        seen: set[str] = set()
        for handling in service.handled:
            if handling.event_id not in seen:
                seen.add(handling.event_id)
                first.setdefault(handling.key, []).append(handling.seq)
        disordered += [
            f"{service.name} {key}: {seqs[:12]}"
            for key, seqs in first.items()
            if seqs != sorted(seqs)
        ]
    detail = f"{len(disordered)} keys out of order" + (f": {disordered[:3]}" if disordered else "")
    return Check(NAMES[1], not disordered, detail)


def no_duplicate_effect(run: RunView) -> Check:
    lines, passed = [], True
    for service in run.services:
        rows = Counter(service.effects)
        twice = [event for event, count in rows.items() if count > 1]
        handled = {h.event_id for h in service.handled}
        without = handled - rows.keys()
        passed &= not twice and not without
        lines.append(
            f"{service.name}: {len(rows)} side effects for {len(handled)} events handled "
            f"{len(service.handled)} times, {len(twice)} written twice, {len(without)} missing"
        )
    redelivered = sum(len(s.handled) - len({h.event_id for h in s.handled}) for s in run.services)
    if not redelivered:
        lines.append("no event was handled twice: the faults tested nothing here")
    return Check(NAMES[2], passed and redelivered > 0, "; ".join(lines))


def dead_letters_exact(run: RunView) -> Check:
    lines, passed = [], True
    for service in run.services:
        found = {ident(r) for r in service.dead}
        expected = expected_dead(run, service)
        unexpected, missing = found - expected, expected - found
        bad_headers = [
            f"{ident(r)}: {problem}"
            for r in service.dead
            if (problem := _header_problem(run, service, r))
        ]
        disordered = _parked_out_of_order(run, service)
        passed &= not unexpected and not missing and not bad_headers and not disordered
        lines.append(
            f"{service.name}: {len(found)} dead-lettered events of {len(expected)} expected, "
            f"{len(unexpected)} unexpected, {len(missing)} missing, "
            f"{len(bad_headers)} with wrong headers, {len(disordered)} parked keys out of order"
            + (f" (e.g. {[*sorted(unexpected)[:2], *bad_headers[:2], *disordered[:2]]})"
               if unexpected or bad_headers or disordered else "")
        )  # fmt: skip
    return Check(NAMES[3], passed, "; ".join(lines))


def _header_problem(run: RunView, service: ServiceView, record: SourceRecord) -> str:
    missing = [h for h in naming.DEAD_LETTER_HEADERS if record.header(h) is None]
    if missing:
        return f"missing {missing}"
    origin = (record.header(naming.ORIGINAL_TOPIC), record.header(naming.CONSUMER_GROUP))
    if origin != (run.topic.encode(), service.name.encode()):
        return f"origin {origin}"
    key = (record.key or b"").decode()
    attempts = int(record.header(naming.ATTEMPTS) or 0)
    if key.startswith("poison-"):
        return "" if attempts == 1 else f"poison after {attempts} attempts"
    if key not in run.traffic.failing:
        return "not an event chosen to fail"
    return _failing_key_problem(run, service, record, attempts)


def _failing_key_problem(
    run: RunView, service: ServiceView, record: SourceRecord, attempts: int
) -> str:
    """The failing event itself is dead-lettered after every attempt; the key's later events
    (ordered) are marked parked behind it."""
    key = (record.key or b"").decode()
    error_type = (record.header(naming.ERROR_TYPE) or b"").decode()
    behind = record.header(naming.PARKED_BEHIND)
    first = str(run.traffic.failing_event(key).event_id)
    if ident(record) == first:
        if not error_type.endswith("DownstreamRefusedError") or attempts != service.attempts:
            return f"{error_type} after {attempts} attempts"
        return "" if behind is None else "the failing event is marked parked behind"
    return "" if behind == first.encode() else f"parked behind {behind!r}"


def _parked_out_of_order(run: RunView, service: ServiceView) -> list[str]:
    """Keys whose dead letters (first writes) are not in the key's order."""
    if not service.ordered:
        return []
    seq_of = {str(e.event_id): int(e.name) for e in run.traffic.events}
    per_key: dict[str, list[int]] = {}
    seen: set[str] = set()
    for record in sorted(service.dead, key=lambda r: (r.partition, r.offset)):
        event = ident(record)
        if event in seq_of and event not in seen:
            seen.add(event)
            per_key.setdefault((record.key or b"").decode(), []).append(seq_of[event])
    return [f"{key}: {seqs[:8]}" for key, seqs in per_key.items() if seqs != sorted(seqs)]


def parked_exact(run: RunView) -> Check:
    lines, passed = [], True
    for service in (s for s in run.services if s.ordered):
        expected = {(run.topic, key.encode()) for key in run.traffic.failing}
        passed &= service.parked == expected
        lines.append(
            f"{service.name}: {len(service.parked)} keys parked, {len(expected)} expected, "
            f"{len(service.parked - expected)} unexpected, {len(expected - service.parked)} missing"
        )
    return Check(NAMES[4], passed, "; ".join(lines))


def no_unasked_exit(run: RunView) -> Check:
    unasked = [e for e in run.exits if not e.asked]
    unclean = [e for e in run.exits if e.asked and e.signal == "SIGTERM" and e.code != 0]
    detail = (
        f"{len(run.exits)} processes stopped on purpose or not, {len(unasked)} unasked, "
        f"{len(unclean)} not exiting 0 on SIGTERM"
    )
    for problem in [*unasked, *unclean][:2]:
        detail += f"\n--- {problem.name} exited {problem.code}:\n{problem.tail}"
    return Check(NAMES[5], not unasked and not unclean, detail)


def lag_zero(run: RunView) -> Check:
    if run.seconds_to_zero_lag is None:
        detail = f"lag still {run.final_lag} when the run stopped waiting"
        return Check(NAMES[6], False, detail)
    detail = f"lag 0 in {run.seconds_to_zero_lag:.1f} s (deadline {run.lag_deadline:.0f} s)"
    return Check(NAMES[6], run.seconds_to_zero_lag <= run.lag_deadline, detail)


def json_logs(run: RunView) -> Check:
    raw: list[str] = []
    lines = 0
    for path in run.log_files:
        for line in _lines(path):
            lines += 1
            if not _is_json_object(line):
                raw.append(f"{path.name}: {line[:160]}")
    detail = f"{lines} lines in {len(run.log_files)} streams, {len(raw)} not JSON"
    return Check(NAMES[7], not raw, detail + "".join(f"\n  {line}" for line in raw[:5]))


def _lines(path: Path) -> Iterable[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text(errors="replace").splitlines() if line.strip()]


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def written_once(run: RunView) -> Check:
    lines, passed = [], True
    for service in run.services:
        sources = Counter(
            (r.header(naming.ORIGINAL_PARTITION), r.header(naming.ORIGINAL_OFFSET))
            for r in service.dead
        )
        twice = sum(1 for count in sources.values() if count > 1)
        passed &= twice == 0
        lines.append(f"{service.name}: {len(service.dead)} dead letters, {twice} written again")
    return Check(NAMES[8], passed, "; ".join(lines))


CHECKS: tuple[Callable[[RunView], Check], ...] = (
    nothing_lost,
    key_order,
    no_duplicate_effect,
    dead_letters_exact,
    parked_exact,
    no_unasked_exit,
    lag_zero,
    json_logs,
    written_once,
)


def judge(run: RunView) -> list[Check]:
    return [check(run) for check in CHECKS]
