"""`conveyor run` takes the failure policies' defaults from the environment: a service whose
handler always fails, run with `CONVEYOR_RETRY_ATTEMPTS=1`, dead-letters its event after one
attempt instead of the default three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conveyor import naming
from conveyor.publish import Publisher, PublisherConfig
from shop_events import UserSignedUp
from tests.conftest import TopicFactory
from tests.failures.support import create_side_topics
from tests.project import REPO, repo_codec
from tests.reading import read_until

pytestmark = pytest.mark.kafka

MODULE = """\
from conveyor.runtime import Context, Service
from shop_events import UserSignedUp

service = Service({name!r})


@service.handler(UserSignedUp)
def fail(event: UserSignedUp, ctx: Context) -> None:
    raise RuntimeError("always")
"""


def test_conveyor_run_reads_the_retry_attempts_from_the_environment(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    topic = new_topic(1)
    name = f"failing-{topic}"
    create_side_topics(kafka_bootstrap, name)
    (tmp_path / "acme_failing.py").write_text(MODULE.format(name=name))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CONVEYOR_TOPIC_MAP": f"user.signup={topic}",
        "CONVEYOR_HTTP_PORT": "0",
        "CONVEYOR_RETRY_ATTEMPTS": "1",
    }
    conveyor = Path(sys.executable).with_name("conveyor")
    process = subprocess.Popen(
        [str(conveyor), "run", "acme_failing:service"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        config = PublisherConfig(bootstrap_servers=kafka_bootstrap, topics={"user.signup": topic})
        with Publisher(config, repo_codec()) as publisher:
            event = UserSignedUp(user_id="u-1", email="a@example.org", name="Ada")
            publisher.publish(event).wait(timeout=30)
        letters = read_until(kafka_bootstrap, naming.dead_letter_topic(name), 1, timeout=90)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert len(letters) == 1
    headers = dict(letters[0].headers() or [])
    assert headers["x-attempts"] == b"1"
