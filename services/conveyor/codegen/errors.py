"""The error of making models from schemas: it names the file and says what to change."""

from __future__ import annotations

from pathlib import Path

from conveyor.errors import ConveyorError


class GenerationError(ConveyorError):
    """The schemas (or the topology binding them to topics) cannot be made into models."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
