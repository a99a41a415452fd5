"""What a chaos run sends and does: the plan (sizes and fault counts, small or full), and the
traffic it implies, with the outcome each service must reach for every message."""

from __future__ import annotations

from dataclasses import dataclass, field

from shop_events import UserSignedUp
from tests.project import repo_codec


@dataclass(frozen=True)
class ChaosPlan:
    """Sizes of one run. `small` fits in `make test`; `full` is `make chaos`."""

    events: int
    keys: int
    partitions: int
    ordered_processes: int = 3
    unordered_processes: int = 2
    poison: int = 3  # undecodable values of a handled type: dead-lettered at once
    garbage: int = 4  # tombstones and types no handler takes: skipped
    failing: int = 3  # events failing on every attempt: dead letters, and a parked key (ordered)
    process_kills: int = 2
    process_terms: int = 2
    broker_kills: int = 1
    broker_pauses: int = 1
    storm_members: int = 2
    publish_seconds: float = 40.0  # the traffic is spread over this long, faults meanwhile
    broker_down_seconds: float = 8.0
    pause_seconds: float = 12.0  # past the broker session timeout (9 s): its leaderships move
    lag_deadline: float = 60.0  # after the last fault, both groups must be caught up by then
    # past the deadline the run still waits this long, so that the other checks judge a
    # finished run rather than one that was merely slow
    settle_seconds: float = 120.0

    @classmethod
    def small(cls) -> ChaosPlan:
        return cls(events=3000, keys=100, partitions=6)

    @classmethod
    def full(cls) -> ChaosPlan:
        return cls(
            events=100_000,
            keys=1000,
            partitions=12,
            poison=10,
            garbage=10,
            failing=10,
            process_kills=10,
            process_terms=4,
            broker_kills=3,
            broker_pauses=2,
            storm_members=4,
            publish_seconds=420.0,  # about 240 events/s: what 2 shared cores handle with room
            settle_seconds=600.0,
        )

    @property
    def processes(self) -> dict[str, int]:
        return {"ordered": self.ordered_processes, "unordered": self.unordered_processes}

    @property
    def per_key(self) -> int:
        return self.events // self.keys


@dataclass(frozen=True)
class Sent:
    """One event of the traffic: its key, its place in the key's sequence, its id."""

    key: str
    seq: int
    event_id: str


@dataclass
class Traffic:
    """The messages of a run, in send order, and the events chosen to fail."""

    plan: ChaosPlan
    events: list[UserSignedUp] = field(default_factory=list)
    failing: dict[str, int] = field(default_factory=dict)  # key -> seq of its failing event

    @classmethod
    def of(cls, plan: ChaosPlan) -> Traffic:
        traffic = cls(plan)
        for seq in range(plan.per_key):
            traffic.events.extend(
                UserSignedUp(user_id=f"user-{k}", email="someone@example.org", name=str(seq))
                for k in range(plan.keys)
            )
        # spread over the key space, halfway through each key's sequence
        stride = max(1, plan.keys // max(1, plan.failing))
        for n in range(plan.failing):
            traffic.failing[f"user-{n * stride + stride // 2}"] = plan.per_key // 2
        return traffic

    def failing_env(self) -> str:
        return ",".join(f"{key}:{seq}" for key, seq in sorted(self.failing.items()))

    def is_failing(self, event: UserSignedUp) -> bool:
        return self.failing.get(event.user_id) == int(event.name)

    def is_parked_behind(self, event: UserSignedUp) -> bool:
        """An ordered service sends this event after its key's failing one to the dead letters."""
        failing_at = self.failing.get(event.user_id)
        return failing_at is not None and int(event.name) > failing_at

    def failing_event(self, key: str) -> UserSignedUp:
        seq = self.failing[key]
        return next(e for e in self.events if e.user_id == key and int(e.name) == seq)


def poison_value(n: int) -> bytes:
    """Undecodable: a real event's single-object header (so the type is known) and a cut body,
    or bytes with no header at all."""
    if n % 2:
        return b"\x00\xffnot an event at all"
    event = UserSignedUp(user_id=f"poison-{n}", email="someone@example.org", name="0")
    return repo_codec().encode(event)[:12]
