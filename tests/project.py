"""This repository as a conveyor project: its `[tool.conveyor]` contracts, found from the root."""

from __future__ import annotations

from pathlib import Path

from conveyor.codec import AvroCodec
from conveyor.project import Project

REPO = Path(__file__).resolve().parents[1]
PROJECT = Project.discover(REPO, {})
SCHEMA_DIR = PROJECT.config.schemas
TOPOLOGY_FILE = PROJECT.config.topology


def repo_codec() -> AvroCodec:
    """The codec over `schemas/` and the reference models, built once."""
    return PROJECT.codec
