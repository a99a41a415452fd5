"""The console and priority lanes, against a real broker and a real service reading a topic with
lanes: the services page counts waiting events per lane, dead letters show their lane and filter
by it (the redrive plan too), and an entity's journey shows each event's lane. The JSON API is
checked without a browser; the pages in one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from conveyor.lanes import Lanes
from conveyor.ops.broker import Broker
from conveyor.ops.deadletters import read_all
from conveyor.ops.topology import resolve
from conveyor.policies import unordered
from conveyor.publish import Publisher, PublisherConfig
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, Service
from shop_events import USER_TOPIC, UserSignedUp
from tests.conftest import create_topic
from tests.console.conftest import browsing
from tests.console.support import ConsoleProcess, console, running
from tests.failures.support import create_side_topics
from tests.project import repo_codec
from tests.runtime.support import wait_until
from tests.samples import signup

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]

LANES = Lanes(("urgent", "normal", "low"), "normal")
WAITING = {"urgent": 3, "normal": 1, "low": 2}  # published while the service is stopped

TOPOLOGY = """\
defaults:
  replication_factor: 1
  min_insync_replicas: 1
  retention: 1d
  cleanup_policy: delete
topics:
  {base}:
    partitions: 2
    lanes:
      names: [urgent, normal, low]
      default: normal
services:
  {service}:
    consumes: [{base}]
    ordering: unordered
    retry_tiers: [1s]
"""


@dataclass(frozen=True)
class LanedConsole:
    app: ConsoleProcess
    base: str  # the topic with lanes (its default lane)
    service: str

    def lane(self, lane: str) -> str:
        """How status names a lane: `<topic>/<lane>`."""
        return f"{self.base}/{lane}"


def _service(name: str, handled: list[str]) -> Service:
    service = Service(name)
    retry = RetryPolicy(attempts=2, backoff=Backoff(delay=0.1, max_delay=1))

    @service.handler(UserSignedUp, policy=unordered(retry))
    def welcome(event: UserSignedUp, ctx: Context) -> None:
        if event.user_id.startswith("u-poison"):
            raise ConnectionError("the mail server refused the address")
        handled.append(event.user_id)

    return service


@pytest.fixture(scope="module")
def laned(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanedConsole]:
    """A service that dead-lettered a poison sign-up of the urgent lane and one of the low lane
    and handled a normal one, then stopped; later sign-ups wait in each lane (`WAITING`); the
    console runs with a topology that declares the service and the topic's lanes."""
    run = uuid.uuid4().hex[:8]
    base, name = f"t-console-lanes-{run}", f"console-lanes-{run}"
    for topic in LANES.topics(base):
        create_topic(kafka_bootstrap, topic, 2)
    create_side_topics(kafka_bootstrap, name, tiers=1, partitions=2)
    workdir = tmp_path_factory.mktemp("console-lanes")
    topology = workdir / "topics.yaml"
    topology.write_text(TOPOLOGY.format(base=base, service=name))
    config = PublisherConfig(
        bootstrap_servers=kafka_bootstrap, topics={USER_TOPIC: base}, lanes={USER_TOPIC: LANES}
    )
    broker = Broker.connect(kafka_bootstrap)
    handled: list[str] = []
    with Publisher(config, repo_codec()) as publisher:
        for user_id, lane in [
            ("u-poison-urgent", "urgent"),
            ("u-poison-low", "low"),
            ("u-ok", None),
        ]:
            publisher.publish(signup(user_id), lane=lane).wait(30)
        with running(
            _service(name, handled), kafka_bootstrap, {USER_TOPIC: base}, {USER_TOPIC: LANES}
        ):
            wait_until(
                lambda: (
                    len(list(read_all(broker, resolve(broker, name)))) == 2 and "u-ok" in handled
                ),
                timeout=90,
                what="two dead letters and the normal sign-up handled",
            )
        for lane, count in WAITING.items():
            for n in range(count):
                publisher.publish(signup(f"u-{lane}-{n}"), lane=lane).wait(30)
    with console(kafka_bootstrap, [name], workdir, topology) as app:
        yield LanedConsole(app, base, name)


def test_the_api_counts_waiting_per_lane_and_gives_each_dead_letter_and_event_its_lane(
    laned: LanedConsole,
) -> None:
    app, name = laned.app, laned.service

    def sampled() -> dict[str, Any] | None:
        found = [s for s in app.get("/api/services")["services"] if s["service"] == name]
        return found[0] if found and found[0]["waiting"] == sum(WAITING.values()) else None

    wait_until(lambda: sampled() is not None, what="a sample with every waiting event")
    status = sampled()
    assert status is not None
    assert status["waiting_by_lane"] == {laned.lane(lane): n for lane, n in WAITING.items()}

    letters = app.get(f"/api/services/{name}/dead-letters")["letters"]
    assert {x["key"]: x["lane"] for x in letters} == {
        "u-poison-urgent": "urgent",
        "u-poison-low": "low",
    }
    low = app.get(f"/api/services/{name}/dead-letters?lane=low")
    assert (low["matching"], [x["key"] for x in low["letters"]]) == (1, ["u-poison-low"])
    assert app.get(f"/api/services/{name}/dead-letters?lane=normal")["matching"] == 0
    plan = app.get(f"/api/services/{name}/redrive-plan?lane=urgent")
    assert plan["events"] == [x["id"] for x in letters if x["lane"] == "urgent"]

    [event] = app.get("/api/journey?key=u-poison-urgent")["events"]
    assert (event["topic"], event["lane"]) == (f"{laned.base}.lane.urgent", "urgent")
    assert [(f["service"], f["state"]) for f in event["services"]] == [(name, "dead-lettered")]
    [normal] = app.get("/api/journey?key=u-ok")["events"]
    assert (normal["topic"], normal["lane"]) == (laned.base, "normal")


def test_the_pages_show_lanes(laned: LanedConsole, browser: Any) -> None:
    """The services row lists each lane's waiting events; the dead-letter page has a lane column
    and a lane filter; the journey marks the event's lane."""
    app, name = laned.app, laned.service
    with browsing(browser, app.url) as page:
        page.goto(f"{app.url}/#/services")
        row = page.locator(f"tr[data-service='{name}']")
        expect(row.locator("td.waiting .lane")).to_have_count(3)
        for lane, count in WAITING.items():
            shown = row.locator(f"td.waiting .lane[data-lane='{laned.lane(lane)}']")
            expect(shown.locator(".lane-name")).to_have_text(lane)
            expect(shown.locator(".lane-waiting")).to_have_text(str(count))

        page.goto(f"{app.url}/#/dlq/{name}")
        letters = page.locator("#letters tbody tr")
        expect(letters).to_have_count(2)
        assert sorted(letters.locator("td.lane").all_inner_texts()) == ["low", "urgent"]
        page.fill("#filters input[name=lane]", "urgent")
        page.click("#filters button[type=submit]")
        expect(page.locator("#matching")).to_have_text("1 matching dead letter(s)")
        expect(letters).to_have_count(1)
        expect(letters.locator("td.key")).to_have_text("u-poison-urgent")
        expect(letters.locator("td.lane")).to_have_text("urgent")

        page.goto(f"{app.url}/#/journey/u-poison-urgent")
        event = page.locator("#journey div.event")
        expect(event).to_have_count(1)
        expect(event).to_have_attribute("data-lane", "urgent")
        expect(event.locator(".lane-badge")).to_have_text("urgent")
        expect(event.locator(".fate")).to_have_attribute("data-state", "dead-lettered")
