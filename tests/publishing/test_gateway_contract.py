"""The gateway's HTTP contract, fuzzed as a client would from its own `/openapi.json`.

Schemathesis generates requests that fit the published schema and requests that break it, and
applies every check it has (no 5xx, only documented status codes, bodies as documented, valid
input accepted, invalid input refused, 405 for other methods), against the gateway running as
its own process on loopback with the real broker and SQLite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from shop_events import ORDER_TOPIC, USER_TOPIC
from tests.conftest import create_topic
from tests.publishing.contract_hooks import KNOWN_USER_ENV
from tests.publishing.gateway_process import REPO, GatewayProcess

pytestmark = pytest.mark.kafka

# Per operation and phase; with three operations 400 to 600 requests, about a minute here.
_MAX_EXAMPLES = 100


@pytest.mark.timeout(240)
def test_the_gateway_answers_as_its_openapi_document_says(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """Every request schemathesis generates from `/openapi.json` gets an answer the document
    allows, by all of schemathesis's checks; orders name a user that exists
    (`contract_hooks`), so valid orders reach the database."""
    suffix = uuid.uuid4().hex[:8]
    topics = {
        declared: create_topic(kafka_bootstrap, f"t-contract-{declared}-{suffix}", partitions=1)
        for declared in (USER_TOPIC, ORDER_TOPIC)
    }
    gateway = GatewayProcess(
        kafka_bootstrap, f"sqlite:///{tmp_path / 'gw.sqlite3'}", topics, tmp_path / "gw.log"
    )
    try:
        gateway.wait_live()
        signed = httpx.post(f"{gateway.url}/signup", json={"email": "k@example.org", "name": "K"})
        assert signed.status_code == 202, signed.text
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{gateway.url}/openapi.json",
             "--checks", "all", "--mode", "all", "--max-examples", str(_MAX_EXAMPLES),
             "--phases", "examples,coverage,fuzzing", "--seed", "26", "--no-color",
             "--report-dir", str(tmp_path / "report"), "--warnings", "off"],
            env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.publishing.contract_hooks",
                 KNOWN_USER_ENV: signed.json()["user_id"], "PYTHONPATH": str(REPO)},
            cwd=tmp_path,  # schemathesis keeps its example database in the working directory
            capture_output=True,
            text=True,
            timeout=200,
            check=False,
        )  # fmt: skip
    finally:
        gateway.stop()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    generated = re.search(r"(\d+) generated", run.stdout)
    assert generated is not None, run.stdout[-3000:]
    assert int(generated.group(1)) >= 300
