"""The gateway over real HTTP on loopback: every status code, events through the outbox, and
202s during a broker outage whose events arrive when the broker returns."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conveyor import naming
from conveyor.localkafka import LocalKafka
from conveyor.settings import Settings
from gateway.main import Listen, config_from_args
from shop_events import ORDER_TOPIC, USER_TOPIC, OrderCancelled, OrderPlaced, UserSignedUp
from tests.conftest import TopicFactory, create_topic
from tests.messages import headers_of, value_of
from tests.project import PROJECT, repo_codec
from tests.publishing.gateway_process import GatewayProcess
from tests.reading import read_until

pytestmark = pytest.mark.kafka


@pytest.fixture
def gateway(
    kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> Iterator[GatewayProcess]:
    topics = {USER_TOPIC: new_topic(suffix="users"), ORDER_TOPIC: new_topic(suffix="orders")}
    lanes = PROJECT.topology().lanes
    for declared, actual in topics.items():  # the topology's lanes, each a topic of its own
        for lane in lanes[declared].topics(actual):
            if lane != actual:
                create_topic(kafka_bootstrap, lane)
    process = GatewayProcess(
        kafka_bootstrap, f"sqlite:///{tmp_path / 'gw.sqlite3'}", topics, tmp_path / "gw.log"
    )
    process.topics = topics  # type: ignore[attr-defined]
    process.lanes = {d: lanes[d].topics(a) for d, a in topics.items()}  # type: ignore[attr-defined]
    try:
        process.wait_live()
        yield process
    finally:
        process.stop()


def test_main_defaults_to_loopback_ports_8080_and_9400(tmp_path: Path) -> None:
    """Without flags the gateway serves its API on 127.0.0.1:8080, its probes and metrics on
    127.0.0.1:9400, and keeps a SQLite file in the state dir."""
    settings = Settings(cache_dir=tmp_path, state_dir=tmp_path / "state")
    config, listen = config_from_args(settings, [])
    assert listen == Listen("127.0.0.1", 8080, "127.0.0.1", 9400)
    assert config.database_url == f"sqlite:///{tmp_path / 'state' / 'gateway' / 'gateway.sqlite3'}"
    _, listen = config_from_args(settings, ["--port", "9999", "--admin-port", "9998"])
    assert (listen.port, listen.admin_port) == (9999, 9998)


def test_sqlite_refuses_more_than_one_worker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite has one writer at a time: `--workers 2` with it is refused with a reason."""
    settings = Settings(cache_dir=tmp_path, state_dir=tmp_path / "state")
    with pytest.raises(SystemExit):
        config_from_args(settings, ["--workers", "2"])
    assert "SQLite" in capsys.readouterr().err
    _, listen = config_from_args(settings, ["--workers", "3", "--database", "postgresql://x/y"])
    assert listen.workers == 3


def test_gateway_answers_every_status_code_and_emits_only_accepted_events(
    gateway: GatewayProcess, kafka_bootstrap: str
) -> None:
    """202 for signup, order and cancel (each one event on its topic), 409 for a duplicate
    e-mail and a second cancel, 404 for an unknown order, 422 with field details for bad input
    (emitting nothing); probes and metrics answer on the admin port only; no e-mail address
    reaches the logs."""
    email = f"Ada.{uuid.uuid4().hex[:6]}@Example.org"
    admin = httpx.Client(base_url=gateway.admin_url, timeout=10)
    with admin, httpx.Client(base_url=gateway.url, timeout=10) as http:
        assert admin.get("/livez").status_code == 200
        ready = admin.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": True, "kafka": True, "relay": True}
        assert [http.get(path).status_code for path in ("/livez", "/readyz", "/metrics")] == [
            404
        ] * 3

        signed = http.post("/signup", json={"email": email, "name": "Ada", "referral_code": "R"})
        assert signed.status_code == 202, signed.text
        user_id = signed.json()["user_id"]
        duplicate = http.post("/signup", json={"email": email.lower(), "name": "Other"})
        assert duplicate.status_code == 409
        invalid = http.post("/signup", json={"email": "not-an-address", "name": ""})
        assert invalid.status_code == 422
        assert {tuple(e["loc"]) for e in invalid.json()["detail"]} == {
            ("body", "email"),
            ("body", "name"),
        }

        items = [
            {"sku": "SKU-1", "quantity": 2, "unit_price": 1250},
            {"sku": "B", "quantity": 1, "unit_price": 5},
        ]
        order = http.post(
            "/orders",
            json={"user_id": user_id, "items": items, "currency": "EUR", "priority": "HIGH"},
        )
        assert order.status_code == 202, order.text
        order_id = order.json()["order_id"]
        unknown_user = http.post(
            "/orders", json={"user_id": "nobody", "items": items, "currency": "EUR"}
        )
        assert unknown_user.status_code == 422
        assert unknown_user.json()["detail"][0]["loc"] == ["body", "user_id"]
        bad_order = http.post(
            "/orders",
            json={
                "user_id": user_id,
                "items": [{"sku": "A", "quantity": 0, "unit_price": 1}],
                "currency": "euro",
            },
        )
        assert bad_order.status_code == 422
        assert {tuple(e["loc"]) for e in bad_order.json()["detail"]} == {
            ("body", "items", 0, "quantity"),
            ("body", "currency"),
        }

        cancelled = http.post(f"/orders/{order_id}/cancel", json={"reason": "too slow"})
        assert cancelled.status_code == 202, cancelled.text
        assert http.post(f"/orders/{order_id}/cancel").status_code == 409
        assert http.post("/orders/no-such-order/cancel").status_code == 404

        metrics = admin.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain; version=")
        assert 'gateway_requests_total{route="/signup",status="409"} 1.0' in metrics.text
        assert "conveyor_outbox_pending" in metrics.text

    lanes = gateway.lanes  # type: ignore[attr-defined]
    every_lane = [topic for topics in lanes.values() for topic in topics]
    messages = read_until(kafka_bootstrap, every_lane, expect=3)
    codec = repo_codec()
    events = {headers_of(m)[naming.EVENT_ID].decode(): codec.decode(value_of(m)) for m in messages}
    # the priority order went to the high lane, and its cancel followed it there
    high_lane = lanes[ORDER_TOPIC][0]
    assert {
        headers_of(m)[naming.EVENT_ID].decode() for m in messages if m.topic() == high_lane
    } == {
        order.json()["event_id"],
        cancelled.json()["event_id"],
    }
    assert set(events) == {
        signed.json()["event_id"],
        order.json()["event_id"],
        cancelled.json()["event_id"],
    }
    user = events[signed.json()["event_id"]]
    assert isinstance(user, UserSignedUp)
    assert (user.user_id, user.email, user.referral_code) == (user_id, email, "R")
    placed = events[order.json()["event_id"]]
    assert isinstance(placed, OrderPlaced)
    assert (placed.order_id, placed.total, placed.priority) == (order_id, 2505, "HIGH")
    cancel = events[cancelled.json()["event_id"]]
    assert isinstance(cancel, OrderCancelled)
    assert (cancel.order_id, cancel.reason) == (order_id, "too slow")
    gateway.stop()
    assert email.lower() not in gateway.log.read_text().lower()


