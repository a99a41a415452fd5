"""Follow-up events (payments' `OrderPaid`, fulfillment's `OrderShipped`) get an event id derived
from the event that caused them: the same cause, the same id. Their services are transactional, so
a follow-up is visible once to read_committed readers; the derived id also lets a reader that
sees aborted copies (read_uncommitted) or a replay recognise the duplicate.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("4f3c2a8e-6d0b-4c1e-9a57-2b8f0d6e1c93")


def follow_up_id(cause: uuid.UUID, kind: str) -> uuid.UUID:
    """The id of the `kind` event caused by event `cause`: the same inputs, the same id."""
    return uuid.uuid5(_NAMESPACE, f"{cause}/{kind}")
