"""The load side of `bench_gateway.py`: an open-loop client in its own process.

Request i is due at `start + i / rate` (`start` is wall-clock, shared by the load processes of
one run; process p of P sends the requests with i % P == p). Its latency counts from that time,
not from when a thread got round to sending it, so a stall in the server is not hidden by the
client waiting for it (no coordinated omission). Even requests sign up, odd ones place an order
for one of the users signed up before the clock starts (or, with the mix "signup" or "order",
all requests are of that kind).
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

_SEED_USERS = 100
SEED_PREFIX = "seed-"  # the e-mail addresses of the users signed up before the clock starts
_ORDER: dict[str, object] = {
    "items": [{"sku": "sku-1", "quantity": 2, "unit_price": 1250}],
    "currency": "EUR",
}


def _request(
    conn: http.client.HTTPConnection, path: str, body: dict[str, object]
) -> tuple[int, bytes]:
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def seed_users(host: str, port: int, tag: str) -> list[str]:
    """Sign up the users the orders name (untimed); a server that returns no id (the floor
    app) gets made-up ids, which it does not look at."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    users = []
    for n in range(_SEED_USERS):
        _, body = _request(
            conn, "/signup", {"email": f"{SEED_PREFIX}{tag}-{n}@example.org", "name": "S"}
        )
        users.append(json.loads(body or b"{}").get("user_id") or f"user-{n}")
    conn.close()
    return users


@dataclass(frozen=True)
class Schedule:
    rate: float  # requests/s of all load processes together
    seconds: float
    start: float  # wall-clock time of request 0
    part: int  # this process sends requests i with i % parts == part
    parts: int
    mix: str = "mixed"  # "mixed" (signups and orders alternating), "signup" or "order"


def run(host: str, port: int, schedule: Schedule) -> dict[str, object]:
    """Send this process's share of the schedule; latencies in seconds, and statuses."""
    rate, start = schedule.rate, schedule.start
    tag = f"{uuid.uuid4().hex[:8]}-{schedule.part}"
    users = seed_users(host, port, tag)
    total = int(rate * schedule.seconds)
    mine = itertools.count(schedule.part, schedule.parts)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    offset = time.perf_counter() - time.time()  # wall-clock start -> this process's clock

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            with lock:
                i = next(mine)
            if i >= total:
                break
            due = start + offset + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body: dict[str, object]
            if schedule.mix == "signup" or (schedule.mix == "mixed" and i % 2 == 0):
                path, body = "/signup", {"email": f"load-{tag}-{i}@example.org", "name": "L"}
            else:
                path, body = "/orders", {**_ORDER, "user_id": users[i % len(users)]}
            status, _ = _request(conn, path, body)
            done = time.perf_counter()
            with lock:
                latencies.append(done - due)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "statuses": statuses}


def main(argv: list[str]) -> None:
    host, port, rate, seconds, start, part, parts, out, *mix = argv
    schedule = Schedule(float(rate), float(seconds), float(start), int(part), int(parts), *mix)
    result = run(host, int(port), schedule)
    Path(out).write_text(json.dumps(result))
