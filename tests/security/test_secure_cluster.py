"""`conveyor kafka up --secure`: who may connect to the secured local broker, how others fail."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.clients.config import ClientConfig, SecurityProtocol
from conveyor.clients.diagnosis import hint
from conveyor.localkafka.tls import CertificateAuthority
from tests.security.conftest import SecureKafka


def _errors_of(
    settings: dict[str, Any], until: frozenset[int] = frozenset(), wait: float = 20.0
) -> list[KafkaError]:
    """The errors a client meets asking for metadata: none when the request succeeds, else
    those met until one with a code in `until` arrives (or `wait` s pass)."""
    errors: list[KafkaError] = []
    config: dict[str, Any] = {"log_level": 0, **settings, "error_cb": errors.append}
    admin = AdminClient(config)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            admin.list_topics(timeout=2)
            return errors
        except KafkaException as exc:
            errors.append(exc.args[0])
        admin.poll(0.2)  # serves error_cb
        if any(e.code() in until for e in errors):
            return errors
    return errors


def test_kafka_up_secure_prints_the_settings_to_export_but_not_the_password(
    secure_kafka: SecureKafka,
) -> None:
    """The launcher prints the bootstrap and the client settings, with the password as a file
    path: the password itself appears nowhere in what it prints."""
    env = secure_kafka.env
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == secure_kafka.bootstrap
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert env["KAFKA_SASL_USERNAME"] == "admin"
    assert Path(env["KAFKA_SASL_PASSWORD_FILE"]).read_text().strip() == secure_kafka.admin_password
    assert Path(env["KAFKA_SSL_CA_LOCATION"]).read_text().startswith("-----BEGIN CERTIFICATE")
    assert "KAFKA_SASL_PASSWORD" not in env
    assert secure_kafka.admin_password not in secure_kafka.stdout + secure_kafka.stderr


def test_the_printed_settings_connect_over_sasl_ssl(secure_kafka: SecureKafka) -> None:
    """A client configured from exactly what `kafka up --secure` printed reaches the broker over
    SASL_SSL, trusting the run's CA."""
    config = ClientConfig.from_env(secure_kafka.env)
    settings = {
        **config.librdkafka(),
        "bootstrap.servers": secure_kafka.env["KAFKA_BOOTSTRAP_SERVERS"],
    }
    assert _errors_of(settings) == []


def test_a_wrong_password_fails_with_an_authentication_error(secure_kafka: SecureKafka) -> None:
    """A wrong SCRAM password is refused as an authentication failure, not retried silently."""
    settings = {**secure_kafka.admin_settings(), "sasl.password": "not-the-password"}
    errors = _errors_of(settings, until=frozenset({KafkaError._AUTHENTICATION}))
    assert KafkaError._AUTHENTICATION in {e.code() for e in errors}, errors


def test_a_client_without_tls_is_told_the_listener_expects_tls(secure_kafka: SecureKafka) -> None:
    """A plaintext client against the TLS listener fails, and what librdkafka logs about it is
    explained as a security protocol to change."""
    failures: list[str] = []
    logger = logging.getLogger("tests.security.no-tls")
    logger.addHandler(_Collect(failures))
    logger.setLevel(logging.DEBUG)
    settings = {
        **secure_kafka.admin_settings(), "security.protocol": "SASL_PLAINTEXT", "logger": logger,
        "log_level": 6,
    }  # fmt: skip
    errors = _errors_of(settings, until=frozenset({KafkaError._TRANSPORT}))
    assert KafkaError._TRANSPORT in {e.code() for e in errors}
    hints = {hint(line, SecurityProtocol.SASL_PLAINTEXT) for line in failures} - {None}
    assert hints, failures
    assert all("KAFKA_SECURITY_PROTOCOL is SASL_PLAINTEXT" in str(h) for h in hints)


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__()
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def test_a_certificate_from_the_run_ca_connects_over_mtls(
    secure_kafka: SecureKafka, tmp_path: Path
) -> None:
    """On the mTLS listener a client certificate signed by the run's CA is accepted."""
    security = secure_kafka.cluster.security
    assert security is not None
    identity = security.ca.issue("operator", tmp_path)
    assert _errors_of(_mtls(secure_kafka, identity.certificate, identity.key)) == []


def test_a_certificate_from_another_ca_is_refused(
    secure_kafka: SecureKafka, tmp_path: Path
) -> None:
    """A client certificate signed by a CA the cluster does not trust fails the TLS handshake."""
    stranger = CertificateAuthority(tmp_path / "other-ca").ensure("another CA")
    identity = stranger.issue("operator", tmp_path / "other")
    refused = frozenset({KafkaError._SSL, KafkaError._TRANSPORT})
    errors = _errors_of(_mtls(secure_kafka, identity.certificate, identity.key), until=refused)
    assert {e.code() for e in errors} & refused, errors


def _mtls(secure_kafka: SecureKafka, certificate: Path, key: Path) -> dict[str, Any]:
    security = secure_kafka.cluster.security
    assert security is not None
    spec = secure_kafka.cluster.spec
    return {
        "bootstrap.servers": f"127.0.0.1:{spec.mtls_port(1)}",
        "security.protocol": "SSL",
        "ssl.ca.location": str(security.ca_location),
        "ssl.certificate.location": str(certificate),
        "ssl.key.location": str(key),
    }


def test_show_secrets_prints_the_password_when_asked(secure_kafka: SecureKafka) -> None:
    """`--show-secrets` on the running cluster exports the password itself instead of its file
    (and starts nothing new)."""
    port = str(secure_kafka.cluster.spec.port)
    state = str(secure_kafka.cluster.home.parent)
    result = CliRunner().invoke(
        cli,
        ["kafka", "up", "--secure", "--port", port, "--show-secrets"],
        env={"CONVEYOR_STATE_DIR": state},
    )
    assert result.exit_code == 0, result.output
    assert f"export KAFKA_SASL_PASSWORD={secure_kafka.admin_password}" in result.stdout
    assert "KAFKA_SASL_PASSWORD_FILE" not in result.stdout
