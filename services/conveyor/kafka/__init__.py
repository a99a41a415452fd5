"""Deprecated: the local broker launcher is `conveyor.localkafka` (this name read as a client)."""

import warnings

from conveyor import localkafka
from conveyor.localkafka import *  # noqa: F403  (the same names, from their one home)

warnings.warn(
    "conveyor.kafka is deprecated: import the local broker launcher from conveyor.localkafka",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = localkafka.__all__
