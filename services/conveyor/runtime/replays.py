"""`ctx.in_replay`: events inside a replay window that `conveyor replay` recorded.

The windows are loaded once when the service starts (a replay only happens while the service is
stopped); a service without any uses the plain `Router`, so the usual path costs nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from conveyor.runtime.context import ReplayCheck
from conveyor.runtime.router import Router
from conveyor.runtime.service import Service
from conveyor.runtime.work import PartitionState, WorkItem
from conveyor.typing import Codec


class ReplayAwareRouter(Router):
    """A `Router` that marks the work items inside a replay window."""

    def __init__(self, service: Service, codec: Codec, in_replay: ReplayCheck) -> None:
        super().__init__(service, codec)
        self._in_replay = in_replay

    def route(self, message: Any, partition: PartitionState, offset: int) -> WorkItem | None:
        item = super().route(message, partition, offset)
        if item is not None and self._in_replay(
            item.partition.topic, item.partition.partition, item.offset
        ):
            item.meta = replace(item.meta, in_replay=True)
        return item


def router_for(service: Service, codec: Codec, in_replay: ReplayCheck | None) -> Router:
    return (
        Router(service, codec)
        if in_replay is None
        else ReplayAwareRouter(service, codec, in_replay)
    )
