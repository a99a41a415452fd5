"""`conveyor kafka up|down|status`: a local Apache Kafka on loopback."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from conveyor.cli.context import settings_of
from conveyor.errors import LauncherError

# The launcher (and the Kafka client it probes with) loads when a command runs, not for --help.
if TYPE_CHECKING:
    from conveyor.localkafka import KafkaDistribution, LocalKafka
    from conveyor.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Run a real Apache Kafka (KRaft) on loopback.")
console = Console(stderr=True)


def _distribution(settings: Settings) -> KafkaDistribution:
    from conveyor.localkafka import KafkaDistribution

    return KafkaDistribution(cache_dir=settings.cache_dir, java_home=settings.java_home)


def _started(settings: Settings) -> LocalKafka | None:
    """The cluster `up` started under the settings' state directory, if any."""
    from conveyor.localkafka import LocalKafka

    return LocalKafka.load(settings.kafka_home, _distribution(settings))


@app.command()
def up(
    ctx: typer.Context,
    *,
    nodes: Annotated[int, typer.Option(help="1, or 3 for a replicated cluster.")] = 1,
    port: Annotated[int, typer.Option(help="Client port of the first node.")] = 9092,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for readiness.")] = 90,
    secure: Annotated[
        bool, typer.Option(help="SASL_SSL (SCRAM-SHA-512) and mTLS listeners, ACLs enforced.")
    ] = False,
    show_secrets: Annotated[
        bool, typer.Option(help="With --secure: print the admin password, not its file.")
    ] = False,
) -> None:
    """Start a local broker (or cluster) and print its bootstrap servers last.

    With --secure, print instead the client settings to export, ready for `eval`.

    Example: conveyor kafka up --nodes 3
    Example: eval "$(conveyor kafka up --secure)"
    """
    from conveyor.localkafka import ClusterSpec, LocalKafka
    from conveyor.localkafka.config import HOST

    settings = settings_of(ctx)
    cluster = _started(settings)
    spec = ClusterSpec(nodes=nodes, port=port, secure=secure)
    if cluster is not None and cluster.spec != spec:
        if any(s.running for s in cluster.status()):
            raise LauncherError(
                f"a {cluster.spec.nodes}-node cluster on port {cluster.spec.port} is running; "
                "stop it first with `conveyor kafka down`"
            )
        cluster.down(wipe=True)
        cluster = None
    cluster = cluster or LocalKafka(settings.kafka_home, _distribution(settings), spec)
    kind = "secured Kafka" if secure else "Kafka"
    console.print(f"starting {kind} ({nodes} node{'s' if nodes > 1 else ''}) in {cluster.home}")
    bootstrap = cluster.up(timeout=timeout)
    if cluster.security is None:
        typer.echo(bootstrap)
        return
    mtls = ",".join(f"{HOST}:{spec.mtls_port(n)}" for n in spec.node_ids())
    console.print(
        f"SASL_SSL/SCRAM-SHA-512 on {bootstrap}; mTLS (a certificate signed by "
        f"{cluster.security.ca_location}) on {mtls}"
    )
    exports = [("KAFKA_BOOTSTRAP_SERVERS", bootstrap)]
    exports += cluster.security.client_exports(show_secrets=show_secrets)
    for name, value in exports:
        typer.echo(f"export {name}={shlex.quote(value)}")


@app.command()
def down(
    ctx: typer.Context,
    wipe: Annotated[bool, typer.Option(help="Also delete the nodes' data.")] = False,
) -> None:
    """Stop the nodes `up` started (by their recorded pids).

    Example: conveyor kafka down --wipe
    """
    cluster = _started(settings_of(ctx))
    if cluster is None:
        console.print("no local Kafka was started here")
        return
    cluster.down(wipe=wipe)
    console.print("stopped" + (" and wiped" if wipe else ""))


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the local nodes: pid, ports, and whether each answers.

    Example: conveyor kafka status --json
    """
    cluster = _started(settings_of(ctx))
    nodes = cluster.status() if cluster else []
    if as_json:
        typer.echo(json.dumps([asdict(n) for n in nodes], indent=2))
        return
    table = Table("node", "pid", "port", "controller", "running", "answers")
    for n in nodes:
        table.add_row(
            str(n.node_id), str(n.pid or "-"), str(n.port), str(n.controller_port),
            "yes" if n.running else "no", "yes" if n.answers else "no",
        )  # fmt: skip
    Console().print(table if nodes else "no local Kafka was started here")
    if not all(n.answers for n in nodes):
        raise typer.Exit(1)
