"""The install compiles the per-event path (setup.py), so the tests run the code users run."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import runpy
from pathlib import Path

import pytest

SETUP = Path(__file__).parents[2] / "setup.py"


def compiled_modules() -> list[str]:
    paths: list[str] = runpy.run_path(str(SETUP), run_name="compiled_modules")["COMPILED"]
    return [path.removesuffix(".py").replace("/", ".") for path in paths]


def test_setup_lists_the_per_event_path() -> None:
    modules = compiled_modules()
    for hot in ("conveyor.runtime.dispatcher", "conveyor.runtime.loop", "conveyor.codec.avro"):
        assert hot in modules


@pytest.mark.skipif(
    os.environ.get("CONVEYOR_COMPILE") == "0", reason="built as pure Python on purpose"
)
@pytest.mark.parametrize("name", compiled_modules())
def test_each_listed_module_is_imported_compiled(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert module.__file__.endswith(".so"), f"{name} runs as Python source: run `make setup`"


def test_no_python_class_extends_a_compiled_one() -> None:
    """Compiled code calls a compiled class's methods directly: an override in a Python
    subclass would be skipped there. Such a subclass must be compiled too (setup.py)."""
    import conveyor

    compiled = set(compiled_modules())
    mixed = []
    for info in pkgutil.walk_packages(conveyor.__path__, "conveyor."):
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != info.name or info.name in compiled:
                continue
            bases = [base for base in cls.__mro__[1:] if base.__module__ in compiled]
            mixed += [f"{info.name}.{cls.__name__}({base.__name__})" for base in bases]
    assert mixed == []
