"""The adapters' protocol: a JSON spec on stdin, one JSON result line on stdout.

Spec keys: `benchmark`, `bootstrap`, `topic`, `dlq_topic`, `group`, `dataset` (JSON lines file),
`schema` (the Avro schema file), `events`, `partitions`, `time_cap`, `rate`, `duration`,
`io_delay`. Result: `{"supported": false, "reason": ...}` or `{"supported": true, "metrics":
{name: value}, "behaviour": text}`; `bench.harness` turns metrics into records.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "

Spec = Mapping[str, Any]
Result = dict[str, Any]
Benchmark = Callable[[Spec], Result]


def unsupported(reason: str) -> Result:
    return {"supported": False, "reason": reason}


def measured(behaviour: str = "", **metrics: float) -> Result:
    return {"supported": True, "metrics": metrics, "behaviour": behaviour}


def serve(benchmarks: Mapping[str, Benchmark]) -> None:
    """Run the benchmark the spec on stdin names and print its result line."""
    spec = json.load(sys.stdin)
    run = benchmarks.get(spec["benchmark"])
    try:
        result = run(spec) if run else unsupported("no adapter for this benchmark")
    except Exception as exc:
        traceback.print_exc()
        result = {"supported": True, "error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()


def run_async(run: Callable[[Spec], Awaitable[Result]]) -> Benchmark:
    """A benchmark written as a coroutine, run on its own event loop."""
    return lambda spec: asyncio.run(run(spec))  # type: ignore[arg-type]


def serve_all(
    publish: Benchmark,
    consume: Benchmark,
    io_bound: Benchmark,
    latency: Benchmark,
    failure: Benchmark,
) -> None:
    """`serve` an adapter that runs all five benchmarks."""
    serve(
        {
            "publish": publish,
            "consume": consume,
            "io_bound": io_bound,
            "latency": latency,
            "failure": failure,
        }
    )
