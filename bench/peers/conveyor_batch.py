"""conveyor with a batch handler, for benchmark 2 only: the handler kind a bulk sink (analytics,
search indexing) registers with `Service.batch_handler`. Runs in the project's virtualenv."""

from __future__ import annotations

from bench.peers.common import Progress
from bench.peers.conveyor_system import run_until
from bench.peers.protocol import Result, Spec, measured, serve
from conveyor.log_output import configure_json_logs
from conveyor.runtime import BatchContext, BatchPolicy, Service
from shop_events import UserSignedUp

# As many as the raw loop's and FastStream's batches hold; a partial batch waits 50 ms at most.
POLICY = BatchPolicy(max_size=500, max_wait=0.05)


def consume(spec: Spec) -> Result:
    progress = Progress(spec["events"])
    service = Service(spec["group"])

    @service.batch_handler(UserSignedUp, POLICY)
    async def load(events: list[UserSignedUp], ctx: BatchContext) -> None:
        progress.tick(len(events))

    run_until(service, spec, lambda: progress.finished)
    return measured(
        "async no-op batch handler (up to 500 events, 50 ms); events decoded to the model; "
        "completed offsets committed",
        events_per_s=progress.rate(),
        handled=progress.done,
    )


if __name__ == "__main__":
    configure_json_logs("INFO")  # what a service's main does: JSON logs, INFO and up
    serve({"consume": consume})
