"""How every Kafka client conveyor creates connects: security protocol, SASL, TLS, passthrough.

`ClientConfig.from_env` reads the `KAFKA_*` variables below once (in `main`), checks them, and
`librdkafka()` yields the settings to lay under a client's own. Secrets are `SecretStr`, so the
object's repr, str and every error it raises show `**********` instead of them.

- `KAFKA_SECURITY_PROTOCOL`: PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
- `KAFKA_SASL_MECHANISM`: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
- `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD` or `KAFKA_SASL_PASSWORD_FILE` (a mounted secret)
- `KAFKA_SSL_CA_LOCATION`; `KAFKA_SSL_CERTIFICATE_LOCATION` and `KAFKA_SSL_KEY_LOCATION` for
  mTLS, with `KAFKA_SSL_KEY_PASSWORD[_FILE]` when the key is encrypted
- OAUTHBEARER with OIDC client credentials: `KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL`,
  `KAFKA_SASL_OAUTHBEARER_CLIENT_ID`, `KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET[_FILE]`,
  `KAFKA_SASL_OAUTHBEARER_SCOPE`
- `KAFKA_CLIENT_CONFIG`: a properties file (`key=value` lines, as Java clients and kcat read)
  passed through to librdkafka for anything else; the variables above win over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Final, Self

from confluent_kafka import KafkaException, Producer
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

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
# Variables that hold secrets may name a file holding it instead (`<NAME>_FILE`).
_SECRETS: Final = ("SASL_PASSWORD", "SSL_KEY_PASSWORD", "SASL_OAUTHBEARER_CLIENT_SECRET")
# Prefixes of the variables this object owns: an unknown one there is a typo, not another tool's.
_OWNED: Final = ("KAFKA_SECURITY_", "KAFKA_SASL_", "KAFKA_SSL_")


class ClientConfig(BaseModel):
    """The connection settings shared by every Kafka client of one process."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = None
    ssl_certificate_location: Path | None = None
    ssl_key_location: Path | None = None
    ssl_key_password: SecretStr | None = None
    sasl_oauthbearer_token_endpoint_url: str | None = None
    sasl_oauthbearer_client_id: str | None = None
    sasl_oauthbearer_client_secret: SecretStr | None = None
    sasl_oauthbearer_scope: str | None = None
    client_config: Path | None = None
    # The properties file's settings; values hidden as they may hold secrets.
    passthrough: tuple[tuple[str, SecretStr], ...] = Field(default=(), repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ClientConfig:
        """The settings `env` holds; `ClientConfigError` names what is wrong."""
        known = {f"{PREFIX}{name.upper()}" for name in cls.model_fields if name != "passthrough"}
        known |= {f"{PREFIX}{name}_FILE" for name in _SECRETS}
        unknown = sorted(k for k in env if k.startswith(_OWNED) and k not in known)
        if unknown:
            raise ClientConfigError(
                f"unknown Kafka client setting {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        values: dict[str, object] = {
            name: env[f"{PREFIX}{name.upper()}"]
            for name in cls.model_fields
            if env.get(f"{PREFIX}{name.upper()}")
        }
        for name in _SECRETS:
            from_file = env.get(f"{PREFIX}{name}_FILE")
            if from_file:
                if name.lower() in values:
                    raise ClientConfigError(f"set {PREFIX}{name} or {PREFIX}{name}_FILE, not both")
                values[name.lower()] = _read_secret(f"{PREFIX}{name}_FILE", Path(from_file))
        if "client_config" in values:
            path = Path(str(values["client_config"]))
            values["passthrough"] = tuple(
                (key, SecretStr(value)) for key, value in read_properties(path).items()
            )
        try:
            config = cls.model_validate(values)
        except ValidationError as exc:
            raise ClientConfigError(_describe(exc)) from None
        config.check_with_librdkafka()
        return config

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        sasl = self.security_protocol in (
            SecurityProtocol.SASL_SSL,
            SecurityProtocol.SASL_PLAINTEXT,
        )
        if sasl and self.sasl_mechanism is None:
            raise ValueError(f"{PREFIX}SASL_MECHANISM is required with {self.security_protocol}")
        if not sasl and self.sasl_mechanism is not None:
            raise ValueError(
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
            raise ValueError(
                f"{PREFIX}SSL_CERTIFICATE_LOCATION and {PREFIX}SSL_KEY_LOCATION go together"
            )
        for name in ("ssl_ca_location", "ssl_certificate_location", "ssl_key_location"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"{PREFIX}{name.upper()}: no file {path}")
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
            # No bootstrap servers: the client is built and checked but connects nowhere.
            Producer({**settings, "log_level": 0}).flush(0)
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


def _read_secret(variable: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ClientConfigError(f"{variable}: cannot read {path}: {exc.strerror}") from None


def _require(config: ClientConfig, *names: str) -> None:
    missing = [f"{PREFIX}{n.upper()}" for n in names if getattr(config, n) is None]
    if missing:
        raise ValueError(
            f"{', '.join(missing)} required with {PREFIX}SASL_MECHANISM={config.sasl_mechanism}"
        )


def _describe(exc: ValidationError) -> str:
    """pydantic's errors named by variable, without the values (a value may be a secret)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        name = f"{PREFIX}{where.upper()}" if where else "Kafka client settings"
        problems.append(f"{name}: {error['msg']}")
    return "; ".join(problems)
