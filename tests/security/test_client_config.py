"""`ClientConfig.from_env`: KAFKA_* variables to librdkafka settings, errors naming the culprit,
and no secret in any repr, str or error."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from conveyor.clients.config import ClientConfig, ClientConfigError, read_properties
from conveyor.localkafka.tls import CertificateAuthority

SECRET = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real CA certificate: librdkafka loads it when the settings are checked."""
    return CertificateAuthority(tmp_path_factory.mktemp("ca")).ensure().certificate


def _scram(ca: Path, **extra: str) -> dict[str, str]:
    return {
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "payments",
        "KAFKA_SASL_PASSWORD": SECRET,
        "KAFKA_SSL_CA_LOCATION": str(ca),
        **extra,
    }


def _error(env: dict[str, str]) -> str:
    with pytest.raises(ClientConfigError) as caught:
        ClientConfig.from_env(env)
    return str(caught.value)


def test_no_variables_mean_plaintext() -> None:
    """Without KAFKA_* security variables a client connects in plaintext."""
    assert ClientConfig.from_env({}).librdkafka() == {"security.protocol": "PLAINTEXT"}


def test_scram_over_tls_yields_librdkafka_settings(ca: Path) -> None:
    """SASL_SSL with SCRAM becomes librdkafka's security, SASL and CA settings."""
    settings = ClientConfig.from_env(_scram(ca)).librdkafka()
    assert settings == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "payments",
        "sasl.password": SECRET,
        "ssl.ca.location": str(ca),
    }


def test_the_password_can_come_from_a_mounted_file(ca: Path, tmp_path: Path) -> None:
    """KAFKA_SASL_PASSWORD_FILE names a file whose content (trimmed) is the password."""
    secret = tmp_path / "password"
    secret.write_text(SECRET + "\n")
    env = _scram(ca, KAFKA_SASL_PASSWORD_FILE=str(secret))
    del env["KAFKA_SASL_PASSWORD"]
    assert ClientConfig.from_env(env).librdkafka()["sasl.password"] == SECRET


def test_repr_and_str_never_show_secrets(ca: Path) -> None:
    """The password appears in neither repr nor str of the configuration."""
    config = ClientConfig.from_env(_scram(ca))
    assert SECRET not in repr(config)
    assert SECRET not in str(config)
    assert "payments" in repr(config)


def test_an_unknown_variable_is_named(ca: Path) -> None:
    """A misspelt KAFKA_SASL_* variable is refused by name instead of silently ignored."""
    message = _error(_scram(ca, KAFKA_SASL_PASWORD="x"))
    assert "KAFKA_SASL_PASWORD" in message


def test_a_bad_value_is_named_without_showing_secrets(ca: Path) -> None:
    """A bad protocol is refused naming the variable; the error holds no password."""
    message = _error(_scram(ca, KAFKA_SECURITY_PROTOCOL="SASL_TLS"))
    assert "KAFKA_SECURITY_PROTOCOL" in message
    assert SECRET not in message


def test_sasl_without_credentials_is_refused(ca: Path) -> None:
    """SCRAM needs a username and a password; the missing one is named."""
    env = _scram(ca)
    del env["KAFKA_SASL_PASSWORD"]
    assert "KAFKA_SASL_PASSWORD" in _error(env)


def test_both_a_secret_and_its_file_are_refused(ca: Path, tmp_path: Path) -> None:
    """Setting a password and a password file is ambiguous and refused."""
    message = _error(_scram(ca, KAFKA_SASL_PASSWORD_FILE=str(tmp_path / "p")))
    assert "KAFKA_SASL_PASSWORD_FILE" in message
    assert SECRET not in message


def test_a_missing_ca_file_is_named(ca: Path, tmp_path: Path) -> None:
    """A CA location that is no file is refused at start, naming the variable."""
    message = _error(_scram(ca, KAFKA_SSL_CA_LOCATION=str(tmp_path / "missing.pem")))
    assert "KAFKA_SSL_CA_LOCATION" in message


