"""A project's own contracts: how they are found, overridden, loaded, and what a mistake says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conveyor.codec import SchemaLoadError
from conveyor.project import EventModelError, Project, ProjectConfig, ProjectConfigError
from conveyor.topology import TopologyFileError
from tests.library.conftest import GREETING

MODEL = """\
from typing import ClassVar

from conveyor.events import Event


class Greeted(Event):
    TOPIC: ClassVar[str] = "{topic}"
    KEY_FIELD: ClassVar[str] = "person_id"
    AVRO_NAME: ClassVar[str] = "{name}"

    person_id: str
"""


def with_models(root: Path, module: str, topic: str = "greetings", name: str = "") -> None:
    (root / f"{module}.py").write_text(
        MODEL.format(topic=topic, name=name or "acme.events.Greeted")
    )


def test_tool_conveyor_is_found_from_a_subdirectory_with_paths_relative_to_it(
    project_dir: Path,
) -> None:
    """Walking up from a nested working directory finds pyproject.toml's [tool.conveyor]."""
    nested = project_dir / "src" / "acme"
    nested.mkdir(parents=True)

    config = ProjectConfig.discover(nested, {})

    assert config.source == project_dir / "pyproject.toml"
    assert config.schemas == project_dir / "contracts"
    assert config.topology == project_dir / "contracts" / "topics.yaml"


def test_a_pyproject_without_tool_conveyor_is_passed_over(project_dir: Path) -> None:
    """A sub-package's own pyproject.toml that says nothing about conveyor is not the project."""
    inner = project_dir / "libs" / "helper"
    inner.mkdir(parents=True)
    (inner / "pyproject.toml").write_text('[project]\nname = "helper"\n')

    assert ProjectConfig.discover(inner, {}).root == project_dir


def test_conveyor_toml_in_a_nearer_directory_wins(project_dir: Path) -> None:
    """conveyor.toml holds the same keys at its top level; the nearest file is the project."""
    inner = project_dir / "other"
    inner.mkdir()
    (inner / "conveyor.toml").write_text('schemas = "avro"\nmodels = "other.events"\n')

    config = ProjectConfig.discover(inner, {})

    assert (config.schemas, config.models) == (inner / "avro", ("other.events",))


def test_environment_variables_override_the_file(project_dir: Path) -> None:
    """CONVEYOR_SCHEMAS/_TOPOLOGY/_MODELS win, relative to the working directory."""
    env = {
        "CONVEYOR_SCHEMAS": "elsewhere",
        "CONVEYOR_TOPOLOGY": "/etc/topics.yaml",
        "CONVEYOR_MODELS": "a.events, b.events",
    }

    config = ProjectConfig.discover(project_dir, env)

    assert config.schemas == project_dir / "elsewhere"
    assert config.topology == Path("/etc/topics.yaml")
    assert config.models == ("a.events", "b.events")


def test_without_a_file_the_working_directory_is_the_project(tmp_path: Path) -> None:
    """No conveyor.toml or [tool.conveyor] up to the root: schemas/ and schemas/topics.yaml."""
    config = ProjectConfig.discover(tmp_path, {})

    assert (config.source, config.schemas) == (None, tmp_path / "schemas")
    assert config.topology == tmp_path / "schemas" / "topics.yaml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tool.conveyor]\nschema = "x"\n', r"unknown conveyor setting\(s\) \['schema'\]"),
        ("[tool.conveyor]\nschemas = 3\n", "schemas must be a path"),
        ('[tool.conveyor]\nmodels = ["not a module"]\n', "importable modules or .py files"),
        ("[tool.conveyor\n", "not readable TOML"),
    ],
    ids=["unknown-key", "wrong-type", "bad-module", "bad-toml"],
)
def test_a_malformed_config_names_its_file(tmp_path: Path, text: str, message: str) -> None:
    """Each mistake in the settings is found when they are read, naming the file."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n" + text)
    if "TOML" in message:
        (tmp_path / "pyproject.toml").write_text(text)

    with pytest.raises(ProjectConfigError, match=message) as caught:
        ProjectConfig.discover(tmp_path, {})
    assert str(tmp_path / "pyproject.toml") in str(caught.value)


def test_the_catalogue_is_the_projects_schemas_with_its_models_bound(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every schema is an event the tools know; a model binds to its schema by full name, and
    the codec encodes and decodes it."""
    with_models(project_dir, "acme_models")
    monkeypatch.syspath_prepend(str(project_dir))
    config = ProjectConfig.discover(project_dir, {"CONVEYOR_MODELS": "acme_models"})

    project = Project(config)

    assert project.catalogue.names() == ("acme.events.Greeted",)
    model = project.catalogue.model("acme.events.Greeted")
    event = model.model_validate({"person_id": "p-1"})
    assert project.codec.decode(project.codec.encode(event)) == event
    assert [t.name for t in project.topology().topics] == ["greetings"]


