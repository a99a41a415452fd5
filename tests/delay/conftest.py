from __future__ import annotations

import uuid

import pytest

from tests.conftest import TopicFactory
from tests.delay.support import DelayTopics


@pytest.fixture
def delay_topics(kafka_bootstrap: str, new_topic: TopicFactory) -> DelayTopics:
    """Fresh delay, cancel and destination topics and a scheduler group of this test's own."""
    return DelayTopics(
        bootstrap=kafka_bootstrap,
        delay=new_topic(3, "delayed"),
        cancel=new_topic(1, "cancel", **{"cleanup.policy": "compact"}),
        destination=new_topic(3, "dest"),
        group=f"scheduler-{uuid.uuid4().hex[:8]}",
    )
