"""Python source of one enum or one record class, laid out as `ruff format` would lay it out."""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from conveyor.codegen.defaults import Default, default_of
from conveyor.codegen.types import (
    Alias,
    Import,
    Named,
    Names,
    is_optional,
    member_name,
    python_type,
)

# Docstrings are wrapped to the width of black and ruff's default line length, so the module is
# clean under both the default and this repository's longer lines.
WIDTH: Final = 88
INDENT: Final = "    "


@dataclass(frozen=True)
class Source:
    """Some lines of the module, the imports they need and the type aliases they use."""

    text: str
    imports: frozenset[Import] = frozenset()
    aliases: frozenset[Alias] = frozenset()


@dataclass(frozen=True)
class EventBinding:
    """What makes a record an event: its topic and key field."""

    topic: str
    key_field: str


def docstring(text: str | None, fallback: str, indent: str = INDENT) -> str:
    """A docstring holding `text` (paragraphs kept, lines wrapped), else `fallback`."""
    paragraphs = [" ".join(p.split()) for p in (text or fallback).split("\n\n")]
    paragraphs = [_escaped(p) for p in paragraphs if p] or [_escaped(fallback)]
    one_line = f'{indent}"""{paragraphs[0]}"""'
    if len(paragraphs) == 1 and len(one_line) <= WIDTH:
        return one_line
    lines: list[str] = []
    for paragraph in paragraphs:
        if lines:
            lines.append("")
        first = WIDTH - len(indent) - 3 if not lines else WIDTH - len(indent)
        lines.extend(_wrap(paragraph, first, WIDTH - len(indent)))
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines)
    return f'{indent}"""{body.removeprefix(indent)}\n{indent}"""'


def _wrap(paragraph: str, first: int, rest: int) -> list[str]:
    head = textwrap.wrap(paragraph, first, break_long_words=False, break_on_hyphens=False)
    if len(head) <= 1:
        return head
    tail = " ".join(head[1:])
    return [head[0], *textwrap.wrap(tail, rest, break_long_words=False, break_on_hyphens=False)]


def _escaped(text: str) -> str:
    """Text safe inside a docstring: backslashes, quotes that would end it, and control
    characters escaped."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    text = "".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c for c in text)
    return text[:-1] + '\\"' if text.endswith('"') else text


def enum_class(named: Named, class_name: str) -> Source:
    """A `StrEnum` whose members are the symbols (a member named like a keyword gets a `_`)."""
    lines = [
        f"class {class_name}(StrEnum):",
        docstring(named.schema.get("doc"), f"Avro enum `{named.full_name}`."),
        "",
    ]
    lines.extend(
        f'{INDENT}{member_name(symbol)} = "{symbol}"' for symbol in named.schema["symbols"]
    )
    return Source("\n".join(lines), frozenset({("enum", "StrEnum")}))


def record_class(
    named: Named, class_name: str, names: Names, event: EventBinding | None, skip: Iterable[str]
) -> Source:
    """A model of the record: an `Event` when `event` binds it to a topic, else a `Record`.
    Fields in `skip` are inherited (an event's `event_id` and `occurred_at`)."""
    base = "Event" if event is not None else "Record"
    module = "conveyor.events" if event is not None else "conveyor.events.avro_types"
    imports: set[Import] = {(module, base)}
    aliases: set[Alias] = set()
    lines = [
        f"class {class_name}({base}):",
        docstring(named.schema.get("doc"), f"Avro record `{named.full_name}`."),
    ]
    if event is not None:
        imports.add(("typing", "ClassVar"))
        lines += [
            "",
            f'{INDENT}TOPIC: ClassVar[str] = "{event.topic}"',
            f'{INDENT}KEY_FIELD: ClassVar[str] = "{event.key_field}"',
            f'{INDENT}AVRO_NAME: ClassVar[str] = "{named.full_name}"',
        ]
    for field in named.schema["fields"]:
        if field["name"] in skip:
            continue
        source = _field(field, names)
        imports |= source.imports
        aliases |= source.aliases
        lines += ["", source.text]
    return Source("\n".join(lines), frozenset(imports), frozenset(aliases))


def _field(field: dict[str, Any], names: Names) -> Source:
    kind = python_type(field["type"], names)
    imports = set(kind.imports)
    line = f"{INDENT}{field['name']}: {kind.expression}"
    default = _default(field, names)
    if default is not None:
        imports |= default.imports
        if default.mutable:
            imports.add(("pydantic", "Field"))
            factory = default.expression
            factory = {"[]": "list", "{}": "dict"}.get(factory, f"lambda: {factory}")
            line += f" = Field(default_factory={factory})"
        else:
            line += f" = {default.expression}"
    doc = field.get("doc")
    text = line if doc is None else f"{line}\n{docstring(doc, '')}"
    return Source(text, frozenset(imports), kind.aliases)


def _default(field: dict[str, Any], names: Names) -> Default | None:
    if "default" in field:
        return default_of(field["type"], field["default"], names)
    if is_optional(field["type"]):
        return Default("None")
    return None
