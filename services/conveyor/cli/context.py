"""The settings object every command shares, read once in `main`."""

from __future__ import annotations

import typer

from conveyor.settings import Settings


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):
        raise RuntimeError("the conveyor CLI was started without its settings")
    return settings
