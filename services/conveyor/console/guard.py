"""Who may act, and from where: every action (redrive, replay) passes these checks.

- the console was started with `--allow-actions` (else it is read-only);
- the request comes from the console's own pages: a browser's `Sec-Fetch-Site` says
  `same-origin` (or `none`, typed by the user) and its `Origin`, when sent, is the console's;
- its body is JSON and it carries the token in the `X-Conveyor-Token` header. A page on another
  site can send neither a custom header nor a JSON body without a CORS preflight, which the
  console never answers, so the token check is not its only defence.

The token is compared in constant time and never logged or echoed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from conveyor import logs
from conveyor.console.settings import ConsoleSettings
from conveyor.log_output import ops_log as log

TOKEN_HEADER = "x-conveyor-token"
OPERATOR_HEADER = "x-conveyor-operator"  # who, as the operator names themselves on the page
SAME_SITE = frozenset({"same-origin", "none"})


@dataclass(frozen=True)
class RequestRefusal:
    status: int
    reason: str


def who(request: Request) -> dict[str, Any]:
    operator = (request.headers.get(OPERATOR_HEADER) or "").strip()[:64] or None
    return {
        "operator": operator,
        "client": request.client.host if request.client else None,
        "user_agent": (request.headers.get("user-agent") or "")[:120],
    }


def check(request: Request, settings: ConsoleSettings, action: str) -> RequestRefusal | None:
    """Why `request` may not perform `action`, or None when it may. Refusals are logged."""
    found = _refusal(request, settings)
    if found is not None:
        log.warning(
            logs.CONSOLE_ACTION_REFUSED,
            action=action,
            reason=found.reason,
            path=request.url.path,
            origin=request.headers.get("origin"),
            **who(request),
        )
    return found


def _refusal(request: Request, settings: ConsoleSettings) -> RequestRefusal | None:
    if not settings.allow_actions or settings.token is None:
        return RequestRefusal(403, "this console is read-only (started without --allow-actions)")
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in SAME_SITE:
        return RequestRefusal(403, f"cross-site request refused (Sec-Fetch-Site: {fetch_site})")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is not None and origin != own:
        return RequestRefusal(403, "request from another origin refused")
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != "application/json":
        return RequestRefusal(415, "actions take a JSON body (Content-Type: application/json)")
    if not settings.token.matches(request.headers.get(TOKEN_HEADER)):
        return RequestRefusal(401, "missing or wrong console token")
    return None
