"""The cluster's metadata through an admin client, and so the first contact with a cluster.

A broker must answer within the timeout: no answer means a wrong address or no cluster at all
(`BrokerUnreachableError`). A refusal (wrong password, untrusted certificate) reaches only the
client's error callback; remembered, it ends the wait at once (`BrokerRefusedError`) instead of
after the timeout. Transient errors within the timeout are asked again (`wait_out`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from confluent_kafka import KafkaError, KafkaException

from conveyor.clients.errors import (
    BrokerRefusedError,
    BrokerUnreachableError,
    KafkaUnavailableError,
)
from conveyor.clients.logs import admin_client
from conveyor.clients.transient import is_transient
from conveyor.clients.waiting import Outage, wait_out

T = TypeVar("T")

REFUSAL_CHECK_INTERVAL: Final = 1.0  # seconds between looks at the refusals the client reported
QUIET: Final[dict[str, Any]] = {"log_level": 0}  # callers report broker trouble themselves


class Contact:
    """An admin client whose requests are bounded by `timeout` and end early on a refusal."""

    def __init__(self, bootstrap: str, timeout: float = 10.0) -> None:
        self.bootstrap = bootstrap
        self.timeout = timeout
        self._refusal: KafkaError | None = None
        self.admin = admin_client(
            {"bootstrap.servers": bootstrap, **QUIET, "error_cb": self._on_error}
        )
        self._outage = Outage("kafka operations", bootstrap=bootstrap)

    def ask(self, call: Callable[[], T]) -> T:
        """`call()`, asked again on transient errors until the timeout."""
        return wait_out(call, self._outage, timeout=self.timeout)

    def metadata(self) -> Any:
        """The cluster's metadata: `BrokerRefusedError` as soon as a broker refused the
        connection, `BrokerUnreachableError` when none answered within the timeout."""
        try:
            return self.ask(self._list_topics)
        except (KafkaException, KafkaUnavailableError) as exc:
            if self._refusal is not None:
                raise BrokerRefusedError(self.bootstrap, self._refusal) from exc
            raise BrokerUnreachableError(self.bootstrap, self.timeout) from exc

    def _on_error(self, error: KafkaError) -> None:
        if not is_transient(error):
            self._refusal = error

    def _list_topics(self) -> Any:
        """The cluster's metadata, asked in short slices so a refusal ends the wait early."""
        if self._refusal is not None:
            raise KafkaException(self._refusal)
        return self.admin.list_topics(timeout=min(self.timeout, REFUSAL_CHECK_INTERVAL))


def first_contact(bootstrap: str, timeout: float) -> None:
    """Return once a broker at `bootstrap` answers; the errors of `Contact.metadata`."""
    Contact(bootstrap, timeout).metadata()
