"""`Project`: a project's configuration and what it yields, each built once on first use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from conveyor.project.config import ProjectConfig

if TYPE_CHECKING:
    from conveyor.codec.avro import AvroCodec
    from conveyor.project.catalogue import EventCatalogue
    from conveyor.topology.model import Topology


@dataclass(frozen=True)
class Project:
    """One project's contracts. Commands and services build one in `main` and pass it down;
    its catalogue, codec and topology are loaded lazily, so a command that needs none of them
    (`conveyor kafka up`) never reads the schemas."""

    config: ProjectConfig
    _topologies: dict[str | None, Topology] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def discover(cls, cwd: Path, env: Mapping[str, str]) -> Project:
        """The project around `cwd` (see `conveyor.project.config`), with `env`'s overrides."""
        return cls(ProjectConfig.discover(cwd, env))

    @cached_property
    def catalogue(self) -> EventCatalogue:
        from conveyor.project.catalogue import load_catalogue

        return load_catalogue(self.config)

    @cached_property
    def codec(self) -> AvroCodec:
        """The Avro codec over the project's schemas and models."""
        from conveyor.codec.avro import AvroCodec

        return AvroCodec(self.catalogue.schemas, event_types=self.catalogue.models)

    def topology(self, profile: str | None = None) -> Topology:
        """The project's topology (with `profile`'s overrides), its events checked against the
        catalogue."""
        topology = self._topologies.get(profile)
        if topology is None:
            from conveyor.topology.loader import load

            topology = load(self.config.topology, profile, events=self.catalogue.bindings())
            self._topologies[profile] = topology
        return topology
