"""docker-compose.yml: every process of the pipeline is its own container, started in order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from conveyor.topology import load

ROOT = Path(__file__).resolve().parents[2]
# Every service the topology declares is deployed.
SERVICES = tuple(service.name for service in load().services)


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services: dict[str, Any] = loaded["services"]
    return services


def test_each_service_runs_alone_after_the_topics_exist() -> None:
    """Each consumer is a container running `conveyor run <name>`, waits for topics-init, and
    reports health from its /readyz."""
    services = compose()
    for name in SERVICES:
        service = services[name]
        assert service["command"] == [name]
        assert service["depends_on"]["topics-init"]["condition"] == (
            "service_completed_successfully"
        )
        assert "/readyz" in " ".join(service["healthcheck"]["test"])
        assert service["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:29092"


def test_topology_is_applied_once_the_broker_is_healthy() -> None:
    """topics-init runs `conveyor topics apply` after Kafka's health check passes."""
    init = compose()["topics-init"]
    assert init["entrypoint"] == ["conveyor", "topics", "apply"]
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_gateway_and_standins_are_published_with_health_checks() -> None:
    """The gateway and the stand-in APIs answer on host ports and have health checks."""
    services = compose()
    for name, port in (("gateway", 8080), ("crm", 8101), ("payment-gateway", 8102)):
        assert f"{port}:{port}" in services[name]["ports"]
        assert services[name]["healthcheck"]["test"]
    assert services["kafka"]["image"].startswith("apache/kafka:")


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema against the compose-spec schema it ships (no download)."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    return subprocess.run([*command, str(path)], capture_output=True, text=True, check=False)


def test_compose_file_follows_the_compose_specification() -> None:
    """docker-compose.yml validates against the Compose Specification's JSON schema."""
    result = check_compose(ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_misspelt_compose_key_is_caught(tmp_path: Path) -> None:
    """The schema check is strict enough to catch a typo in a service."""
    broken = tmp_path / "compose.yml"
    broken.write_text("services:\n  x:\n    image: a\n    helthcheck: {test: [CMD, 'true']}\n")
    assert check_compose(broken).returncode != 0
