"""Finding Java and fetching the Kafka broker jars with Maven into a cache outside the repo."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from conveyor.errors import JavaNotFoundError, LauncherError, MavenNotFoundError

KAFKA_VERSION = "4.1.1"
MIN_JAVA = 17
# The Maven pom and log config ship inside the package (package data), beside this module.
_ASSETS = Path(__file__).resolve().parent / "assets"
_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def java_major_version(java: str) -> int:
    """The major version `java -version` reports (8 for "1.8.0", 17 for "17.0.15")."""
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise JavaNotFoundError(
            f"Java not found ({java}). Install Java {MIN_JAVA}+ "
            "(e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME to one."
        ) from exc
    found = _JAVA_VERSION.search(done.stderr + done.stdout)
    if found is None:
        raise JavaNotFoundError(f"Could not read the version of {java}: {done.stderr.strip()!r}")
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def find_java(java_home: str | None) -> str:
    """The `java` to run: `$JAVA_HOME/bin/java` when JAVA_HOME is set, else the one on PATH."""
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if java is None:
        raise JavaNotFoundError(
            f"Java not found on PATH. Install Java {MIN_JAVA}+ "
            "(e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME to one."
        )
    major = java_major_version(java)
    if major < MIN_JAVA:
        raise JavaNotFoundError(
            f"Java {major} found at {java}, but Kafka {KAFKA_VERSION} needs Java {MIN_JAVA}+. "
            "Install a newer JDK or point JAVA_HOME at one."
        )
    return java


@dataclass(frozen=True)
class KafkaDistribution:
    """The broker's classpath, resolved once per version into `cache_dir` and reused after."""

    cache_dir: Path
    java_home: str | None = None
    version: str = KAFKA_VERSION
    assets_dir: Path = _ASSETS

    @property
    def libs(self) -> Path:
        return self.cache_dir / f"kafka-{self.version}" / "libs"

    @property
    def log4j_config(self) -> Path:
        return self.assets_dir / "log4j2.properties"

    def java(self) -> str:
        return self._checked_java

    @cached_property
    def _checked_java(self) -> str:
        """Found and version-checked once: each check starts a JVM, and every node start and
        storage format asks for it."""
        return find_java(self.java_home)

    def classpath(self) -> str:
        """`libs/*`, fetching the jars first when the cache does not hold them yet."""
        if not (self.libs / f"kafka_2.13-{self.version}.jar").exists():
            self._fetch()
        return str(self.libs / "*")

    def _fetch(self) -> None:
        mvn = shutil.which("mvn")
        if mvn is None:
            raise MavenNotFoundError(
                "`mvn` not found on PATH: it fetches the Kafka jars once into "
                f"{self.libs}. Install Maven (e.g. `apt-get install maven`), or run Kafka "
                "yourself and set KAFKA_BOOTSTRAP_SERVERS."
            )
        staging = self.libs.with_name("libs.partial")
        shutil.rmtree(staging, ignore_errors=True)
        command = [
            mvn, "-q", "-B", "-f", str(self.assets_dir / "pom.xml"),
            "dependency:copy-dependencies", "-DincludeScope=runtime",
            f"-Dkafka.version={self.version}", f"-DoutputDirectory={staging}",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
            raise LauncherError(f"Maven could not fetch Kafka {self.version}:\n{tail}")
        shutil.rmtree(self.libs, ignore_errors=True)
        staging.rename(self.libs)
