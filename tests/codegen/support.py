"""Generating the fixture's models into a temporary module and importing it, as a project would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from conveyor.codegen import generate_models

EVERY_TYPE = Path(__file__).parent / "fixtures" / "every_type"


def import_generated(schema_dir: Path, directory: Path, name: str) -> ModuleType:
    """The models of `schema_dir`, written to `directory/<name>.py` and imported."""
    path = directory / f"{name}.py"
    path.write_text(generate_models(schema_dir, schema_dir / "topics.yaml"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
