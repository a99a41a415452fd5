"""Errors of the demo."""

from __future__ import annotations

from conveyor.errors import ConveyorError


class DemoError(ConveyorError):
    """The demo could not set up or run its pipeline."""


class ProcessFailedError(DemoError):
    """A process of the pipeline exited or never became ready; the message names its log."""
