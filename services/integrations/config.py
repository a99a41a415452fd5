"""Reading the side-effect endpoints from a service's environment (done once, in `main`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from integrations.http import ApiEndpoint
from integrations.mail import SmtpEndpoint


def api_endpoint(env: Mapping[str, str], prefix: str, default_url: str) -> ApiEndpoint:
    """`<PREFIX>_URL`, `<PREFIX>_TIMEOUT_S` (read timeout; connect is 2 s)."""
    return ApiEndpoint(
        base_url=env.get(f"{prefix}_URL") or default_url,
        read_timeout=float(env.get(f"{prefix}_TIMEOUT_S") or 10.0),
    )


def smtp_endpoint(env: Mapping[str, str]) -> SmtpEndpoint:
    """`SMTP_HOST` (127.0.0.1), `SMTP_PORT` (8025, the sink's), `SMTP_SENDER`."""
    defaults = SmtpEndpoint()
    return SmtpEndpoint(
        host=env.get("SMTP_HOST") or defaults.host,
        port=int(env.get("SMTP_PORT") or 8025),
        sender=env.get("SMTP_SENDER") or defaults.sender,
    )


def database_path(env: Mapping[str, str], variable: str, state_dir: Path, service: str) -> Path:
    """`<variable>` or `<state dir>/<service>/<service>.sqlite3`."""
    configured = env.get(variable)
    return Path(configured) if configured else state_dir / service / f"{service}.sqlite3"
