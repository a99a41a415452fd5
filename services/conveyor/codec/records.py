"""Event models as the records fastavro writes, without `model_dump`'s copy of every value.

A validated model's `__dict__` already holds what Avro needs (str, int, UUID, datetime, enum
members); only nested models (an order's items) must become dicts.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel


def to_record(model: BaseModel) -> dict[str, Any]:
    """The model's field values by name, nested models as dicts of theirs."""
    values = model.__dict__
    nested = _NESTED.get(type(model))
    if nested is None:
        nested = _NESTED[type(model)] = _nested_fields(type(model))
    if not nested:
        return values
    record = values.copy()
    for name in nested:
        record[name] = _plain(values[name])
    return record


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is tuple or kind is list or isinstance(value, list | tuple):
        # An order's items: models without nested models of their own give their `__dict__`
        # as it is, without a call each.
        flat = _NESTED.get
        return [item.__dict__ if flat(type(item)) == () else _plain(item) for item in value]
    if kind in _NESTED or isinstance(value, BaseModel):
        return to_record(value)
    return value


# Model type -> its fields whose type mentions a model; `()` for models without any.
_NESTED: dict[type[BaseModel], tuple[str, ...]] = {}


def _nested_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """Fields whose type mentions a model (`tuple[OrderItem, ...]`, `Item | None`)."""
    return tuple(
        name for name, field in model.model_fields.items() if _mentions_model(field.annotation)
    )


def _mentions_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_mentions_model(arg) for arg in typing.get_args(annotation))
