"""The dead-letter page, in a real browser, against a real broker and a real service: a poison
event shows up with its headers, a redrive from the page needs the token and the page's own
origin, and once the bug is fixed the redriven event is handled."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from conveyor.ops.broker import Broker
from conveyor.ops.deadletters import read_all
from conveyor.ops.topology import resolve
from conveyor.policies import unordered
from conveyor.retry import Backoff, RetryPolicy
from conveyor.runtime import Context, Service
from shop_events import UserSignedUp
from tests.conftest import TopicFactory
from tests.console.conftest import browsing
from tests.console.support import TOKEN, console, publish, running
from tests.failures.support import create_side_topics
from tests.runtime.support import wait_until
from tests.samples import signup

pytestmark = pytest.mark.kafka

POISON = "u-poison"


def _service(name: str, handled: list[str], broken: set[str]) -> Service:
    service = Service(name)
    lock = threading.Lock()
    retry = RetryPolicy(attempts=2, backoff=Backoff(delay=0.1, max_delay=1))

    @service.handler(UserSignedUp, policy=unordered(retry))
    def welcome(event: UserSignedUp, ctx: Context) -> None:
        if event.user_id in broken:
            raise ConnectionError("the mail server refused the address")
        with lock:
            handled.append(event.user_id)

    return service


def test_poison_event_is_redriven_from_the_page_with_the_token_only(
    kafka_bootstrap: str, new_topic: TopicFactory, browser: Any, tmp_path: Path
) -> None:
    """The poison sign-up is listed with its error and headers; a redrive with a wrong token,
    or from another origin, changes nothing; after the fix, a previewed and confirmed redrive
    with the token gets it handled, and the audit log names the operator, not the token."""
    topic = new_topic(partitions=2)
    name = f"console-dlq-{uuid.uuid4().hex[:8]}"
    create_side_topics(kafka_bootstrap, name, tiers=1, partitions=2)
    handled: list[str] = []
    broken = {POISON}
    broker = Broker.connect(kafka_bootstrap)
    publish(kafka_bootstrap, topic, [signup("u-a"), signup(POISON), signup("u-b")])

    with (
        running(_service(name, handled, broken), kafka_bootstrap, {UserSignedUp.TOPIC: topic}),
        console(kafka_bootstrap, [name], tmp_path) as app,
        browsing(browser, app.url) as page,
    ):
        wait_until(lambda: len(list(read_all(broker, resolve(broker, name)))) == 1, what="a letter")
        page.goto(f"{app.url}/#/dlq/{name}")
        letter = page.locator("#letters tbody tr")
        expect(letter).to_have_count(1)
        expect(letter.locator("td.key")).to_have_text(POISON)
        expect(letter.locator("td.error-type")).to_contain_text("ConnectionError")
        letter.locator("summary").click()
        expect(letter.locator("pre.headers")).to_contain_text('"x-original-topic": "' + topic)

        letter.locator("input.pick").check()
        page.fill("input[name=token]", "not-the-token")
        page.click("#preview-selected")
        expect(page.locator("#redrive-plan")).to_contain_text(
            f"1 event(s) of 1 key(s) into {name}.retry.1"
        )
        page.click("#confirm-redrive")
        expect(page.locator("#redrive-result [role=alert]")).to_have_text(
            "missing or wrong console token"
        )

        refused = _post_from_another_origin(browser, app.url, name)

        broken.clear()  # the fix is deployed
        page.fill("input[name=operator]", "ada")
        page.fill("input[name=token]", TOKEN)
        page.click("#preview-selected")
        page.click("#confirm-redrive")
        expect(page.locator("#redrive-progress")).to_have_text("1 / 1 finished")
        wait_until(lambda: POISON in handled, what="the redriven event handled")
        expect(letter.locator("td.redriven")).not_to_have_text("-")

    log = app.log.read_text()
    assert refused == ["blocked", "blocked"]
    assert handled.count(POISON) == 1
    assert log.count("console.action_refused") >= 2  # the wrong token, the other origin
    audit = [line for line in log.splitlines() if "console.action " in line]
    assert len(audit) == 1
    assert "action=redrive" in audit[0]
    assert "operator=ada" in audit[0]
    assert TOKEN not in log


def _post_from_another_origin(browser: Any, console_url: str, service: str) -> list[str]:
    """From a page of another local server (another origin), a redrive with the right token
    (which needs a CORS preflight) and a simple no-cors POST: what that page saw of each."""
    with _other_site() as other:
        context = browser.new_context()
        page = context.new_page()
        page.goto(other)
        target = f"{console_url}/api/services/{service}/redrive"
        outcomes = page.evaluate(
            """async ([target, token]) => {
                const body = JSON.stringify({ filter: { key: "u-poison" } });
                const outcomes = [];
                try {
                    const headers = {
                        "content-type": "application/json", "x-conveyor-token": token };
                    const r = await fetch(target, { method: "POST", body, headers });
                    outcomes.push("answered " + r.status);
                } catch (e) { outcomes.push("blocked"); }
                const r = await fetch(target, { method: "POST", mode: "no-cors", body });
                outcomes.push(r.type === "opaque" ? "blocked" : "answered " + r.status);
                return outcomes;
            }""",
            [target, TOKEN],
        )
        context.close()
    return list(outcomes)


@contextmanager
def _other_site() -> Iterator[str]:
    """An empty page served on another loopback port: another origin to the browser."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>elsewhere</title>")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