def test_names_are_stored_normalised_and_control_characters_refused_with_a_clear_422(
    gateway: GatewayProcess, kafka_bootstrap: str
) -> None:
    """A name with blanks around it and a decomposed accent arrives stripped and composed
    (NFC); a name of control characters, or of blanks only, is refused with a 422 that says
    so, and emits nothing."""
    with httpx.Client(base_url=gateway.url, timeout=10) as http:
        accepted = http.post(
            "/signup",
            json={"email": f"z-{uuid.uuid4().hex[:6]}@example.org", "name": " Zoe\u0301 "},
        )
        assert accepted.status_code == 202, accepted.text
        refused = {
            name: http.post("/signup", json={"email": "c@example.org", "name": name})
            for name in ("\x07\x08", "Bob\x00", "\u00a0 \u3000")
        }
    details = {name: r.json()["detail"] for name, r in refused.items()}
    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 422)
    assert [d[0]["type"] for d in details.values()] == [
        "control_character",
        "control_character",
        "blank",
    ]
    assert details["Bob\x00"][0]["msg"] == "must not contain control characters"
    topic = gateway.topics[USER_TOPIC]  # type: ignore[attr-defined]
    [message] = read_until(kafka_bootstrap, [topic], expect=1)
    event = repo_codec().decode(value_of(message))
    assert isinstance(event, UserSignedUp)
    assert event.name == "Zo\u00e9"


@pytest.mark.timeout(300)
def test_signups_during_a_broker_outage_answer_202_and_arrive_when_it_returns(
    running_private_kafka: LocalKafka, tmp_path: Path
) -> None:
    """With the broker stopped, signups still answer 202 (readiness says Kafka is away); once
    the broker is back the relay publishes every one of them."""
    bootstrap = running_private_kafka.bootstrap_servers
    topic = create_topic(bootstrap, f"t-gateway-outage-{uuid.uuid4().hex[:8]}", partitions=3)
    process = GatewayProcess(
        bootstrap, f"sqlite:///{tmp_path / 'gw.sqlite3'}", {USER_TOPIC: topic}, tmp_path / "log"
    )
    try:
        process.wait_live()
        with httpx.Client(base_url=process.url, timeout=10) as http:
            first = http.post("/signup", json={"email": "first@example.org", "name": "First"})
            assert first.status_code == 202
            running_private_kafka.node(1).stop()
            during = [
                http.post("/signup", json={"email": f"u{i}@example.org", "name": f"U{i}"})
                for i in range(10)
            ]
            assert [r.status_code for r in during] == [202] * 10
            ready = httpx.get(f"{process.admin_url}/readyz", timeout=10)
            assert ready.status_code == 503
            assert ready.json()["checks"]["kafka"] is False
            running_private_kafka.node(1).restart(timeout=120)
            expected = {r.json()["event_id"] for r in [first, *during]}
            messages = read_until(bootstrap, [topic], expect=len(expected), timeout=120)
    finally:
        process.stop()
    assert {headers_of(m)[naming.EVENT_ID].decode() for m in messages} == expected


@pytest.mark.postgres
def test_gateway_on_postgres_accepts_signups_and_refuses_duplicates(
    postgres_dsn: str, kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """With a PostgreSQL database the gateway answers 202 then 409 for the same e-mail, and the
    accepted signup reaches Kafka through the PostgreSQL outbox."""
    topic = new_topic(suffix="users")
    process = GatewayProcess(kafka_bootstrap, postgres_dsn, {USER_TOPIC: topic}, tmp_path / "log")
    email = f"pg-{uuid.uuid4().hex[:8]}@example.org"
    try:
        process.wait_live()
        with httpx.Client(base_url=process.url, timeout=10) as http:
            accepted = http.post("/signup", json={"email": email, "name": "Pg"})
            assert accepted.status_code == 202, accepted.text
            assert http.post("/signup", json={"email": email, "name": "Again"}).status_code == 409
        [msg] = read_until(kafka_bootstrap, [topic], expect=1)
    finally:
        process.stop()
    assert headers_of(msg)[naming.EVENT_ID].decode() == accepted.json()["event_id"]
