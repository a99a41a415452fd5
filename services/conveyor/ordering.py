"""`Ordering`: how a handler's failures may reorder the events of one key.

One value for both places that say it: a handler's `HandlerPolicy.ordering` and a service's
`ordering` in the declared topology (`schemas/topics.yaml`).
"""

from __future__ import annotations

from enum import StrEnum


class Ordering(StrEnum):
    """Both run the events of one key one at a time, in offset order. `ORDERED` keeps that order
    through failures: a failing key retries in place while its later events wait, then parks.
    `UNORDERED` may move a failing event to a retry topic and let the key's later events pass it.
    """

    ORDERED = "ordered"
    UNORDERED = "unordered"
