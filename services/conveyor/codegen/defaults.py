"""Avro field defaults (JSON values, read as the field's type) to Python source for the model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

from conveyor.codegen.types import Import, Names, member_name

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LOCAL_EPOCH: Final = datetime(1970, 1, 1)  # local timestamps carry no zone


@dataclass(frozen=True)
class Default:
    """A default as source: an expression, or (for mutable values) the body of a factory."""

    expression: str
    imports: frozenset[Import] = frozenset()
    mutable: bool = False


def default_of(schema: Any, value: Any, names: Names) -> Default:  # noqa: PLR0911 (a type switch)
    """The default `value` (JSON, as the Avro specification writes defaults) of a `schema` field.

    A union's default is a value of its first branch, as the specification says.
    """
    if isinstance(schema, list):
        return default_of(schema[0], value, names)
    if isinstance(schema, str):
        if schema in names.fixed:
            return default_of(names.fixed[schema], value, names)
        if schema in names.classes:
            return _named(schema, value, names)
        return _primitive(schema, value)
    kind, logical = schema["type"], schema.get("logicalType")
    if logical is not None and (converted := _logical(schema, str(logical), value)):
        return converted
    if kind in ("record", "enum"):
        return _named(schema["name"], value, names)
    if kind == "array":
        items = [default_of(schema["items"], item, names) for item in value]
        return _mutable("[{}]", items)
    if kind == "map":
        entries = {key: default_of(schema["values"], item, names) for key, item in value.items()}
        return _mutable("{{{}}}", [_entry(key, item) for key, item in entries.items()])
    if kind == "fixed":
        return _primitive("bytes", value)
    return _primitive(str(kind), value)


def _primitive(kind: str, value: Any) -> Default:
    if kind == "bytes":  # JSON strings of code points 0-255, one per byte
        return Default(literal(str(value).encode("latin-1")))
    if kind in ("float", "double"):
        return Default(repr(float(value)))
    return Default(literal(value))


def literal(value: Any) -> str:
    """`repr(value)` with strings in double quotes, as `ruff format` writes them (it keeps single
    quotes only where a string holds double quotes and no single ones)."""
    if isinstance(value, list):
        return f"[{', '.join(literal(item) for item in value)}]"
    if isinstance(value, dict):
        return f"{{{', '.join(f'{literal(k)}: {literal(v)}' for k, v in value.items())}}}"
    text = repr(value)
    if not isinstance(value, str | bytes) or text[-1] == '"':
        return text
    prefix = "b" if isinstance(value, bytes) else ""
    quoted = value.decode("latin-1") if isinstance(value, bytes) else value
    if '"' in quoted:
        return text
    body = text[len(prefix) + 1 : -1].replace("\\'", "'")
    return f'{prefix}"{body}"'


def _named(full_name: str, value: Any, names: Names) -> Default:
    class_name = names.classes[full_name]
    if isinstance(value, str):  # an enum symbol
        return Default(f"{class_name}.{member_name(value)}")
    return Default(f"{class_name}.model_validate({literal(value)})", mutable=True)


def _mutable(template: str, parts: list[Default]) -> Default:
    imports = frozenset().union(*(part.imports for part in parts))
    body = template.format(", ".join(part.expression for part in parts))
    return Default(body, imports, mutable=True)


def _entry(key: str, value: Default) -> Default:
    return Default(f"{literal(key)}: {value.expression}", value.imports)


def _logical(schema: dict[str, Any], logical: str, value: Any) -> Default | None:  # noqa: PLR0911
    """The default of a logical type as the value the model holds, worked out here so that the
    module shows it plainly (a date, not a count of days)."""
    if logical == "decimal":
        unscaled = int.from_bytes(str(value).encode("latin-1"), "big", signed=True)
        number = Decimal(unscaled).scaleb(-int(schema.get("scale", 0)))
        return Default(f'Decimal("{number}")', frozenset({("decimal", "Decimal")}))
    if logical == "uuid":
        return Default(f'UUID("{value}")', frozenset({("uuid", "UUID")}))
    if logical == "date":
        return _call("date", date.fromordinal(date(1970, 1, 1).toordinal() + int(value)))
    if logical in ("time-millis", "time-micros"):
        micros = int(value) * (1000 if logical == "time-millis" else 1)
        moment = datetime.min + timedelta(microseconds=micros)
        return _call("time", moment.time())
    scale = {"millis": 1000, "micros": 1}.get(logical.rsplit("-", 1)[-1])
    if logical.startswith("timestamp-") and scale:
        return _call("datetime", _EPOCH + timedelta(microseconds=int(value) * scale))
    if logical.startswith("local-timestamp-") and scale:
        return _call("datetime", _LOCAL_EPOCH + timedelta(microseconds=int(value) * scale))
    return None


def _call(kind: str, value: date | time | datetime) -> Default:
    """`date(2024, 1, 31)`, `time(9, 30)`, `datetime(2024, 1, 31, 9, 30, tzinfo=UTC)`."""
    imports = {("datetime", kind)}
    if isinstance(value, datetime):
        parts = [value.year, value.month, value.day, value.hour, value.minute, value.second]
        parts.append(value.microsecond)
    elif isinstance(value, date):
        parts = [value.year, value.month, value.day]
    else:
        parts = [value.hour, value.minute, value.second, value.microsecond]
    arguments = ", ".join(str(part) for part in parts)
    if isinstance(value, datetime) and value.tzinfo is not None:
        arguments += ", tzinfo=UTC"
        imports.add(("datetime", "UTC"))
    return Default(f"{kind}({arguments})", frozenset(imports))
