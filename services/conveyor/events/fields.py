"""Field types shared by the event models, each matching one Avro type and its value range.

Avro `int` is 32-bit and `long` 64-bit; money is a `long` count of minor units, never a float.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field, StringConstraints

INT_MIN: Final = -(2**31)
INT_MAX: Final = 2**31 - 1
LONG_MIN: Final = -(2**63)
LONG_MAX: Final = 2**63 - 1

EntityId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
"""An entity id (user, order, payment...): the Kafka key as UTF-8."""

Text = Annotated[str, StringConstraints(min_length=1)]
"""A string that must not be empty."""

Money = Annotated[int, Field(strict=True, ge=0, le=LONG_MAX)]
"""An amount in minor units of its currency (cents for EUR): Avro `long`, never negative."""

Quantity = Annotated[int, Field(strict=True, ge=1, le=INT_MAX)]
"""A count of units: Avro `int`, at least 1."""

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 currency code, e.g. `EUR`."""
