"""The whole pipeline end to end at small scale, as `make demo` runs it: gateway, seven services,
stand-in APIs and SMTP sink as separate processes on a real broker."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from conveyor.demo import DemoOptions, run_demo
from conveyor.settings import Settings


@pytest.mark.kafka
@pytest.mark.timeout(300)
def test_traffic_through_the_gateway_has_exactly_the_expected_outcome(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Signups and orders sent to the gateway's HTTP API end as one welcome mail and one CRM
    contact per user, one charge per order, a shipment and mails per paid order, matching
    analytics, and exactly the out-of-stock orders in the dead letters, although the CRM fails
    at first and payments is SIGKILLed and restarted mid-run."""
    options = DemoOptions(
        signups=12,
        orders=24,
        duration=10.0,
        out_of_stock_share=0.1,
        declined_share=0.1,
        cancelled_share=0.1,
        crm_flaky_seconds=3.0,
        kill="payments",
        settle_timeout=90.0,
        bootstrap_servers=kafka_bootstrap,
        workdir=tmp_path,
        live=False,
    )
    output = io.StringIO()
    console = Console(file=output, width=140, color_system=None)
    code = run_demo(Settings.from_env(os.environ), options, os.environ, console)
    report = output.getvalue()
    assert code == 0, report
    assert "FAILED" not in report
    assert "SIGKILL payments" in report
    assert "restarted payments" in report
