"""The console's settings, built once by the command and passed down."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from ipaddress import ip_address

from pydantic import SecretStr

from conveyor.environment import EnvModel, variable
from conveyor.ops.errors import OpsError

TOKEN_VARIABLE = "CONVEYOR_CONSOLE_TOKEN"


class ConsoleConfigError(OpsError):
    """The console was asked for something unsafe or impossible (actions without a token)."""


class Token:
    """The secret an action must present; compared in constant time and never shown."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ConsoleConfigError(f"{TOKEN_VARIABLE} is empty")
        self._secret = secret.encode()

    def matches(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(self._secret, candidate.encode())

    def __repr__(self) -> str:
        return "Token(***)"


class ConsoleVariables(EnvModel):
    """What the console reads from the environment (the rest are its command's options)."""

    token: SecretStr | None = variable(
        TOKEN_VARIABLE,
        None,
        description="The secret `conveyor console --allow-actions` asks for before each redrive "
        "or replay.",
        example="a-long-random-secret",
    )

    def action_token(self) -> Token | None:
        return Token(self.token.get_secret_value()) if self.token is not None else None


@dataclass(frozen=True)
class ConsoleSettings:
    """Where the console listens, what it shows and whether it may act."""

    host: str = "127.0.0.1"
    port: int = 8088
    services: tuple[str, ...] = ()  # none: every declared (or discovered) service
    allow_actions: bool = False
    token: Token | None = field(default=None, repr=False)
    sample_interval: float = 5.0  # seconds between status samples
    history_seconds: float = 3600.0  # how far back the charts go
    broker_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.allow_actions and self.token is None:
            raise ConsoleConfigError(
                f"--allow-actions needs a token: set {TOKEN_VARIABLE} to a long random secret "
                "(the pages ask for it before each redrive or replay)"
            )
        if self.sample_interval <= 0:
            raise ConsoleConfigError("the sample interval is a positive number of seconds")

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ip_address(self.host).is_loopback
        except ValueError:
            return False

    @property
    def history_points(self) -> int:
        return max(1, int(self.history_seconds / self.sample_interval))
