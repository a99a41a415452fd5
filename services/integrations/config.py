"""The reference services' own settings, read once in each service's `main` with conveyor's
settings mechanism (`conveyor.environment`); `integrations.settings` lists them."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from pydantic import create_model

from conveyor.environment import EnvModel, variable
from integrations.http import ApiEndpoint
from integrations.mail import SmtpEndpoint

_SMTP: Final = SmtpEndpoint()


class MailVariables(EnvModel):
    """The mail server the e-mail services send through."""

    host: str = variable(
        "SMTP_HOST", _SMTP.host, description="The SMTP server's host.", example="smtp.example"
    )
    port: int = variable(
        "SMTP_PORT", 8025, description="The SMTP server's port (the sink's).", example="25"
    )
    sender: str = variable(
        "SMTP_SENDER",
        _SMTP.sender,
        description="The `From` of every mail.",
        example="shop <no-reply@shop.example>",
    )

    def endpoint(self) -> SmtpEndpoint:
        return SmtpEndpoint(host=self.host, port=self.port, sender=self.sender)


class ApiVariables(EnvModel):
    """Where a service's HTTP API is; `api_variables` names its variables."""

    url: str = ""
    timeout_s: float = 10.0

    def endpoint(self) -> ApiEndpoint:
        return ApiEndpoint(base_url=self.url, read_timeout=self.timeout_s)


def api_variables(prefix: str, default_url: str, what: str) -> type[ApiVariables]:
    """`<PREFIX>_URL` and `<PREFIX>_TIMEOUT_S` (the read timeout; connecting gives up after
    2 s)."""
    return create_model(
        f"{prefix.title()}Variables",
        __base__=ApiVariables,
        url=(
            str,
            variable(
                f"{prefix}_URL",
                default_url,
                description=f"The {what}'s base URL.",
                example="http://127.0.0.1:9999",
            ),
        ),
        timeout_s=(
            float,
            variable(
                f"{prefix}_TIMEOUT_S",
                10.0,
                description=f"Seconds to wait for the {what}'s answer (connecting: 2).",
                example="3",
            ),
        ),
    )


class DatabaseVariables(EnvModel):
    """A service's own SQLite file; `database_variables` names its variable."""

    path: Path | None = None

    def file(self, state_dir: Path, service: str) -> Path:
        """The configured file, or `<state dir>/<service>/<service>.sqlite3`."""
        return self.path or state_dir / service / f"{service}.sqlite3"


def database_variables(name: str, service: str) -> type[DatabaseVariables]:
    return create_model(
        f"{name.title().replace('_', '')}Variables",
        __base__=DatabaseVariables,
        path=(
            Path | None,
            variable(
                name,
                None,
                shown=f"<state dir>/{service}/{service}.sqlite3",
                description=f"The {service} service's SQLite file.",
                example="/tmp/service.sqlite3",
            ),
        ),
    )


CRM: Final = api_variables("CRM", "http://127.0.0.1:8101", "CRM API")
PAYMENTS: Final = api_variables("PAYMENTS", "http://127.0.0.1:8102", "payment gateway")
WAREHOUSE: Final = api_variables("WAREHOUSE", "http://127.0.0.1:8103", "warehouse API")
ANALYTICS_DB: Final = database_variables("ANALYTICS_DB", "analytics")
FULFILLMENT_DB: Final = database_variables("FULFILLMENT_DB", "fulfillment")
INVENTORY_DB: Final = database_variables("INVENTORY_DB", "inventory")
ORDER_EMAIL_DB: Final = database_variables("ORDER_EMAIL_DB", "order-email")
