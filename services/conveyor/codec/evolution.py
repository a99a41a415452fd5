"""Schema evolution checks: every version of each event against the earlier ones, under the
compatibility mode declared for it in `schemas/compatibility.yaml` (default BACKWARD_TRANSITIVE).

BACKWARD: the new version reads data written with the old one (upgrade consumers first).
FORWARD: the old version reads data written with the new one (upgrade producers first).
FULL: both. The `_TRANSITIVE` modes compare with every earlier version, the others with the
previous one only. Violations are phrased for people: `OrderPlaced v3: field 'coupon' added
without a default (OrderPlaced v2 data has no value for it)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from conveyor.codec.compatibility import Problem, ProblemKind, expand, problems
from conveyor.codec.errors import SchemaLoadError
from conveyor.codec.schema_set import SchemaSet, SchemaVersion

POLICY_FILE: Final = "compatibility.yaml"


class Compatibility(StrEnum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def backward(self) -> bool:
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        return self.value.startswith(("FORWARD", "FULL"))

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")


class CompatibilityPolicy(BaseModel):
    """The mode of each event (Avro full name), and the mode of those not listed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Compatibility = Compatibility.BACKWARD_TRANSITIVE
    events: dict[str, Compatibility] = {}

    def mode_of(self, full_name: str) -> Compatibility:
        return self.events.get(full_name, self.default)

    @classmethod
    def load(cls, schema_dir: Path) -> CompatibilityPolicy:
        """`compatibility.yaml` in the schema directory; the defaults when there is none."""
        path = schema_dir / POLICY_FILE
        if not path.exists():
            return cls()
        try:
            return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        except (yaml.YAMLError, ValidationError) as exc:
            raise SchemaLoadError(f"{path}: {exc}") from exc


@dataclass(frozen=True)
class Violation:
    """`subject` breaks its compatibility mode against the earlier version `against`."""

    subject: SchemaVersion
    message: str

    def __str__(self) -> str:
        return f"{self.subject.label}: {self.message}"


def check(schemas: SchemaSet, policy: CompatibilityPolicy) -> list[Violation]:
    """Every violation in the schema set, in name and version order."""
    unknown = sorted(set(policy.events) - set(schemas.names()))
    if unknown:
        raise SchemaLoadError(f"{POLICY_FILE} names events without a schema: {', '.join(unknown)}")
    return [
        violation
        for name in schemas.names()
        for violation in _check_event(schemas.versions(name), policy.mode_of(name))
    ]


def _check_event(versions: tuple[SchemaVersion, ...], mode: Compatibility) -> Iterator[Violation]:
    for position, schema in enumerate(versions):
        if schema.version != position + 1:
            yield Violation(schema, f"versions count 1, 2, 3...; v{position + 1} is missing")
            return
    if mode is Compatibility.NONE:
        return
    expanded = [expand(v.raw) for v in versions]
    for new in range(1, len(versions)):
        olds = range(new) if mode.transitive else [new - 1]
        for old in reversed(olds):
            if mode.backward:
                for problem in problems(reader=expanded[new], writer=expanded[old]):
                    yield Violation(versions[new], _phrase(_BACKWARD, problem, versions[old].label))
            if mode.forward:
                for problem in problems(reader=expanded[old], writer=expanded[new]):
                    yield Violation(versions[new], _phrase(_FORWARD, problem, versions[old].label))


# How each problem reads when the new version is the reader (BACKWARD) or the writer (FORWARD).
_BACKWARD: Final = {
    ProblemKind.FIELD_WITHOUT_DEFAULT: (
        "field '{path}' added without a default ({old} data has no value for it)"
    ),
    ProblemKind.TYPE_MISMATCH: "{at} changed from {writer} to {reader} ({old} data cannot be read)",
    ProblemKind.NAME_MISMATCH: "{at} renamed from {writer} to {reader} without an alias",
    ProblemKind.MISSING_ENUM_SYMBOLS: (
        "{reader} at {at} dropped {writer}, which {old} data may hold "
        "(keep the symbols or give the enum a default)"
    ),
    ProblemKind.MISSING_UNION_BRANCH: "{at} no longer accepts {writer}, which {old} data may hold",
    ProblemKind.FIXED_SIZE_MISMATCH: "{at} changed size from {writer} to {reader} bytes",
}
_FORWARD: Final = {
    ProblemKind.FIELD_WITHOUT_DEFAULT: (
        "field '{path}' removed, but {old} readers need it (it has no default there)"
    ),
    ProblemKind.TYPE_MISMATCH: (
        "{at} changed from {reader} to {writer} ({old} readers cannot read it)"
    ),
    ProblemKind.NAME_MISMATCH: (
        "{at} renamed from {reader} to {writer} ({old} readers do not know it)"
    ),
    ProblemKind.MISSING_ENUM_SYMBOLS: (
        "{reader} at {at} gained {writer}, which {old} readers do not know "
        "(give the enum a default)"
    ),
    ProblemKind.MISSING_UNION_BRANCH: "{at} now accepts {writer}, which {old} readers cannot read",
    ProblemKind.FIXED_SIZE_MISMATCH: "{at} changed size from {reader} to {writer} bytes",
}


def _phrase(templates: dict[ProblemKind, str], problem: Problem, old: str) -> str:
    at = f"'{problem.path}'" if problem.path else "the record"
    return templates[problem.kind].format(
        path=problem.path, at=at, writer=problem.writer, reader=problem.reader, old=old
    )
