"""The peers' virtualenv (bench/.peers-venv): created and filled on first use, from pinned
requirements, so the project's own dependencies never see FastStream, Quix Streams or aiokafka."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = BENCH_DIR.parent
PEERS_VENV = BENCH_DIR / ".peers-venv"
REQUIREMENTS = BENCH_DIR / "peers" / "requirements.txt"
STAMP = PEERS_VENV / ".requirements-sha256"


def peers_python() -> Path:
    """The peers' interpreter, installing the environment when it is missing or stale."""
    python = PEERS_VENV / "bin" / "python"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return python
    print(f"bench: installing the peers' environment in {PEERS_VENV} (once)", file=sys.stderr)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    STAMP.write_text(wanted)
    return python


def project_python() -> Path:
    return Path(sys.executable)


def versions(python: Path, packages: list[str]) -> dict[str, str]:
    """Installed versions of `packages` in the environment of `python`."""
    code = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try: out[name] = m.version(name)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [str(python), "-c", code, *packages], check=True, capture_output=True, text=True
    )
    found: dict[str, str] = json.loads(done.stdout)
    return found


def conveyor_build(python: Path) -> str:
    """How the environment of `python` runs conveyor's per-event path (see setup.py)."""
    code = "import conveyor.runtime.dispatcher as d; print(d.__file__.endswith('.so'))"
    done = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    return "compiled with mypyc" if done.stdout.strip() == "True" else "pure Python"
