"""Gateway processes on one PostgreSQL database: two gateways and two workers share the outbox
(one relays, the others stand by), and each gateway process relays from a child process that
ends with it."""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

import httpx
import pytest

from conveyor import naming
from shop_events import USER_TOPIC
from tests.conftest import TopicFactory
from tests.messages import headers_of
from tests.publishing.gateway_process import GatewayProcess
from tests.reading import read_until


@pytest.mark.postgres
def test_two_gateways_on_one_postgres_both_serve_and_one_relays_until_it_stops(
    postgres_dsn: str, kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """Two gateway processes on one PostgreSQL database are both ready and both accept; one
    relays the shared outbox (the other stands by), and when that one stops the other takes
    over, so a signup accepted after the stop still reaches Kafka."""
    topic = new_topic(suffix="users")
    first = GatewayProcess(kafka_bootstrap, postgres_dsn, {USER_TOPIC: topic}, tmp_path / "1.log")
    second = GatewayProcess(kafka_bootstrap, postgres_dsn, {USER_TOPIC: topic}, tmp_path / "2.log")
    accepted = []
    try:
        first.wait_live()
        second.wait_live()
        for gateway in (first, second):
            ready = httpx.get(f"{gateway.admin_url}/readyz", timeout=10)
            assert ready.status_code == 200, ready.text
            email = f"two-{uuid.uuid4().hex[:8]}@example.org"
            signed = httpx.post(f"{gateway.url}/signup", json={"email": email, "name": "T"})
            assert signed.status_code == 202, signed.text
            accepted.append(signed.json()["event_id"])
        first.stop()
        accepted.append(_sign_up(second, "after"))
        messages = read_until(kafka_bootstrap, [topic], expect=3, timeout=60)
    finally:
        first.stop()
        second.stop()
    assert {headers_of(m)[naming.EVENT_ID].decode() for m in messages} == set(accepted)


@pytest.mark.postgres
def test_workers_share_the_api_port_and_each_has_its_admin_port(
    postgres_dsn: str, kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """`--workers 2` on PostgreSQL: both workers are ready on their admin ports (the given one
    and the next), the API port takes every request, each accepted signup reaches Kafka once
    (one relay publishes, the other stands by), and SIGTERM stops the parent and its workers
    with exit code 0."""
    topic = new_topic(suffix="users")
    process = GatewayProcess(
        kafka_bootstrap, postgres_dsn, {USER_TOPIC: topic}, tmp_path / "log", ["--workers", "2"]
    )
    accepted = []
    try:
        process.wait_live()
        admin_urls = [process.admin_url, f"http://127.0.0.1:{process.admin_port + 1}"]
        for url in admin_urls:
            _wait_ready(url)
        for n in range(20):
            email = f"w{n}-{uuid.uuid4().hex[:8]}@example.org"
            signed = httpx.post(f"{process.url}/signup", json={"email": email, "name": "W"})
            assert signed.status_code == 202, signed.text
            accepted.append(signed.json()["event_id"])
        served = sum(_signups_served(url) for url in admin_urls)
        messages = read_until(kafka_bootstrap, [topic], expect=20, timeout=60)
    finally:
        code = process.stop()
    assert served == 20
    assert sorted(headers_of(m)[naming.EVENT_ID].decode() for m in messages) == sorted(accepted)
    assert code == 0


def _wait_ready(admin_url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{admin_url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{admin_url} not ready"
        time.sleep(0.2)


def _signups_served(admin_url: str) -> int:
    metrics = httpx.get(f"{admin_url}/metrics", timeout=10).text
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in metrics.splitlines()
        if line.startswith('gateway_requests_total{route="/signup",status="202"}')
    )


def _sign_up(gateway: GatewayProcess, prefix: str) -> str:
    """Sign a new address up through `gateway`; returns the accepted event's id."""
    email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.org"
    signed = httpx.post(f"{gateway.url}/signup", json={"email": email, "name": "N"}, timeout=10)
    assert signed.status_code == 202, signed.text
    event_id: str = signed.json()["event_id"]
    return event_id


def _relay_children(parent: int) -> list[int]:
    """The pids of `parent`'s relay processes (`python -m gateway.relay_process`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"gateway.relay_process" in command:
            found.append(int(entry.name))
    return found


@pytest.mark.postgres
def test_on_postgres_the_relay_runs_in_a_child_process_that_ends_with_its_gateway(
    postgres_dsn: str, kafka_bootstrap: str, new_topic: TopicFactory, tmp_path: Path
) -> None:
    """On PostgreSQL a gateway process relays from a child process of its own: a signup
    reaches Kafka through it; when the gateway process is SIGKILLed, its relay ends too (the
    outbox's lock with it), so the next gateway relays."""
    topic = new_topic(suffix="users")
    first = GatewayProcess(kafka_bootstrap, postgres_dsn, {USER_TOPIC: topic}, tmp_path / "1.log")
    second = None
    accepted = []
    try:
        first.wait_live()
        _wait_ready(first.admin_url)
        (relay,) = _relay_children(first.process.pid)
        accepted.append(_sign_up(first, "child"))
        read_until(kafka_bootstrap, [topic], expect=1, timeout=30)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
        assert _gone_within(relay, 20), "the relay outlived its gateway process"
        second = GatewayProcess(
            kafka_bootstrap, postgres_dsn, {USER_TOPIC: topic}, tmp_path / "2.log"
        )
        second.wait_live()
        _wait_ready(second.admin_url)
        accepted.append(_sign_up(second, "next"))
        messages = read_until(kafka_bootstrap, [topic], expect=2, timeout=30)
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert [headers_of(m)[naming.EVENT_ID].decode() for m in messages] == accepted


def _gone_within(pid: int, timeout: float) -> bool:
    """Whether process `pid` ends (exits, or is a zombie nobody reaped) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False
