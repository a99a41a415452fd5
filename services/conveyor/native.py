"""Whether the compiled per-event path (see setup.py) is older than its source.

A module mypyc compiled is imported instead of its `.py`, so after an edit to the source the old
code would run, silently. The test session and `conveyor run` both refuse that.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

from conveyor.errors import ConveyorError

REBUILD = "make setup"


class StaleBuildError(ConveyorError):
    """A compiled module is older than its source."""

    def __init__(self, stale: list[str]) -> None:
        super().__init__(
            f"compiled modules older than their source: {stale}; run `{REBUILD}` "
            "(or `CONVEYOR_COMPILE=0 pip install -e .` for pure Python)"
        )
        self.stale = stale


def stale_compiled_modules(package: Path) -> list[str]:
    """The compiled modules under `package` (paths from its parent) whose source is newer."""
    return [
        str(native.relative_to(package.parent))
        for native in sorted(package.rglob("*.so"))
        if (source := native.parent / (native.name.split(".")[0] + ".py")).exists()
        and source.stat().st_mtime > native.stat().st_mtime
    ]


def check_fresh() -> None:
    """Raise `StaleBuildError` when conveyor runs from a checkout whose compiled modules are
    older than their source. An installed wheel is not checked: nobody edits its sources, and
    an installer writes its files in no particular order."""
    import conveyor

    package = Path(conveyor.__file__).resolve().parent
    installed = {Path(sysconfig.get_path(key)).resolve() for key in ("purelib", "platlib")}
    if package.parent in installed:
        return
    stale = stale_compiled_modules(package)
    if stale:
        raise StaleBuildError(stale)
