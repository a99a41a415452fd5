"""`conveyor init DIR` scaffolds a service repository whose own tests pass as generated, and
refuses bad names and non-empty directories with a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.scaffold import NewProject, ScaffoldError, scaffold

BIN = Path(sys.executable).parent


def _run(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def test_init_writes_a_project_whose_tests_pass(tmp_path: Path) -> None:
    """The scaffold's pytest passes, its code is ruff-clean, and its models are fresh."""
    project = tmp_path / "order-emails"
    result = CliRunner().invoke(cli, ["init", str(project)])
    assert result.exit_code == 0, result.output

    files = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert {
        "pyproject.toml",
        "README.md",
        "Dockerfile",
        ".gitignore",
        "schemas/topics.yaml",
        "schemas/order_emails/GreetingRequested.v1.avsc",
        "order_emails/events.py",
        "order_emails/service.py",
        "tests/test_service.py",
    } <= files
    readme = (project / "README.md").read_text()
    for command in ("conveyor kafka up", "conveyor run order_emails.service:service", "pytest"):
        assert command in readme

    tests = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "2 passed" in tests.stdout
    for lint in (["check", "--select", "E,F,W,I,B,UP,SIM,RUF,PL,N"], ["format", "--check"]):
        linted = _run([BIN / "ruff", *lint, "--isolated", "."], project)
        assert linted.returncode == 0, linted.stdout + linted.stderr
    check = ["schemas", "check", "--schemas", str(project / "schemas")]
    fresh = CliRunner().invoke(cli, [*check, "--models", str(project / "order_emails/events.py")])
    assert fresh.exit_code == 0, fresh.output


def test_init_refuses_a_non_empty_directory_unless_forced(tmp_path: Path) -> None:
    """A directory with files in it is left alone; with --force the scaffold is written and
    the other files stay."""
    (tmp_path / "notes.txt").write_text("mine")
    refused = CliRunner().invoke(cli, ["init", str(tmp_path), "--name", "greeter"])
    assert refused.exit_code != 0
    assert f"{tmp_path} is not empty: pick a new directory, or pass --force" in str(
        refused.exception
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]

    forced = CliRunner().invoke(cli, ["init", str(tmp_path), "--name", "greeter", "--force"])
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "greeter" / "service.py").is_file()
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Greeter", "is not a service name"),
        ("1st-service", "is not a service name"),
        ("order--emails", "is not a service name"),
        ("order_emails", "is not a service name"),
        ("json", "shadows a module it needs"),
        ("conveyor", "shadows a module it needs"),
        ("class", "shadows a module it needs"),
    ],
)
def test_bad_names_are_refused_with_the_rule(tmp_path: Path, name: str, reason: str) -> None:
    """Names that cannot be a consumer group and a Python package are refused, nothing written."""
    with pytest.raises(ScaffoldError, match=reason):
        scaffold(tmp_path / "project", NewProject(name))
    assert not (tmp_path / "project").exists()
