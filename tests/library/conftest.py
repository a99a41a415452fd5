"""A small user project written into a temporary directory: one event, its topology."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

GREETING = {
    "type": "record",
    "name": "Greeted",
    "namespace": "acme.events",
    "doc": "Someone was greeted.",
    "fields": [
        {"name": "event_id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "occurred_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "person_id", "type": "string"},
    ],
}

TOPOLOGY = """\
defaults: {replication_factor: 1, min_insync_replicas: 1, retention: 1d, cleanup_policy: delete}
topics:
  greetings: {partitions: 1, events: [acme.events.Greeted]}
"""


def write_project(root: Path, config: str = '[tool.conveyor]\nschemas = "contracts"\n') -> Path:
    """`root` holding pyproject.toml (`config`), contracts/Greeted.v1.avsc and topics.yaml."""
    (root / "contracts").mkdir(parents=True)
    (root / "contracts" / "Greeted.v1.avsc").write_text(json.dumps(GREETING))
    (root / "contracts" / "topics.yaml").write_text(TOPOLOGY)
    (root / "pyproject.toml").write_text(config)
    return root


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "acme",
        '[tool.conveyor]\nschemas = "contracts"\ntopology = "contracts/topics.yaml"\n',
    )
