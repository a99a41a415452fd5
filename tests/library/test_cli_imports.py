"""`conveyor --help` and `conveyor <command> --help` load the command tree and typer, and none of
the heavy libraries a command needs when it runs: they are what made the help take a second."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

HEAVY = ("confluent_kafka", "fastavro", "pydantic", "pydantic_settings", "structlog", "yaml")

# Runs in a fresh interpreter: records the heavy top-level packages loaded by building the
# command, then by rendering the help of the root and of every command and group under it.
SCRIPT = """
import json, sys
from typer.main import get_command
from typer.testing import CliRunner

HEAVY = set(sys.argv[1:])

def loaded():
    return sorted({name.split(".")[0] for name in sys.modules} & HEAVY)

from conveyor.cli.main import cli

found = {"building": loaded(), "helped": []}

def paths(command, prefix):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from paths(sub, [*prefix, name])

for path in paths(get_command(cli), []):
    result = CliRunner().invoke(cli, [*path, "--help"])
    found["helped"].append([" ".join(path), result.exit_code, "Usage:" in result.output])
found["rendering"] = loaded()
print(json.dumps(found))
"""


def _help_everywhere() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *HEAVY],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_the_help_of_every_command_loads_none_of_the_libraries_commands_run_on() -> None:
    found = _help_everywhere()
    helped = {path: (code, usage) for path, code, usage in found["helped"]}
    assert {"", "status", "dlq", "dlq redrive", "kafka up", "settings"} <= helped.keys()
    assert all(shown == (0, True) for shown in helped.values()), helped
    assert found["building"] == []
    assert found["rendering"] == []
