"""Compiles conveyor's per-event path with mypyc; everything else is in pyproject.toml.

The modules below run once per event: the consumer's poll loop, the dispatcher and its key
scheduler, offset tracking, metrics, the codec's decode and encode routes, and publishing.
Compiled, a no-op async handler costs about 30% less CPU per event (see README, "How fast").
They are the same typed source, checked by `mypy --strict`; what mypyc changes for their callers:
a Python subclass of a compiled class is not called as an override from compiled code, so such
a subclass is compiled too (tests/foundation/test_native_build.py checks it).

`CONVEYOR_COMPILE=0` builds pure Python, and so does a machine without a C compiler.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import setup

SOURCES = Path("services")

COMPILED = [
    "conveyor/codec/avro.py",
    "conveyor/codec/framing.py",
    "conveyor/codec/routes.py",
    "conveyor/publish/config.py",
    "conveyor/publish/delivery.py",
    "conveyor/publish/message.py",
    "conveyor/publish/producer.py",
    "conveyor/publish/publisher.py",
    "conveyor/runtime/batching.py",
    "conveyor/runtime/bounds.py",
    "conveyor/runtime/context.py",
    "conveyor/runtime/dispatcher.py",
    "conveyor/runtime/executors.py",
    "conveyor/runtime/key_scheduler.py",
    "conveyor/runtime/loop.py",
    "conveyor/runtime/metrics.py",
    "conveyor/runtime/offsets.py",
    "conveyor/runtime/partitions.py",
    "conveyor/runtime/retry_and_divert.py",
    "conveyor/runtime/router.py",
    "conveyor/runtime/service.py",
    "conveyor/runtime/threads.py",
    "conveyor/runtime/work.py",
    "conveyor/runtime/workers.py",
]


def _compiler_found() -> bool:
    """Whether the C compiler answers `--version` (`CC=false` counts as none)."""
    compiler = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    found = shutil.which(compiler.split()[0])
    if found is None:
        return False
    try:
        done = subprocess.run([found, "--version"], capture_output=True, timeout=30, check=False)
    except OSError:
        return False
    return done.returncode == 0


def _extensions() -> list[object]:
    if os.environ.get("CONVEYOR_COMPILE", "1") == "0":
        return []
    if not _compiler_found():
        print("conveyor: no C compiler found, building pure Python", file=sys.stderr)
        return []
    from mypyc.build import mypycify

    # The build environment holds mypy alone: the dependencies' types are not needed to compile
    # (calls into them go through Python's C API either way), and `make lint` checks the typing.
    options = ["--config-file=", "--ignore-missing-imports"]
    return list(
        mypycify(
            [*options, *(str(SOURCES / module) for module in COMPILED)],
            opt_level="3",
            group_name="conveyor_native",
        )
    )


if __name__ == "__main__":  # as setuptools runs it; tests read `COMPILED` without building
    setup(ext_modules=_extensions())
