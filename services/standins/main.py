"""`python -m standins crm --port 8101 --failure-rate 0.2`: serve one stand-in API on loopback."""

from __future__ import annotations

import argparse

import uvicorn

from conveyor.settings import Settings
from standins.apis import Api, StandinConfig, build_app
from standins.faults import FaultPlan


def parse_args(argv: list[str]) -> tuple[StandinConfig, str, int]:
    parser = argparse.ArgumentParser(prog="standins", description=__doc__)
    parser.add_argument("api", choices=[api.value for api in Api])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument(
        "--failures-for-seconds", type=float, default=0.0, help="random failures end after this"
    )
    parser.add_argument("--fail-first-seconds", type=float, default=0.0)
    parser.add_argument("--fail-first-calls", type=int, default=0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--decline-amounts-ending-in", default="13")
    args = parser.parse_args(argv)
    faults = FaultPlan(
        latency=args.latency_ms / 1000,
        failure_rate=args.failure_rate,
        failures_for=args.failures_for_seconds,
        fail_first_seconds=args.fail_first_seconds,
        fail_first_calls=args.fail_first_calls,
        seed=args.seed,
    )
    config = StandinConfig(
        api=Api(args.api), faults=faults, decline_amounts_ending_in=args.decline_amounts_ending_in
    )
    return config, args.host, args.port


def main(settings: Settings, argv: list[str]) -> int:
    """Serve until interrupted. `settings` is unused: a stand-in talks to no broker."""
    del settings
    config, host, port = parse_args(argv)
    uvicorn.run(build_app(config), host=host, port=port, log_level="warning")
    return 0
