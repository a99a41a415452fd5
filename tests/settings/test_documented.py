"""Every setting is documented where it is read: the README's tables are what the settings
models generate, the README names no variable nothing reads, and each variable, set in the
environment of a freshly built settings object, changes what its row says it changes."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr

from conveyor.environment import Variable, variables
from conveyor.errors import ConveyorError
from conveyor.localkafka.tls import CertificateAuthority
from conveyor.variables import LIBRARY, Group, library_table
from integrations.settings import REFERENCE, reference_table

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# A name in capitals with an underscore; a trailing `_*` or `_` makes it a family of variables.
NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?:_\*|_(?![A-Z0-9]))?")
NOT_SETTINGS = {
    "CONVEYOR_COMPILE": "read by setup.py while installing, not by a process",
    "CONVEYOR_TEST_KAFKA": "the test suite's",
    "CONVEYOR_TEST_POSTGRES_DSN": "the test suite's",
    "OTEL_SERVICE_NAME": "read by the OpenTelemetry SDK itself",
    "OTEL_RESOURCE_ATTRIBUTES": "read by the OpenTelemetry SDK itself",
    "OTEL_TRACES_SAMPLER": "read by the OpenTelemetry SDK itself",
    "OTEL_EXPORTER_OTLP_*": "read by the OpenTelemetry SDK itself",
    "OTEL_BSP_*": "read by the OpenTelemetry SDK itself",
}
REFERENCE_GROUPS = tuple(Group(title, model, model.from_env) for title, model in REFERENCE)  # type: ignore[attr-defined]
GROUPS = (*LIBRARY, *REFERENCE_GROUPS)
DOCUMENTED = {entry.name for group in GROUPS for entry in variables(group.model)}
# Names starting as a documented variable does (`CONVEYOR_`, `KAFKA_`, `SMTP_`, ...) are taken
# for variables; others in capitals are values and error codes (`SASL_SSL`, `TOPIC_..._FAILED`).
PREFIXES = tuple({name.split("_")[0] + "_" for name in DOCUMENTED})


def _between(text: str, marker: str) -> str:
    begin, end = f"<!-- {marker}: begin -->\n", f"<!-- {marker}: end -->"
    return text[text.index(begin) + len(begin) : text.index(end)]


def _names(text: str) -> set[str]:
    return {name for name in NAME.findall(text) if name.startswith(PREFIXES)}


def _read_by_a_model(name: str) -> bool:
    if name in DOCUMENTED:
        return True
    family = name.removesuffix("*")
    return family.endswith("_") and any(known.startswith(family) for known in DOCUMENTED)


def test_the_readme_tables_are_the_generated_ones() -> None:
    """`conveyor settings` (and `python -m integrations.settings`) print the README's tables:
    regenerate them there after changing a settings model."""
    assert _between(README, "conveyor settings") == library_table()
    assert _between(README, "reference settings") == reference_table()


def test_the_readme_names_no_variable_that_nothing_reads() -> None:
    unread = {n for n in _names(README) if not _read_by_a_model(n) and n not in NOT_SETTINGS}
    assert unread == set()


def test_the_settings_modules_name_no_variable_that_nothing_reads() -> None:
    """What the settings modules' docstrings and comments mention is read by some model."""
    modules = {sys.modules[group.model.__module__] for group in GROUPS}
    mentioned = set()
    for module in modules:
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        mentioned |= _names(source)
    unread = {n for n in mentioned if not _read_by_a_model(n) and n not in NOT_SETTINGS}
    assert unread == set()


def test_every_variable_has_a_description_and_an_example() -> None:
    for group in GROUPS:
        for entry in variables(group.model):
            assert entry.description, entry.name
            assert entry.example or entry.name.endswith("_FILE"), entry.name


def _cases() -> Iterator[tuple[Group, Variable]]:
    for group in GROUPS:
        for entry in variables(group.model):
            yield group, entry


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding what the client variables' examples name: a real CA, a client
    certificate and key it signed, and a properties file."""
    directory = tmp_path_factory.mktemp("client-files")
    authority = CertificateAuthority(directory / "authority").ensure()
    identity = authority.issue("client", directory)
    (directory / "ca.pem").write_bytes(authority.certificate.read_bytes())
    assert identity.certificate == directory / "client.pem"
    assert identity.key == directory / "client.key"
    (directory / "client.properties").write_text("socket.keepalive.enable=true\n")
    return directory


def _attribute(settings: object, path: str) -> object:
    value = settings
    for part in path.split("."):
        value = getattr(value, part)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return value.model_dump()
    return value


@pytest.mark.parametrize(
    ("group", "entry"), list(_cases()), ids=[entry.name for _, entry in _cases()]
)
def test_each_variable_changes_what_it_says(
    group: Group,
    entry: Variable,
    tls_files: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Setting the variable (to its documented example; a `_FILE` variant to a file holding
    it) changes the attribute its row names, compared with the same environment without it."""
    monkeypatch.chdir(tls_files)
    base: Mapping[str, str] = dict(entry.given)
    if entry.name.endswith("_FILE"):
        plain = entry.name.removesuffix("_FILE")
        example = next(e for e in variables(group.model) if e.name == plain).example
        secret = tmp_path / "secret"
        secret.write_text(example + "\n")
        changed = {**base, entry.name: str(secret)}
    else:
        changed = {**base, entry.name: entry.example}
    try:
        before = _attribute(group.build(base), entry.sets)
    except ConveyorError:  # what `given` holds needs this variable too: compare with none set
        before = _attribute(group.build({}), entry.sets)
    after = _attribute(group.build(changed), entry.sets)
    assert after != before, f"{entry.name}={changed[entry.name]} left {entry.sets} at {before!r}"
