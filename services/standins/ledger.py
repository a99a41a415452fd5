"""What a stand-in created, once per idempotency key: a replayed key gets the first answer back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """The status and body a key got the first time; replays of the key get them again."""

    status: int
    body: Record


@dataclass
class Ledger:
    """Records side effects keyed by idempotency key. Thread-safe."""

    answers: dict[str, Answer] = field(default_factory=dict)
    replays: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def once(self, key: str, effect: Callable[[], Answer]) -> tuple[Answer, bool]:
        """Run `effect` the first time `key` is seen; return its answer and whether it replayed."""
        with self._lock:
            known = self.answers.get(key)
            if known is not None:
                self.replays += 1
                return known, True
            answer = effect()
            self.answers[key] = answer
            return answer, False

    def records(self) -> list[Record]:
        with self._lock:
            return [answer.body for answer in self.answers.values()]