def test_a_missing_schema_directory_names_the_setting_and_its_file(tmp_path: Path) -> None:
    """The error says which directory is missing and which file asked for it."""
    (tmp_path / "pyproject.toml").write_text('[tool.conveyor]\nschemas = "nowhere"\n')

    with pytest.raises(SchemaLoadError, match="nowhere does not exist") as caught:
        _ = Project.discover(tmp_path, {}).codec
    assert str(tmp_path / "pyproject.toml") in str(caught.value)


def test_an_invalid_schema_file_is_named(project_dir: Path) -> None:
    """An .avsc that is not valid Avro names the file."""
    bad = project_dir / "contracts" / "Broken.v1.avsc"
    bad.write_text(json.dumps({"type": "record", "name": "Broken", "fields": [{"name": "x"}]}))

    with pytest.raises(SchemaLoadError, match="not a valid Avro schema") as caught:
        _ = Project.discover(project_dir, {}).catalogue
    assert str(bad) in str(caught.value)


def test_two_schemas_with_one_full_name_and_version_are_named(project_dir: Path) -> None:
    """Two files defining the same record version name both files."""
    copy = project_dir / "contracts" / "more" / "Greeted.v1.avsc"
    copy.parent.mkdir()
    copy.write_text(json.dumps({**GREETING, "doc": "the same record again"}))

    with pytest.raises(SchemaLoadError, match="defined twice") as caught:
        _ = Project.discover(project_dir, {}).catalogue
    assert str(copy) in str(caught.value)
    assert str(project_dir / "contracts" / "Greeted.v1.avsc") in str(caught.value)


def test_a_topology_naming_an_unknown_event_names_the_file(project_dir: Path) -> None:
    """A topic carrying an event no schema defines is refused, naming the topology file."""
    topology = project_dir / "contracts" / "topics.yaml"
    topology.write_text(topology.read_text().replace("acme.events.Greeted", "acme.events.Nope"))

    with pytest.raises(TopologyFileError, match=r"acme\.events\.Nope, which no schema") as caught:
        Project.discover(project_dir, {}).topology()
    assert str(topology) in str(caught.value)


def test_a_models_module_that_does_not_import_is_named(project_dir: Path) -> None:
    """A listed models module that is missing is a clear error naming it."""
    with pytest.raises(EventModelError, match="models module 'acme_nowhere' does not import"):
        _ = Project.discover(project_dir, {"CONVEYOR_MODELS": "acme_nowhere"}).catalogue


def test_a_model_bound_to_no_schema_names_the_model_and_the_directory(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand-written model whose AVRO_NAME no schema defines is refused at load."""
    with_models(project_dir, "acme_typo", name="acme.events.Greetd")
    monkeypatch.syspath_prepend(str(project_dir))

    with pytest.raises(
        EventModelError, match=r"acme_typo\.Greeted is bound to acme\.events\.Greetd"
    ):
        _ = Project.discover(project_dir, {"CONVEYOR_MODELS": "acme_typo"}).catalogue


def test_a_model_on_another_topic_than_the_topology_says_is_refused(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The topology and the model agree on the topic an event travels on."""
    with_models(project_dir, "acme_moved", topic="salutations")
    monkeypatch.syspath_prepend(str(project_dir))

    project = Project.discover(project_dir, {"CONVEYOR_MODELS": "acme_moved"})
    with pytest.raises(TopologyFileError, match="whose model travels on salutations"):
        project.topology()


def test_this_repository_is_a_project_of_its_own() -> None:
    """The repository's [tool.conveyor] names schemas/, its topology and the reference models."""
    from tests.project import PROJECT, REPO

    assert PROJECT.config.source == REPO / "pyproject.toml"
    assert PROJECT.config.models == ("shop_events",)
    assert len(PROJECT.catalogue.models) == len(PROJECT.catalogue.names()) == 6
    assert PROJECT.config.topology == REPO / "schemas" / "topics.yaml"
