"""`conveyor schemas check` passes compatible histories and names each violation in plain words."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastavro import schemaless_reader, schemaless_writer
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.codec import SchemaLoadError, SchemaSet
from conveyor.codec.evolution import Compatibility, CompatibilityPolicy, check
from tests.project import SCHEMA_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "evolution"
BT, B, F, FT, FULL = (
    Compatibility.BACKWARD_TRANSITIVE,
    Compatibility.BACKWARD,
    Compatibility.FORWARD,
    Compatibility.FORWARD_TRANSITIVE,
    Compatibility.FULL_TRANSITIVE,
)

CASES = [
    ("added-optional-field", FULL, []),
    (
        "added-field-without-default",
        BT,
        ["Thing v2: field 'coupon' added without a default (Thing v1 data has no value for it)"],
    ),
    (
        "narrowed-type",
        BT,
        ["Thing v2: 'amount' changed from long to int (Thing v1 data cannot be read)"],
    ),
    ("widened-type", BT, []),
    (
        "widened-type",
        FT,
        ["Thing v2: 'amount' changed from int to long (Thing v1 readers cannot read it)"],
    ),
    ("removed-field", BT, []),
    (
        "removed-field",
        F,
        [
            "Thing v2: field 'amount' removed, "
            "but Thing v1 readers need it (it has no default there)"
        ],
    ),
    (
        "enum-dropped-symbol",
        BT,
        [
            "Thing v2: enum Color at 'color' dropped GREEN, which Thing v1 data may hold "
            "(keep the symbols or give the enum a default)"
        ],
    ),
    ("enum-added-symbol", BT, []),
    (
        "enum-added-symbol",
        FULL,
        [
            "Thing v2: enum Color at 'color' gained GREEN, which Thing v1 readers do not know "
            "(give the enum a default)"
        ],
    ),
    ("enum-added-symbol-with-default", FULL, []),
    ("default-removed-later", B, []),
    (
        "default-removed-later",
        BT,
        ["Thing v3: field 'b' added without a default (Thing v1 data has no value for it)"],
    ),
    (
        "nested-record-renamed",
        BT,
        ["Thing v2: 'line' renamed from record Line to record LineItem without an alias"],
    ),
    ("nested-record-renamed-with-alias", BT, []),
    (
        "union-branch-dropped",
        BT,
        ["Thing v2: 'ref' no longer accepts long, which Thing v1 data may hold"],
    ),
    ("union-branch-dropped", Compatibility.NONE, []),
    ("version-gap", BT, ["Thing v3: versions count 1, 2, 3...; v2 is missing"]),
]


@pytest.mark.parametrize(("case", "mode", "expected"), CASES, ids=[f"{c}-{m}" for c, m, _ in CASES])
def test_schema_history_is_judged_by_its_mode(
    case: str, mode: Compatibility, expected: list[str]
) -> None:
    """Each history passes or fails under the mode, with exactly these plain-word violations."""
    violations = check(SchemaSet.load(FIXTURES / case), CompatibilityPolicy(default=mode))

    assert [str(v) for v in violations] == expected


def test_the_projects_schemas_pass_their_declared_modes() -> None:
    """schemas/ itself is compatible, with UserSignedUp held to FULL_TRANSITIVE."""
    policy = CompatibilityPolicy.load(SCHEMA_DIR)

    assert policy.mode_of("conveyor.events.UserSignedUp") is Compatibility.FULL_TRANSITIVE
    assert policy.mode_of("conveyor.events.OrderPlaced") is Compatibility.BACKWARD_TRANSITIVE
    assert check(SchemaSet.load(SCHEMA_DIR), policy) == []


def test_cli_exits_zero_on_compatible_schemas() -> None:
    """The command a CI job runs succeeds on the project's schemas."""
    result = CliRunner().invoke(cli, ["schemas", "check"])

    assert result.exit_code == 0, result.output
    assert "ok: 6 events" in result.output


def test_cli_exits_non_zero_and_prints_each_violation() -> None:
    """The mode comes from compatibility.yaml (FULL_TRANSITIVE there); violations are printed."""
    result = CliRunner().invoke(
        cli, ["schemas", "check", "--schemas", str(FIXTURES / "enum-added-symbol")]
    )

    assert result.exit_code == 1
    assert "Thing v2: enum Color at 'color' gained GREEN" in result.output
    assert "1 compatibility violation(s)" in result.output


def test_policy_naming_an_unknown_event_is_an_error(tmp_path: Path) -> None:
    """A typo in compatibility.yaml must not silently leave an event on the default mode."""
    (tmp_path / "compatibility.yaml").write_text("events:\n  fixtures.Thingy: FULL\n")

    with pytest.raises(SchemaLoadError, match=r"fixtures\.Thingy"):
        check(SchemaSet.load(FIXTURES / "removed-field"), CompatibilityPolicy.load(tmp_path))


def test_policy_with_an_unknown_mode_is_an_error(tmp_path: Path) -> None:
    """Only the seven modes exist; anything else is refused when the file is read."""
    (tmp_path / "compatibility.yaml").write_text("default: SIDEWAYS\n")

    with pytest.raises(SchemaLoadError, match=r"compatibility\.yaml"):
        CompatibilityPolicy.load(tmp_path)


def test_badly_named_schema_file_is_an_error(tmp_path: Path) -> None:
    """Files must be named <Record>.v<N>.avsc so versions are unambiguous."""
    (tmp_path / "Thing.avsc").write_text('{"type": "record", "name": "Thing", "fields": []}')

    with pytest.raises(SchemaLoadError, match=r"<Record>\.v<N>\.avsc"):
        SchemaSet.load(tmp_path)


def sample(schema: Any) -> Any:
    """A value for the types the fixtures use (of a union, its last branch: not null)."""
    if isinstance(schema, list):
        return sample(schema[-1])
    kind = schema if isinstance(schema, str) else schema["type"]
    values: dict[str, Any] = {"string": "s", "int": 7, "long": 7, "null": None}
    if kind in values:
        return values[kind]
    if kind == "enum":
        return schema["symbols"][-1]
    if kind == "record":
        return {f["name"]: sample(f["type"]) for f in schema["fields"]}
    return sample(kind)


@pytest.mark.parametrize(
    ("case", "mode"),
    [(c, m) for c, m, expected in CASES if not expected and m.backward and c != "version-gap"],
)
def test_histories_judged_backward_compatible_really_read_old_data(
    case: str, mode: Compatibility
) -> None:
    """Cross-check with fastavro: data of every older version reads with the newest schema."""
    versions = SchemaSet.load(FIXTURES / case).versions("fixtures.Thing")
    newest = versions[-1]
    for old in versions[:-1] if mode.transitive else versions[-2:-1]:
        body = BytesIO()
        schemaless_writer(body, old.parsed, sample(old.raw))
        body.seek(0)
        assert schemaless_reader(body, old.parsed, newest.parsed) is not None