def test_mtls_needs_certificate_and_key_together(tmp_path: Path) -> None:
    """A client certificate without its key is refused."""
    certificate = tmp_path / "client.pem"
    certificate.write_text("x")
    env = {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTIFICATE_LOCATION": str(certificate)}
    assert "KAFKA_SSL_KEY_LOCATION" in _error(env)


def test_oidc_settings_select_the_oidc_method() -> None:
    """OAUTHBEARER with client credentials turns on librdkafka's OIDC method."""
    config = ClientConfig.from_env(
        {
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "OAUTHBEARER",
            "KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL": "https://idp.example/token",
            "KAFKA_SASL_OAUTHBEARER_CLIENT_ID": "payments",
            "KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET": SECRET,
        }
    )
    settings = config.librdkafka()
    assert settings["sasl.oauthbearer.method"] == "oidc"
    assert settings["sasl.oauthbearer.client.secret"] == SECRET
    assert SECRET not in repr(config)


def test_checking_oidc_settings_does_not_call_the_identity_provider() -> None:
    """Reading OAUTHBEARER settings checks them without fetching a token: the token endpoint
    (a listening socket here) is never contacted."""
    with socket.socket() as endpoint:
        endpoint.bind(("127.0.0.1", 0))
        endpoint.listen(1)
        endpoint.settimeout(2)
        url = f"http://127.0.0.1:{endpoint.getsockname()[1]}/token"
        ClientConfig.from_env(
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_MECHANISM": "OAUTHBEARER",
                "KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL": url,
                "KAFKA_SASL_OAUTHBEARER_CLIENT_ID": "payments",
                "KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET": SECRET,
            }
        )
        with pytest.raises(TimeoutError):
            endpoint.accept()


def test_a_properties_file_is_passed_through(ca: Path, tmp_path: Path) -> None:
    """KAFKA_CLIENT_CONFIG's settings reach librdkafka; the named variables win over them."""
    properties = tmp_path / "client.properties"
    properties.write_text("# tuned\nsocket.timeout.ms = 5000\nsecurity.protocol=PLAINTEXT\n")
    env = _scram(ca, KAFKA_CLIENT_CONFIG=str(properties))
    settings = ClientConfig.from_env(env).librdkafka()
    assert settings["socket.timeout.ms"] == "5000"
    assert settings["security.protocol"] == "SASL_SSL"


def test_an_unknown_key_in_the_properties_file_is_named(tmp_path: Path) -> None:
    """librdkafka judges the passthrough at start: an unknown key is named; secret values in
    the file are not shown."""
    properties = tmp_path / "client.properties"
    properties.write_text(f"sasl.password={SECRET}\nno.such.setting=1\n")
    message = _error({"KAFKA_CLIENT_CONFIG": str(properties)})
    assert "no.such.setting" in message
    assert SECRET not in message


def test_a_bad_value_in_the_properties_file_is_named(tmp_path: Path) -> None:
    """A value librdkafka refuses is reported with its key."""
    properties = tmp_path / "client.properties"
    properties.write_text("socket.timeout.ms=soon\n")
    assert "socket.timeout.ms" in _error({"KAFKA_CLIENT_CONFIG": str(properties)})


def test_checking_settings_prints_nothing_even_with_debug_on(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The check's throwaway client never writes librdkafka's raw lines to stderr, where they
    would sit beside the JSON log stream, even when the passthrough turns `debug` on."""
    properties = tmp_path / "client.properties"
    properties.write_text("debug=all\n")
    ClientConfig.from_env({"KAFKA_CLIENT_CONFIG": str(properties)}).check_with_librdkafka()
    captured = capfd.readouterr()
    assert "rdkafka" not in captured.err + captured.out


def test_properties_lines_continue_and_comments_are_skipped(tmp_path: Path) -> None:
    """The Java properties forms kcat and Java clients write are read: `=` or `:`, comments,
    continued lines."""
    properties = tmp_path / "p"
    properties.write_text("! comment\nclient.id: conveyor\nbootstrap.servers=a:9092,\\\n  b:9092\n")
    assert read_properties(properties) == {
        "client.id": "conveyor",
        "bootstrap.servers": "a:9092,b:9092",
    }
