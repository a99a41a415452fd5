"""The library as a user gets it: its wheel built from this checkout, installed into a fresh
virtualenv outside the repository, and commands run from a user's project directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.project import REPO

# What the library's wheel is built from: nothing of the reference pipeline.
LIBRARY_SOURCES = ("pyproject.toml", "setup.py", "README.md", "services/conveyor")
# Top-level packages of the reference pipeline (services/<name>/, the library aside).
REFERENCE_PACKAGES = tuple(
    sorted(
        p.name
        for p in (REPO / "services").iterdir()
        if (p / "__init__.py").exists() and p.name != "conveyor"
    )
)


def build_wheel(workdir: Path) -> Path:
    """The library's pure-Python wheel, built from a copy of its sources in `workdir`."""
    source = workdir / "source"
    for name in LIBRARY_SOURCES:
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.so")
            )
        else:
            shutil.copy(REPO / name, target)
    dist = workdir / "dist"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    run(
        [*pip_wheel, "--no-build-isolation", "--wheel-dir", str(dist), str(source)],
        env={**os.environ, "CONVEYOR_COMPILE": "0"},
    )
    [wheel] = dist.glob("conveyor-*.whl")
    return wheel


@dataclass(frozen=True)
class Venv:
    """A virtualenv with the library installed, and an environment free of this checkout."""

    root: Path

    @classmethod
    def create(cls, root: Path, wheel: Path) -> Venv:
        run([sys.executable, "-m", "venv", str(root)])
        venv = cls(root)
        venv.pip("install", "--quiet", str(wheel))
        return venv

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment commands run in: the venv first on PATH, no PYTHONPATH, and none of
        the test session's project overrides."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith("CONVEYOR_")
        }
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return {**env, **extra}

    def pip(self, *args: str) -> str:
        return run([str(self.bin / "python"), "-m", "pip", *args], env=self.env()).stdout

    def conveyor(
        self, *args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """`conveyor args...` from the venv, run in `cwd` (the user's project)."""
        argv = [str(self.bin / "conveyor"), *args]
        return run(argv, cwd=cwd, env=self.env(**(env or {})), check=check)

    def site_packages(self) -> Path:
        [found] = self.root.glob("lib/python*/site-packages")
        return found


def run(
    argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done
