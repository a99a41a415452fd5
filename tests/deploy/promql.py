"""Just enough PromQL reading to check queries against the metrics the code exports: which
metric names an expression selects, the labels its selectors match on, and the labels it
groups by. Not a parser: the expressions here are the project's own, kept simple."""

from __future__ import annotations

import re
from dataclasses import dataclass

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
    | {"group_left", "group_right", "inf", "nan"}
)


@dataclass(frozen=True)
class Selector:
    metric: str
    matched: frozenset[str]  # label names its `{...}` matches on


@dataclass(frozen=True)
class Query:
    selectors: tuple[Selector, ...]
    grouping: frozenset[str]  # label names of by / without / on / ignoring / group_* clauses


def read(expr: str) -> Query:
    text = _RANGE.sub(" ", _STRING.sub('""', expr))
    grouping = frozenset(
        label.strip()
        for clause in _GROUPING.findall(text)
        for label in clause.split(",")
        if label.strip()
    )
    text = _GROUPING.sub(" ", text)
    selectors = []

    def take(match: re.Match[str]) -> str:
        selectors.append(
            Selector(match.group(1) or "", frozenset(_MATCHER.findall(match.group(2))))
        )
        return " "

    text = _SELECTOR.sub(take, text)
    for match in _NAME.finditer(text):
        name = match.group()
        called = text[match.end() :].lstrip().startswith("(")
        follows_digit = match.start() > 0 and text[match.start() - 1].isdigit()
        if not called and not follows_digit and name not in _KEYWORDS:
            selectors.append(Selector(name, frozenset()))
    return Query(tuple(selectors), grouping)
