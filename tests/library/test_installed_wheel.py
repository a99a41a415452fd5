"""conveyor in a user's own repository: the library's wheel installed into a fresh virtualenv
outside this checkout runs a project's own contracts and service end to end on a real broker."""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.failures.support import read_all
from tests.library.installed import REFERENCE_PACKAGES, Venv, build_wheel, run
from tests.library.user_project import write_user_project
from tests.runtime.support import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(900)]

WEB_AND_MAIL = ("fastapi", "uvicorn", "aiosmtpd", "psycopg")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    workdir = tmp_path_factory.mktemp("installed")
    return Venv.create(workdir / "venv", build_wheel(workdir))


@pytest.fixture
def names() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {"topic": f"e2e-{suffix}.greetings", "service": f"greeter-{suffix}"}


@pytest.fixture
def project(venv: Venv, tmp_path: Path, names: dict[str, str]) -> Path:
    return write_user_project(venv, tmp_path / names["service"], **names)


def test_the_installed_library_carries_nothing_of_the_reference_pipeline(venv: Venv) -> None:
    """`pip show` lists only the core dependencies; site-packages holds none of the gateway's,
    services' or stand-ins' packages, nor their web and mail stack; conveyor comes from the
    venv, not this checkout."""
    shown = venv.pip("show", "conveyor")
    requires = next(line for line in shown.splitlines() if line.startswith("Requires:"))
    installed = {p.name.lower() for p in venv.site_packages().iterdir()}

    assert [name for name in WEB_AND_MAIL if name in requires.lower()] == []
    assert [name for name in REFERENCE_PACKAGES if name in installed] == []
    assert not [p for p in installed if p.startswith(WEB_AND_MAIL)]
    where = run(
        [str(venv.bin / "python"), "-c", "import conveyor; print(conveyor.__file__)"],
        cwd=venv.root,
        env=venv.env(),
    ).stdout
    assert Path(where.strip()).is_relative_to(venv.site_packages())


def test_a_users_project_runs_its_own_events_through_its_own_service(
    venv: Venv, project: Path, names: dict[str, str], kafka_bootstrap: str
) -> None:
    """From the project directory `conveyor init` wrote, with a second event (nested record,
    enum, decimal, optional, array, map) and its models generated: its schemas check (models
    fresh), its topology applies, its service handles both of its events, an undecodable
    message lands in the service's dead letters with its headers, status reads the service,
    and a replay from the earliest offsets handles the events again with `ctx.in_replay`
    true."""
    broker = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    handled = project / "handled.jsonl"

    assert "ok: 2 events" in venv.conveyor("schemas", "check", cwd=project).stdout
    venv.conveyor("topics", "apply", cwd=project, env=broker)

    with running_service(venv, project, handled, broker) as service:
        published = json.loads(
            run(
                [str(venv.bin / "python"), "publish.py"], cwd=project, env=venv.env(**broker)
            ).stdout
        )
        wait_until(lambda: len(records(handled)) >= 2, 120, "both events handled")
        [letter] = read_all(kafka_bootstrap, f"{names['service']}.dlq", 1, timeout=120)
        status = venv.conveyor("status", names["service"], "--json", cwd=project, env=broker)
        stop(service)

    assert sorted((r["type"], r["event_id"], r["in_replay"]) for r in records(handled)) == sorted(
        (kind, event_id, False) for kind, event_id in published.items()
    )
    assert letter.value == b"not an event"
    assert letter.header("trace-id") == b"t-1"
    assert letter.header("x-original-topic") == names["topic"].encode()
    assert letter.header("x-consumer-group") == names["service"].encode()
    assert letter.header("x-error-type") == b"conveyor.codec.errors.NotSingleObjectError"
    [found] = json.loads(status.stdout)
    assert found["service"] == names["service"]

    venv.conveyor("replay", names["service"], "--to-earliest", "--yes", cwd=project, env=broker)
    with running_service(venv, project, handled, broker) as service:
        wait_until(lambda: len(records(handled)) >= 4, 120, "both events handled again")
        stop(service)

    again = sorted((r["type"], r["event_id"]) for r in records(handled)[2:] if r["in_replay"])
    assert again == sorted(published.items())


def test_a_breaking_schema_change_in_the_project_fails_the_check_naming_field_and_rule(
    venv: Venv, project: Path
) -> None:
    """A v2 of the scaffold's event that adds a field without a default breaks
    BACKWARD_TRANSITIVE: the check says
    which event, which field and which rule, and exits 1."""
    [v1] = project.glob("schemas/*/GreetingRequested.v1.avsc")
    v2 = json.loads(v1.read_text())
    v2["fields"].append({"name": "mood", "type": "string"})
    v1.with_name("GreetingRequested.v2.avsc").write_text(json.dumps(v2))

    done = venv.conveyor("schemas", "check", cwd=project, check=False)

    assert done.returncode == 1
    assert "GreetingRequested v2: field 'mood' added without a default" in done.stderr
    assert "BACKWARD_TRANSITIVE" in done.stderr


def records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


class running_service:  # noqa: N801 - used as a context manager, like a function
    """`conveyor run <package>.recorder:service` in the project directory, as its own
    process."""

    def __init__(self, venv: Venv, project: Path, handled: Path, env: dict[str, str]) -> None:
        package = project.name.replace("-", "_")
        self._argv = [str(venv.bin / "conveyor"), "run", f"{package}.recorder:service"]
        self._env = venv.env(
            GREETER_OUT=str(handled),
            CONVEYOR_HTTP_PORT="off",
            CONVEYOR_COMMIT_INTERVAL_MS="200",
            CONVEYOR_STATE_DIR=str(project / ".state"),
            **env,
        )
        self._project = project
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> subprocess.Popen[bytes]:
        log = (self._project / "service.log").open("ab")
        self._process = subprocess.Popen(
            self._argv, cwd=self._project, env=self._env, stdout=log, stderr=log
        )
        return self._process

    def __exit__(self, *exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(10)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
