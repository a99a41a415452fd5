"""`conveyor demo`: the whole pipeline end to end, one command (`make demo`).

Added to the `conveyor` command by the reference pipeline's entry point (`conveyor.commands`);
the demo itself is imported when it runs, so `conveyor --help` does not pay for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from conveyor.cli import settings_of


def demo(
    ctx: typer.Context,
    *,
    signups: Annotated[int, typer.Option(help="Users to sign up.")] = 200,
    orders: Annotated[int, typer.Option(help="Orders to place.")] = 300,
    duration: Annotated[float, typer.Option(help="Seconds over which to send them.")] = 60.0,
    kill: Annotated[
        str, typer.Option(help="Service to SIGKILL and restart mid-run ('none': no kill).")
    ] = "payments",
    seed: Annotated[int, typer.Option(help="Seed of the traffic plan.")] = 7,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep logs, mail and databases here (default: a temp dir).")
    ] = None,
    live: Annotated[bool, typer.Option(help="Live table (--no-live: summary lines).")] = True,
) -> None:
    """Run the pipeline end to end on a local broker (or KAFKA_BOOTSTRAP_SERVERS) and check
    the outcome; exits 0 only when every check holds.

    Example: conveyor demo --signups 50 --orders 80 --duration 20
    """
    from rich.console import Console

    from demo.options import DemoOptions
    from demo.run import run_demo

    options = DemoOptions(
        signups=signups,
        orders=orders,
        duration=duration,
        kill=None if kill == "none" else kill,
        seed=seed,
        workdir=workdir,
        live=live,
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
    )
    code = run_demo(settings_of(ctx), options, os.environ, Console())
    raise typer.Exit(code)
