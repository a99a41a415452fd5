"""The adapters' protocol: a JSON spec on stdin, one JSON result line on stdout.

Spec keys: `benchmark`, `bootstrap`, `topic`, `dlq_topic`, `group`, `dataset` (JSON lines file),
`schema` (the Avro schema file), `events`, `partitions`, `time_cap`, `rate`, `duration`,
`io_delay`. Result: `{"supported": false, "reason": ...}` or `{"supported": true, "metrics":
{name: value}, "behaviour": text}`; `bench.harness` turns metrics into records.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Mapping
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
