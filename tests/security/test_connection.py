"""Every client conveyor builds connects as the process's `ClientConfig` says: `Settings`
carries it, `with_logs` and `PublisherConfig` lay it under a client's own settings, and an
entry point's choice ends with the entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.clients import connection, with_logs
from conveyor.clients.config import ClientConfig, ClientConfigError
from conveyor.localkafka.tls import CertificateAuthority
from conveyor.publish.config import PublisherConfig
from conveyor.settings import Settings

SECRET = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def scram(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    ca = CertificateAuthority(tmp_path_factory.mktemp("ca")).ensure().certificate
    return {
        "KAFKA_BOOTSTRAP_SERVERS": "broker:9093",
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "payments",
        "KAFKA_SASL_PASSWORD": SECRET,
        "KAFKA_SSL_CA_LOCATION": str(ca),
    }


def test_settings_read_the_client_configuration_and_hide_its_secret(
    scram: dict[str, str], tmp_path: Path
) -> None:
    """`Settings.from_env` reads the `KAFKA_*` client settings once; the settings' repr and the
    publisher's show no password."""
    settings = Settings.from_env(scram, tmp_path)
    publisher = PublisherConfig.from_settings(settings)
    assert settings.client.sasl_username == "payments"
    assert SECRET not in repr(settings) + repr(publisher)
    assert publisher.librdkafka()["sasl.password"] == SECRET
    assert publisher.librdkafka()["bootstrap.servers"] == "broker:9093"


def test_every_client_built_inside_an_entry_point_connects_as_it_chose(
    scram: dict[str, str], tmp_path: Path
) -> None:
    """Inside `using`, `with_logs` lays the chosen settings under a client's own (which win);
    outside, a client connects in plaintext."""
    client = Settings.from_env(scram, tmp_path).client
    own = {"bootstrap.servers": "broker:9093", "client.id": "c", "sasl.username": "override"}
    with connection.using(client):
        inside = with_logs(own)
    outside = with_logs(own)
    assert inside["security.protocol"] == "SASL_SSL"
    assert inside["sasl.password"] == SECRET
    assert inside["sasl.username"] == "override"
    assert outside["security.protocol"] == "PLAINTEXT"
    assert "sasl.password" not in outside
    assert connection.in_use() == ClientConfig()


def test_a_command_with_a_bad_setting_names_it_and_never_the_password(
    scram: dict[str, str], tmp_path: Path
) -> None:
    """A command started with a CA file that does not exist stops before connecting, naming
    the variable; neither its output nor its error holds the password, nor does `--help`."""
    env = {**scram, "KAFKA_SSL_CA_LOCATION": str(tmp_path / "missing.pem")}
    failed = CliRunner().invoke(cli, ["status"], env=env)
    shown = CliRunner().invoke(cli, ["status", "--help"], env=env)
    assert isinstance(failed.exception, ClientConfigError)
    assert "KAFKA_SSL_CA_LOCATION" in str(failed.exception)
    assert SECRET not in failed.output + str(failed.exception) + shown.output + str(shown.exception)
