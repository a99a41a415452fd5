"""The whole pipeline end to end at small scale, as `make demo` runs it: gateway, seven services,
stand-in APIs and SMTP sink as separate processes on a real broker."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.settings import Settings
from demo.options import SERVICES, DemoOptions
from demo.run import run_demo


@pytest.mark.kafka
@pytest.mark.timeout(300)
def test_traffic_through_the_gateway_has_exactly_the_expected_outcome(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Signups and orders sent to the gateway's HTTP API end as one welcome mail and one CRM
    contact per user, one charge per order, a shipment and mails per paid order, matching
    analytics, and exactly the out-of-stock orders in the dead letters, although the CRM fails
    at first and payments is SIGKILLed and restarted mid-run. It ends with nothing waiting in
    any service, though payments and fulfillment leave transaction markers behind their last
    events: `conveyor status --max-lag 0` exits 0 after it."""
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
    assert "lag: 0 on every service" in report
    after = CliRunner().invoke(
        cli,
        ["status", *SERVICES, "--sample", "0", "--max-lag", "0"],
        env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
    )
    assert after.exit_code == 0, after.output
