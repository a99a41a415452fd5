"""`conveyor schemas generate`: typed pydantic models from a directory of Avro schemas.

One class per record (an `Event` for each schema file, bound to the topic and key the topology
declares; a `Record` for each nested record) and one `StrEnum` per enum, from the newest version
of each schema. The models encode and decode with `AvroCodec` as hand-written models do.
"""

from __future__ import annotations

from pathlib import Path

from conveyor.codegen.errors import GenerationError
from conveyor.codegen.inputs import load_events
from conveyor.codegen.module import COMMAND, render


def generate_models(schema_dir: Path, topology_file: Path) -> str:
    """The source of the models module for the schemas under `schema_dir`."""
    return render(load_events(schema_dir, topology_file))


def is_stale(models_file: Path, schema_dir: Path, topology_file: Path) -> bool:
    """Whether `models_file` is missing or differs from what the schemas generate now."""
    expected = generate_models(schema_dir, topology_file)
    try:
        return models_file.read_text(encoding="utf-8") != expected
    except FileNotFoundError:
        return True


__all__ = ["COMMAND", "GenerationError", "generate_models", "is_stale"]
