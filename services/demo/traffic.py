"""Drives the plan through the gateway's HTTP API and remembers what it sent, for the checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from demo.errors import DemoError
from demo.plan import Fate, PlannedOrder, Step, TrafficPlan


@dataclass(frozen=True)
class SentOrder:
    order_id: str
    user_id: str
    total: int
    fate: Fate


@dataclass
class Sent:
    """What the gateway accepted: users by signup number, orders by order number."""

    run_id: str
    users: dict[int, tuple[str, str]] = field(default_factory=dict)  # n -> (user_id, email)
    orders: dict[int, SentOrder] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)

    def order_ids(self, *fates: Fate) -> set[str]:
        return {o.order_id for o in self.orders.values() if not fates or o.fate in fates}

    @property
    def requests(self) -> int:
        return len(self.users) + len(self.orders) + len(self.cancelled)


Timed = tuple[float, Callable[[], None]]  # (seconds after start, action) beside the traffic


class Driver:
    def __init__(self, gateway: str, plan: TrafficPlan, run_id: str) -> None:
        self._http = httpx.Client(base_url=gateway, timeout=10.0)
        self._plan = plan
        self.sent = Sent(run_id)

    def run(self, actions: list[Timed]) -> None:
        """Send every step at its time; run each action when its time comes."""
        start = time.monotonic()
        pending = sorted(actions, key=lambda action: action[0])
        for step in self._plan.steps:
            while pending and pending[0][0] <= step.at:
                _wait_until(start + pending[0][0])
                pending.pop(0)[1]()
            _wait_until(start + step.at)
            self._send(step)
        for at, action in pending:
            _wait_until(start + at)
            action()

    def close(self) -> None:
        self._http.close()

    def _send(self, step: Step) -> None:
        if step.kind == "signup":
            email = f"user{step.index}.{self.sent.run_id}@example.com"
            body = self._post("/signup", {"email": email, "name": f"User {step.index}"})
            self.sent.users[step.index] = (str(body["user_id"]), email)
        elif step.kind == "order":
            self._place(self._plan.orders[step.index])
        else:
            order_id = self.sent.orders[step.index].order_id
            self._post(f"/orders/{order_id}/cancel", {"reason": "changed my mind"})
            self.sent.cancelled.add(order_id)

    def _place(self, order: PlannedOrder) -> None:
        user_id = self.sent.users[order.user][0]
        items = [
            {"sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price}
            for line in order.lines
        ]
        body = self._post("/orders", {"user_id": user_id, "items": items, "currency": "EUR"})
        self.sent.orders[order.number] = SentOrder(
            str(body["order_id"]), user_id, order.total, order.fate
        )

    def _post(self, path: str, payload: dict[str, object]) -> dict[str, object]:
        for attempt in range(3):
            try:
                response = self._http.post(path, json=payload)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}"
            else:
                if response.is_success:
                    body: dict[str, object] = response.json()
                    return body
                error = f"{response.status_code} {response.text[:200]}"
                if response.status_code < 500:
                    break
            time.sleep(0.5 * (attempt + 1))
        raise DemoError(f"the gateway refused POST {path}: {error}")


def _wait_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)
