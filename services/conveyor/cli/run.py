"""`conveyor run <service> [args...]`: run one service as its own process.

The service is the top-level package `services/<name with - as _>/` (e.g. `welcome-email` ->
`welcome_email`), which exposes `main(settings: Settings, argv: list[str]) -> int`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Annotated, cast

import typer

from conveyor.cli.context import settings_of
from conveyor.runtime.errors import ServiceNotFoundError
from conveyor.settings import Settings

ServiceMain = Callable[[Settings, list[str]], int]


def _scheduler_main(settings: Settings, argv: list[str]) -> int:
    from conveyor.delay.main import main

    return main(settings, argv)


# Processes the library itself provides, found before any service package of the same name.
BUILT_IN: dict[str, ServiceMain] = {"scheduler": _scheduler_main}


def resolve_service(name: str) -> ServiceMain:
    """The `main` of service `name`; raises `ServiceNotFoundError` with what is missing."""
    if name in BUILT_IN:
        return BUILT_IN[name]
    module_name = name.replace("-", "_")
    if not module_name.isidentifier():
        raise ServiceNotFoundError(f"{name!r} is not a service name (letters, digits, dashes)")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise  # the service exists but one of its own imports is missing
        raise ServiceNotFoundError(
            f"no service {name!r}: expected a package services/{module_name}/"
        ) from exc
    main = getattr(module, "main", None)
    if not callable(main):
        raise ServiceNotFoundError(
            f"service {name!r} has no main(settings, argv) in services/{module_name}/"
        )
    return cast(ServiceMain, main)


def run(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="Service name, e.g. welcome-email.")],
) -> None:
    """Run one service until SIGTERM/SIGINT; extra arguments go to the service.

    Example: conveyor run welcome-email
    """
    main = resolve_service(service)
    raise typer.Exit(main(settings_of(ctx), list(ctx.args)))
