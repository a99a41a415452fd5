"""The launcher's errors say what is wrong and what to do."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conveyor.errors import JavaNotFoundError, MavenNotFoundError, PortInUseError
from conveyor.localkafka import ClusterSpec, KafkaDistribution, LocalKafka
from conveyor.localkafka.distribution import find_java


def _conveyor(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from conveyor.cli.main import app; app()", *args]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_taken_port_is_named_with_what_to_do(tmp_path: Path) -> None:
    """`kafka up` on a port another process holds fails at once, naming the port and the fix."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "CONVEYOR_STATE_DIR": str(tmp_path)}
        done = _conveyor(["kafka", "up", "--port", str(port)], env)
    assert done.returncode == 2
    assert f"port {port}" in done.stderr
    assert "--port" in done.stderr
    assert "KAFKA_BOOTSTRAP_SERVERS" in done.stderr


def test_taken_port_raises_typed_error_from_the_api(tmp_path: Path) -> None:
    """The Python API raises PortInUseError before starting any process."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        cluster = LocalKafka(
            tmp_path, KafkaDistribution(cache_dir=tmp_path / "cache"), ClusterSpec(port=port)
        )
        with pytest.raises(PortInUseError):
            cluster.up(timeout=5)
    assert cluster.pids == {}


def test_missing_java_names_java_home(tmp_path: Path) -> None:
    """A JAVA_HOME without a java gives a clear error with how to install one."""
    env = {**os.environ, "CONVEYOR_STATE_DIR": str(tmp_path), "JAVA_HOME": str(tmp_path / "none")}
    done = _conveyor(["kafka", "up", "--port", "1"], env)
    assert done.returncode == 2
    assert "Java not found" in done.stderr
    assert "JAVA_HOME" in done.stderr


def test_old_java_is_refused_with_the_version_needed(tmp_path: Path) -> None:
    """A Java older than 17 is refused, saying which version was found and which is needed."""
    java = tmp_path / "jdk11" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(JavaNotFoundError, match=r"Java 11 found .* needs Java 17\+"):
        find_java(str(tmp_path / "jdk11"))


def test_missing_maven_explains_what_it_is_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an empty jar cache and no `mvn`, the error says why Maven is needed and the way out."""
    monkeypatch.setenv("PATH", str(tmp_path))
    distribution = KafkaDistribution(cache_dir=tmp_path / "empty-cache")
    with pytest.raises(MavenNotFoundError, match=r"mvn.*not found.*KAFKA_BOOTSTRAP_SERVERS"):
        distribution.classpath()
