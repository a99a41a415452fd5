"""`conveyor run module:attr`: what it runs, and the errors for what it cannot."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conveyor.cli.run import resolve_target
from conveyor.native import stale_compiled_modules
from conveyor.runtime import Service
from conveyor.runtime.errors import ServiceNotFoundError

MODULE = """\
from conveyor.runtime import Service

service = Service("greeter")
not_a_service = 42
"""


@pytest.fixture
def importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "acme_service.py").write_text(MODULE)
    (tmp_path / "acme_broken.py").write_text("import acme_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_a_service_object_is_found_by_module_and_attribute(importable: Path) -> None:
    """module:attr names the Service object itself, as uvicorn names an app."""
    found = resolve_target("acme_service:service")

    assert isinstance(found, Service)
    assert found.name == "greeter"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("acme_nowhere:service", "no module 'acme_nowhere' to import"),
        ("acme_broken:service", "module acme_broken does not import.*acme_missing_dependency"),
        ("acme_service:nothing", "module acme_service has no nothing"),
        ("acme_service:not_a_service", "is a int, not a conveyor.runtime.Service"),
        ("acme_service:", "expected module:attr"),
    ],
    ids=["missing-module", "broken-import", "missing-attr", "not-a-service", "no-attr"],
)
def test_a_target_that_is_not_a_service_is_refused(
    importable: Path, target: str, message: str
) -> None:
    """Each way a target can be wrong is one clear error naming it."""
    with pytest.raises(ServiceNotFoundError, match=message):
        resolve_target(target)


def test_only_a_compiled_module_older_than_its_source_is_stale(tmp_path: Path) -> None:
    """The check `conveyor run` and the test session share: a source edited after its module
    was compiled is reported, a module compiled after its source is not."""
    package = tmp_path / "conveyor"
    (package / "runtime").mkdir(parents=True)
    earlier = time.time() - 60
    for name, compiled_first in (("loop", True), ("router", False)):
        native = package / "runtime" / f"{name}.cpython-311-x86_64-linux-gnu.so"
        source = package / "runtime" / f"{name}.py"
        native.write_bytes(b"")
        source.write_text("")
        os.utime(native if compiled_first else source, (earlier, earlier))

    assert stale_compiled_modules(package) == [
        "conveyor/runtime/loop.cpython-311-x86_64-linux-gnu.so"
    ]
