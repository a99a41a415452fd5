"""A secured single-node cluster for the session, started the way a developer starts one:
`conveyor kafka up --secure`, whose output the tests also check."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner

from conveyor.cli.main import cli
from conveyor.localkafka import KafkaDistribution, LocalKafka
from conveyor.settings import Settings
from tests.conftest import free_base_port


@dataclass(frozen=True)
class SecureKafka:
    """The running cluster, what `kafka up --secure` printed, and the admin's settings."""

    cluster: LocalKafka
    stdout: str
    stderr: str
    env: dict[str, str]  # the exports `kafka up --secure` printed

    @property
    def bootstrap(self) -> str:
        return self.cluster.bootstrap_servers

    @property
    def admin_password(self) -> str:
        security = self.cluster.security
        assert security is not None
        return security.admin_password()

    def admin_settings(self) -> dict[str, Any]:
        return {**self.cluster.client_settings(), "bootstrap.servers": self.bootstrap}


def _exports(stdout: str) -> dict[str, str]:
    lines = [line.removeprefix("export ") for line in stdout.splitlines() if "=" in line]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture(scope="session")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    state = tmp_path_factory.mktemp("secure-state")
    env = {"CONVEYOR_STATE_DIR": str(state)}
    port = free_base_port(1, secure=True)
    result = CliRunner().invoke(cli, ["kafka", "up", "--secure", "--port", str(port)], env=env)
    settings = Settings.from_env({**os.environ, **env})
    distribution = KafkaDistribution(cache_dir=settings.cache_dir, java_home=settings.java_home)
    cluster = LocalKafka.load(settings.kafka_home, distribution)
    try:
        assert result.exit_code == 0, result.output
        assert cluster is not None
        yield SecureKafka(cluster, result.stdout, result.stderr, _exports(result.stdout))
    finally:
        gc.collect()  # clients left over would log connection errors once the broker is gone
        if cluster is not None:
            cluster.down(wipe=True)
