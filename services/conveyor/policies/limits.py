"""The rate limiters of one service process, and their shares of service-wide limits.

Each member keeps the set of input partitions it owns; after every assignment and revocation
(the poll thread's rebalance callbacks) it counts the partitions the service's input topics
have and gives each `Scope.SERVICE` limiter `max * owned / total` (see `conveyor.ratelimit`).
Counting the topics again at each rebalance follows partitions added to a topic, which makes
the group rebalance anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import structlog
from confluent_kafka import KafkaException

from conveyor import logs
from conveyor.ratelimit import RateLimit, RateLimiter, Scope
from conveyor.runtime.service import Registration

log = structlog.get_logger(__name__)


class Limiters:
    """`inputs`: every topic the service consumes (its own, retry tiers, redrive);
    `count_partitions`: how many partitions some topics have together (a metadata request);
    `shared`: called with each limiter's new share, in events per second."""

    def __init__(
        self,
        service: str,
        limits: Mapping[Registration, RateLimit],
        inputs: Iterable[str],
        count_partitions: Callable[[list[str]], int],
        shared: Callable[[Registration, float], None] = lambda registration, per_s: None,
    ) -> None:
        self._service = service
        self._limiters = {
            registration: RateLimiter(limit) for registration, limit in limits.items()
        }
        self._inputs = set(inputs)
        self._count_partitions = count_partitions
        self._shared_as = shared  # told each new share, in events per second (a metric)
        self._owned: set[tuple[str, int]] = set()
        self._shared = any(limit.scope is Scope.SERVICE for limit in limits.values())

    def get(self, registration: Registration | None) -> RateLimiter | None:
        return self._limiters.get(registration) if registration is not None else None

    def assigned(self, partitions: Iterable[tuple[str, int]]) -> None:
        # every assigned partition is an input, whatever names the inputs were given under
        fresh = set(partitions)
        self._owned.update(fresh)
        self._inputs.update(topic for topic, _ in fresh)
        self._reshare()

    def revoked(self, partitions: Iterable[tuple[str, int]]) -> None:
        self._owned.difference_update(partitions)
        self._reshare()

    def _reshare(self) -> None:
        if not self._shared:
            return
        try:
            total = self._count_partitions(sorted(self._inputs))
        except KafkaException as error:
            # the shares of the last count stay: still the group's split unless topics grew
            log.warning(logs.RATE_LIMIT_RESHARE_FAILED, service=self._service, error=str(error))
            return
        owned = len(self._owned)
        for registration, limiter in self._limiters.items():
            limiter.reshare(owned, total)
            self._shared_as(registration, limiter.share / limiter.limit.duration)
            log.info(
                logs.RATE_LIMIT_RESHARED,
                service=self._service,
                handler=registration.name,
                owned=owned,
                total=total,
                share=round(limiter.share, 3),
                duration_s=limiter.limit.duration,
            )
