"""What a demo run does: volume, duration, faults, and which service it kills."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SERVICES = (
    "welcome-email",
    "analytics",
    "crm-sync",
    "payments",
    "inventory",
    "fulfillment",
    "order-email",
)


@dataclass(frozen=True)
class DemoOptions:
    """`bootstrap_servers=None` starts a local broker for the run and stops it afterwards."""

    signups: int = 200
    orders: int = 300
    duration: float = 60.0  # seconds of traffic
    out_of_stock_share: float = 0.05
    declined_share: float = 0.05
    cancelled_share: float = 0.03
    crm_flaky_seconds: float = 8.0  # the CRM fails a share of calls for this long
    crm_failure_rate: float = 0.3
    kill: str | None = "payments"  # SIGKILLed and restarted mid-run; None kills nothing
    settle_timeout: float = 90.0  # after the traffic, how long outcomes may take to converge
    seed: int = 7
    bootstrap_servers: str | None = None
    workdir: Path | None = None  # kept when given; a temporary directory otherwise
    live: bool = True  # the live table (off: one line per refresh, for logs and CI)

    def __post_init__(self) -> None:
        if self.signups < 1 or self.orders < 0 or self.duration <= 0:
            raise ValueError("a demo needs at least one signup and a positive duration")
        shares = (self.out_of_stock_share, self.declined_share, self.cancelled_share)
        if any(not 0 <= share <= 1 for share in shares) or sum(shares) > 1:
            raise ValueError("the shares of failing and cancelled orders are between 0 and 1")
        if self.kill is not None and self.kill not in SERVICES:
            raise ValueError(f"--kill names one of {', '.join(SERVICES)}")
