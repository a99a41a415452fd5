"""docker-compose.yml: every process of the pipeline is its own container, started in order."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conveyor.clients.config import ClientConfig, read_properties
from tests.project import PROJECT

ROOT = Path(__file__).resolve().parents[2]
# Every service the topology declares is deployed.
SERVICES = tuple(service.name for service in PROJECT.topology().services)


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


SECURED_INIT = ROOT / "deploy" / "compose" / "secured-init.sh"


def secured_clients() -> dict[str, dict[str, Any]]:
    """The conveyor processes of the secured profile that connect as a SCRAM principal."""
    return {
        name: service
        for name, service in compose().items()
        if "secured" in service.get("profiles", [])
        and "KAFKA_SASL_USERNAME" in service.get("environment", {})
    }


def test_the_secured_profile_is_opt_in() -> None:
    """A plain `docker compose up` starts the plaintext pipeline; the secured broker, its
    one-shots and every secured client exist only in the `secured` profile."""
    services = compose()
    plain = {name for name, service in services.items() if "profiles" not in service}
    assert set(SERVICES) | {"kafka", "topics-init", "gateway"} <= plain
    assert not [name for name in plain if "secured" in name]
    for name in ("secured-init", "kafka-secured", "secured-acls"):
        assert services[name]["profiles"] == ["secured"]
    assert sorted(secured_clients()) == sorted(f"secured-{n}" for n in ("gateway", *SERVICES))


def test_secured_clients_connect_as_their_own_principal_with_the_password_from_a_file() -> None:
    """Each secured service reaches the SASL_SSL listener with SCRAM-SHA-512, trusts the run's
    CA, is its own user, and reads its password from the init's file, never from the env."""
    broker = compose()["kafka-secured"]["environment"]
    protocols = dict(
        item.split(":") for item in broker["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert "PLAINTEXT" not in protocols.values()
    assert broker["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    for name, service in secured_clients().items():
        env = service["environment"]
        user = name.removeprefix("secured-")
        host, port = env["KAFKA_BOOTSTRAP_SERVERS"].split(":")
        assert host == "kafka-secured"
        assert f"CLIENT://:{port}" in broker["KAFKA_LISTENERS"]
        assert protocols["CLIENT"] == env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KAFKA_SASL_MECHANISM"] == broker["KAFKA_SASL_ENABLED_MECHANISMS"]
        assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert env["KAFKA_SSL_CA_LOCATION"] == broker["KAFKA_SSL_TRUSTSTORE_LOCATION"]
        assert env["KAFKA_SASL_USERNAME"] == user
        assert env["KAFKA_SASL_PASSWORD_FILE"] == f"/secured/{user}.password"
        assert "KAFKA_SASL_PASSWORD" not in env
        assert "secured:/secured:ro" in service["volumes"]
        assert service["depends_on"]["secured-acls"]["condition"] == (
            "service_completed_successfully"
        )


def test_no_secret_is_written_in_the_compose_file() -> None:
    """Passwords appear only as file references: no `*PASSWORD` variable with a value, no
    `user=password` line, no `sasl.password` setting."""
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"PASSWORD\s*:", text)
    assert "sasl.password" not in text
    assert not re.search(r"password\s*=", text, re.IGNORECASE)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the secured profile needs openssl")
def test_secured_init_makes_certificates_of_one_ca_and_a_password_per_principal(
    tmp_path: Path,
) -> None:
    """Run against a scratch directory, the init script issues the broker and admin certificates
    from one CA, gives every secured client a password file, lists them all in the
    `--password-file` that secured-acls applies, and keeps them on a second run."""
    run = [shutil.which("sh") or "sh", str(SECURED_INIT)]
    env = {**os.environ, "SECURED_DIR": str(tmp_path)}
    subprocess.run(run, env=env, check=True, capture_output=True)
    users = read_properties(tmp_path / "users.properties")  # as `acls apply` reads it
    for name in secured_clients():
        user = name.removeprefix("secured-")
        assert users[user] == (tmp_path / f"{user}.password").read_text().strip()
        assert len(users[user]) >= 32
    assert "operator" in users
    assert "--password-file /secured/users.properties" in " ".join(
        compose()["secured-acls"]["entrypoint"]
    )
    verify = ["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem")]
    for identity in ("broker", "admin"):  # check=True: a certificate the CA did not sign raises
        subprocess.run(
            [*verify, str(tmp_path / f"{identity}.pem")], check=True, capture_output=True
        )
    subprocess.run(run, env=env, check=True, capture_output=True)
    assert read_properties(tmp_path / "users.properties") == users


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the secured profile needs openssl")
def test_each_secured_clients_settings_load_as_conveyor_reads_them_at_start(
    tmp_path: Path,
) -> None:
    """With /secured filled by the init script, the `KAFKA_*` environment of every secured
    client and of secured-acls (the admin over mTLS) is what `ClientConfig.from_env` accepts at
    start (known names, consistent values, files librdkafka loads): each connects as its
    principal with its own password file's content, the admin with its certificate."""
    env = {**os.environ, "SECURED_DIR": str(tmp_path)}
    subprocess.run([shutil.which("sh") or "sh", str(SECURED_INIT)], env=env, check=True)
    services = compose()
    for name in [*secured_clients(), "secured-acls"]:
        kafka = {
            key: str(value).replace("/secured/", f"{tmp_path}/")
            for key, value in services[name]["environment"].items()
            if key.startswith("KAFKA_") and key != "KAFKA_BOOTSTRAP_SERVERS"
        }
        settings = ClientConfig.from_env(kafka).librdkafka()
        assert settings["ssl.ca.location"] == str(tmp_path / "ca.pem")
        if name == "secured-acls":
            assert settings["security.protocol"] == "SSL"
            assert settings["ssl.certificate.location"] == str(tmp_path / "admin.pem")
            continue
        user = name.removeprefix("secured-")
        assert settings["sasl.username"] == user
        assert settings["sasl.password"] == (tmp_path / f"{user}.password").read_text().strip()
