"""How every Kafka client conveyor creates connects: security protocol, SASL, TLS, passthrough.

`ClientConfig.from_env` reads the `KAFKA_*` variables (its fields; `conveyor settings` lists
them) once, in `main`, checks them, and `librdkafka()` yields the settings to lay under a
client's own. A secret may come from a mounted file (`<NAME>_FILE`). Secrets are `SecretStr`, so
the object's repr, str and every error it raises show `**********` instead of them.
`KAFKA_CLIENT_CONFIG` names a properties file (`key=value` lines, as Java clients and kcat read)
passed through to librdkafka for anything else; the variables win over it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Final, Self

from confluent_kafka import KafkaException, Producer
from pydantic import ConfigDict, Field, SecretStr, model_validator

from conveyor.environment import EnvModel, read, variable, variables
from conveyor.errors import ConveyorError


class ClientConfigError(ConveyorError):
    """A `KAFKA_*` client setting is unknown, missing or has a bad value; the message names it
    and never holds a secret."""


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"
    OAUTHBEARER = "OAUTHBEARER"


PREFIX: Final = "KAFKA_"
# Prefixes of the variables this object owns: an unknown one there is a typo, not another tool's.
_OWNED: Final = ("KAFKA_SECURITY_", "KAFKA_SASL_", "KAFKA_SSL_")
_SCRAM: Final = {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}
_OIDC: Final = {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "OAUTHBEARER"}

_SILENT: Final = logging.getLogger("conveyor.kafka.settings_check")
_SILENT.addHandler(logging.NullHandler())
_SILENT.propagate = False


class ClientConfig(EnvModel):
    """The connection settings shared by every Kafka client of one process."""

    model_config = ConfigDict(extra="forbid")
    settings_error: ClassVar[type[ConveyorError]] = ClientConfigError

    security_protocol: SecurityProtocol = variable(
        "KAFKA_SECURITY_PROTOCOL",
        SecurityProtocol.PLAINTEXT,
        description="`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`.",
        example="SSL",
    )
    sasl_mechanism: SaslMechanism | None = variable(
        "KAFKA_SASL_MECHANISM",
        None,
        given={
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_USERNAME": "u",
            "KAFKA_SASL_PASSWORD": "p",
        },
        description="`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` or `OAUTHBEARER` (required with "
        "the SASL protocols).",
        example="SCRAM-SHA-256",
    )
    sasl_username: str | None = variable(
        "KAFKA_SASL_USERNAME",
        None,
        given={**_SCRAM, "KAFKA_SASL_PASSWORD": "p"},
        description="The SASL user (the service's principal).",
        example="payments",
    )
    sasl_password: SecretStr | None = variable(
        "KAFKA_SASL_PASSWORD",
        None,
        secret_file=True,
        given={**_SCRAM, "KAFKA_SASL_USERNAME": "u"},
        description="The SASL password.",
        example="s3cret",
    )
    ssl_ca_location: Path | None = variable(
        "KAFKA_SSL_CA_LOCATION",
        None,
        description="The CA certificate(s) the brokers' certificates are checked against "
        "(else the system's).",
        example="ca.pem",
    )
    ssl_certificate_location: Path | None = variable(
        "KAFKA_SSL_CERTIFICATE_LOCATION",
        None,
        given={"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_KEY_LOCATION": "client.key"},
        description="The client certificate (mTLS), with `KAFKA_SSL_KEY_LOCATION`.",
        example="client.pem",
    )
    ssl_key_location: Path | None = variable(
        "KAFKA_SSL_KEY_LOCATION",
        None,
        given={"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTIFICATE_LOCATION": "client.pem"},
        description="The client certificate's private key (mTLS).",
        example="client.key",
    )
    ssl_key_password: SecretStr | None = variable(
        "KAFKA_SSL_KEY_PASSWORD",
        None,
        secret_file=True,
        description="The password of an encrypted private key.",
        example="s3cret",
    )
    sasl_oauthbearer_token_endpoint_url: str | None = variable(
        "KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL",
        None,
        given={
            **_OIDC,
            "KAFKA_SASL_OAUTHBEARER_CLIENT_ID": "c",
            "KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET": "s",
        },
        description="OAUTHBEARER with OIDC client credentials: the token endpoint.",
        example="https://idp.example/token",
    )
    sasl_oauthbearer_client_id: str | None = variable(
        "KAFKA_SASL_OAUTHBEARER_CLIENT_ID",
        None,
        given={
            **_OIDC,
            "KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL": "https://idp.example/t",
            "KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET": "s",
        },
        description="The OIDC client id.",
        example="payments",
    )
    sasl_oauthbearer_client_secret: SecretStr | None = variable(
        "KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET",
        None,
        secret_file=True,
        given={
            **_OIDC,
            "KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL": "https://idp.example/t",
            "KAFKA_SASL_OAUTHBEARER_CLIENT_ID": "c",
        },
        description="The OIDC client secret.",
        example="s3cret",
    )
    sasl_oauthbearer_scope: str | None = variable(
        "KAFKA_SASL_OAUTHBEARER_SCOPE",
        None,
        description="The OIDC scope asked for.",
        example="kafka",
    )
    client_config: Path | None = variable(
        "KAFKA_CLIENT_CONFIG",
        None,
        description="A properties file (`key=value` lines) passed through to librdkafka for "
        "anything else; the variables above win over it.",
        example="client.properties",
    )
    # The properties file's settings; values hidden as they may hold secrets.
    passthrough: tuple[tuple[str, SecretStr], ...] = Field(default=(), repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """The settings `env` holds; `ClientConfigError` names what is wrong."""
        known = {entry.name for entry in variables(cls)}
        unknown = sorted(k for k in env if k.startswith(_OWNED) and k not in known)
        if unknown:
            raise ClientConfigError(
                f"unknown Kafka client setting {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        values = read(cls, env)
        if "KAFKA_CLIENT_CONFIG" in values:
            path = Path(str(values["KAFKA_CLIENT_CONFIG"]))
            values["passthrough"] = tuple(
                (key, SecretStr(value)) for key, value in read_properties(path).items()
            )
        config = cls.model_validate(values)
        config.check_with_librdkafka()
        return config

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        sasl = self.security_protocol in (
            SecurityProtocol.SASL_SSL,
            SecurityProtocol.SASL_PLAINTEXT,
        )
        if sasl and self.sasl_mechanism is None:
            raise ClientConfigError(
                f"{PREFIX}SASL_MECHANISM is required with {self.security_protocol}"
            )
        if not sasl and self.sasl_mechanism is not None:
            raise ClientConfigError(
                f"{PREFIX}SASL_MECHANISM is set but {PREFIX}SECURITY_PROTOCOL is "
                f"{self.security_protocol}; use SASL_SSL or SASL_PLAINTEXT"
            )
        if sasl and self.sasl_mechanism is SaslMechanism.OAUTHBEARER:
            _require(
                self,
                "sasl_oauthbearer_token_endpoint_url",
                "sasl_oauthbearer_client_id",
                "sasl_oauthbearer_client_secret",
            )
        elif sasl:
            _require(self, "sasl_username", "sasl_password")
        if (self.ssl_certificate_location is None) != (self.ssl_key_location is None):
            raise ClientConfigError(
                f"{PREFIX}SSL_CERTIFICATE_LOCATION and {PREFIX}SSL_KEY_LOCATION go together"
            )
        for name in ("ssl_ca_location", "ssl_certificate_location", "ssl_key_location"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ClientConfigError(f"{PREFIX}{name.upper()}: no file {path}")
        return self

    def librdkafka(self) -> dict[str, str]:
        """The librdkafka settings, secrets revealed: only for handing to a client."""
        settings = {key: value.get_secret_value() for key, value in self.passthrough}
        settings["security.protocol"] = self.security_protocol.value
        named = {
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.sasl_username,
            "sasl.password": self.sasl_password,
            "ssl.ca.location": self.ssl_ca_location,
            "ssl.certificate.location": self.ssl_certificate_location,
            "ssl.key.location": self.ssl_key_location,
            "ssl.key.password": self.ssl_key_password,
            "sasl.oauthbearer.token.endpoint.url": self.sasl_oauthbearer_token_endpoint_url,
            "sasl.oauthbearer.client.id": self.sasl_oauthbearer_client_id,
            "sasl.oauthbearer.client.secret": self.sasl_oauthbearer_client_secret,
            "sasl.oauthbearer.scope": self.sasl_oauthbearer_scope,
        }
        for key, value in named.items():
            if isinstance(value, SecretStr):
                settings[key] = value.get_secret_value()
            elif value is not None:
                settings[key] = str(value)
        if self.sasl_mechanism is SaslMechanism.OAUTHBEARER:
            settings["sasl.oauthbearer.method"] = "oidc"
        return settings

    def check_with_librdkafka(self) -> None:
        """Let librdkafka judge every key and value now, not at the first client; its complaint
        is passed on with every secret value blanked."""
        settings = self.librdkafka()
        if settings.get("sasl.mechanism") == SaslMechanism.OAUTHBEARER:
            # An OAUTHBEARER client fetches its first token as it is built; checking must not
            # call the identity provider, so the check leaves SASL out (keys are still judged).
            protocol = settings["security.protocol"]
            settings["security.protocol"] = protocol.removeprefix("SASL_")
        try:
            # No bootstrap servers: the client is built and checked but connects nowhere. Its
            # lines (a `debug` setting makes it log whatever `log_level` says) are dropped, never
            # printed raw beside the process's JSON log stream.
            Producer({**settings, "log_level": 0, "logger": _SILENT}).flush(0)
        except KafkaException as exc:
            message = str(exc.args[0].str() if exc.args else exc)
            for value in self._secret_values():
                message = message.replace(value, "**********")
            source = (
                f" (from {PREFIX}CLIENT_CONFIG={self.client_config})" if self.passthrough else ""
            )
            raise ClientConfigError(
                f"librdkafka refuses the client settings{source}: {message}"
            ) from None

    def _secret_values(self) -> list[str]:
        secrets = [value for _, value in self.passthrough]
        secrets += [
            s
            for s in (
                self.sasl_password,
                self.ssl_key_password,
                self.sasl_oauthbearer_client_secret,
            )
            if s is not None
        ]
        return [s.get_secret_value() for s in secrets if s.get_secret_value()]


def read_properties(path: Path) -> dict[str, str]:
    """`key=value` (or `key: value`) lines; `#` and `!` start comments; a trailing backslash
    continues a line. Escapes other than line continuation are not interpreted."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClientConfigError(
            f"{PREFIX}CLIENT_CONFIG: cannot read {path}: {exc.strerror}"
        ) from None
    settings: dict[str, str] = {}
    pending = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        pending = ""
        if not line or line.startswith(("#", "!")):
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut <= 0:
            raise ClientConfigError(f"{path}:{number}: expected key=value")
        settings[line[:cut].strip()] = line[cut + 1 :].strip()
    return settings


def _require(config: ClientConfig, *names: str) -> None:
    missing = [f"{PREFIX}{n.upper()}" for n in names if getattr(config, n) is None]
    if missing:
        raise ClientConfigError(
            f"{', '.join(missing)} required with {PREFIX}SASL_MECHANISM={config.sasl_mechanism}"
        )
