"""`conveyor run <target> [args...]`: run one service as its own process.

The target is either `path.to.module:attr`, a `Service` object in any importable module (as
`uvicorn module:app` names an app), run with the project's codec and the runtime settings of the
environment; or a name like `welcome-email`, the top-level package `welcome_email` exposing
`main(settings: Settings, argv: list[str]) -> int` (the reference pipeline's services).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, cast

import typer

from conveyor.cli.context import settings_of

if TYPE_CHECKING:  # the runtime is imported when a service runs, not for `conveyor --help`
    from conveyor.runtime.service import Service
    from conveyor.settings import Settings

ServiceMain = Callable[["Settings", list[str]], int]


def _scheduler_main(settings: Settings, argv: list[str]) -> int:
    from conveyor.delay.main import main

    return main(settings, argv)


# Processes the library itself provides, found before any service package of the same name.
BUILT_IN: dict[str, ServiceMain] = {"scheduler": _scheduler_main}


def resolve_service(name: str) -> ServiceMain:
    """The `main` of service `name`; raises `ServiceNotFoundError` with what is missing."""
    if name in BUILT_IN:
        return BUILT_IN[name]
    from conveyor.runtime.errors import ServiceNotFoundError

    module_name = name.replace("-", "_")
    if not module_name.isidentifier():
        raise ServiceNotFoundError(f"{name!r} is not a service name (letters, digits, dashes)")
    module = _import(module_name, f"no service {name!r}: expected a package {module_name}")
    main = getattr(module, "main", None)
    if not callable(main):
        raise ServiceNotFoundError(
            f"service {name!r} has no main(settings, argv) in package {module_name}"
        )
    return cast(ServiceMain, main)


def resolve_target(target: str) -> Service:
    """The `Service` that `module:attr` names (`attr` may be dotted)."""
    from conveyor.runtime.errors import ServiceNotFoundError
    from conveyor.runtime.service import Service

    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ServiceNotFoundError(f"{target!r}: expected module:attr, e.g. shop.service:service")
    found: object = _import(module_name, f"{target!r}: no module {module_name!r} to import")
    for part in attr.split("."):
        if not hasattr(found, part):
            raise ServiceNotFoundError(f"{target!r}: module {module_name} has no {attr}")
        found = getattr(found, part)
    if not isinstance(found, Service):
        raise ServiceNotFoundError(
            f"{target!r} is a {type(found).__name__}, not a conveyor.runtime.Service"
        )
    return found


def _import(module_name: str, missing: str) -> ModuleType:
    from conveyor.runtime.errors import ServiceNotFoundError

    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name or module_name.startswith(f"{exc.name}."):
            raise ServiceNotFoundError(missing) from exc
        raise ServiceNotFoundError(f"module {module_name} does not import: {exc}") from exc
    except (ImportError, SyntaxError) as exc:
        raise ServiceNotFoundError(f"module {module_name} does not import: {exc!r}") from exc


def run(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            metavar="SERVICE", help="module:attr of a Service, or a service name (payments)."
        ),
    ],
) -> None:
    """Run one service until SIGTERM/SIGINT; extra arguments go to a named service's main.

    Examples: conveyor run shop.service:service; conveyor run welcome-email
    """
    import structlog

    from conveyor.native import check_fresh

    check_fresh()
    settings = settings_of(ctx)  # reading them sets the CLI's logs up, so they are undone after
    structlog.reset_defaults()  # the service's main sets its own logs up (JSON), not the CLI's
    if ":" in target:
        from conveyor.serve import serve

        # As `uvicorn module:app` does: the module may live in the working directory.
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        raise typer.Exit(serve(resolve_target(target), settings, os.environ))
    main = resolve_service(target)
    raise typer.Exit(main(settings, list(ctx.args)))
