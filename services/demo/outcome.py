"""The end-of-run checks: each compares what the gateway accepted with what the pipeline did.
Only this run's users and orders count, so a run against a shared broker is judged fairly."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from conveyor.ops import status
from conveyor.ops.broker import Broker
from conveyor.ops.session import service_topology
from conveyor.project import Project
from demo.observe import (
    dead_letter_keys,
    listing,
    mail_counts,
    metric_total,
    query,
    read_mail,
)
from demo.options import SERVICES
from demo.plan import Fate
from demo.stack import Endpoints
from demo.traffic import Sent

PAID = (Fate.FULFILLED, Fate.OUT_OF_STOCK, Fate.CANCELLED)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _compare(
    name: str, expected: Counter[str] | set[str], actual: Counter[str] | set[str]
) -> Check:
    """Equal collections pass; the detail gives sizes (how many, and how many were expected)."""
    got, want = _size(actual), _size(expected)
    detail = f"{got}" if expected == actual else f"{got}, expected {want}"
    return Check(name, expected == actual, detail)


def _size(collection: Counter[str] | set[str]) -> int:
    return collection.total() if isinstance(collection, Counter) else len(collection)


def _exactly_once(name: str, wanted: set[str], seen: Counter[str], extra: str = "") -> Check:
    missing = [key for key in wanted if seen[key] == 0]
    repeated = [key for key in wanted if seen[key] > 1]
    ok = not missing and not repeated
    detail = f"{len(wanted) - len(missing)}/{len(wanted)}"
    if repeated:
        detail += f", {len(repeated)} more than once"
    return Check(name, ok, detail + extra)


def check_outcome(sent: Sent, endpoints: Endpoints, project: Project) -> list[Check]:
    return [
        *_check_mail(sent, endpoints),
        *_check_apis(sent, endpoints),
        _check_inventory(sent, endpoints),
        _check_analytics(sent, endpoints),
        _check_dead_letters(sent, endpoints),
        _check_lag(endpoints, project),
    ]


def _check_mail(sent: Sent, endpoints: Endpoints) -> list[Check]:
    mails = read_mail(endpoints.mail_dir)
    emails = {email for _, email in sent.users.values()}
    email_of = dict(sent.users.values())
    owner = {o.order_id: email_of[o.user_id] for o in sent.orders.values()}
    checks = []
    welcome, repeats = mail_counts(mails, "welcome")
    note = f" ({repeats} redelivered, same Message-ID)" if repeats else ""
    checks.append(_exactly_once("welcome e-mails: one per signup", emails, welcome, note))
    for kind, fates, label in (
        ("order-paid", PAID, "payment e-mails: one per paid order"),
        ("order-shipped", PAID, "shipping e-mails: one per paid order"),
    ):
        per_customer, _ = mail_counts(mails, kind)
        expected = Counter(owner[order_id] for order_id in sent.order_ids(*fates))
        checks.append(_compare(label, expected, per_customer))
    cancelled, _ = mail_counts(mails, "order-cancelled")
    expected = Counter(owner[order_id] for order_id in sent.cancelled)
    checks.append(_compare("cancellation e-mails: one each", expected, cancelled))
    return checks


def _check_apis(sent: Sent, endpoints: Endpoints) -> list[Check]:
    contacts = Counter(c["user_id"] for c in listing(endpoints.standins["crm"], "/contacts"))
    users = {user_id for user_id, _ in sent.users.values()}
    charges = listing(endpoints.standins["payment-gateway"], "/charges")
    charged = Counter(c["order_id"] for c in charges)
    declined = {c["order_id"] for c in charges if c["status"] == "declined"}
    shipped = Counter(s["order_id"] for s in listing(endpoints.standins["warehouse"], "/shipments"))
    paid = sent.order_ids(*PAID)
    return [
        _exactly_once("CRM contacts: one per signup", users, contacts),
        _exactly_once("charges: one per order", sent.order_ids(), charged),
        _compare(
            "declines: exactly the planned ones",
            sent.order_ids(Fate.DECLINED),
            declined & sent.order_ids(),
        ),
        _exactly_once("shipments: one per paid order", paid, shipped),
    ]


def _check_inventory(sent: Sent, endpoints: Endpoints) -> Check:
    rows = query(
        endpoints.state_dir / "inventory" / "inventory.sqlite3",
        "SELECT DISTINCT order_id FROM reservations",
    )
    reserved = {str(order_id) for (order_id,) in rows} & sent.order_ids()
    expected = sent.order_ids(Fate.FULFILLED)
    return _compare("stock: held for fulfilled orders only", expected, reserved)


def _check_analytics(sent: Sent, endpoints: Endpoints) -> Check:
    rows = query(
        endpoints.state_dir / "analytics" / "analytics.sqlite3",
        "SELECT event_type, entity_id, amount FROM analytics_events",
    )
    ours = {user_id for user_id, _ in sent.users.values()} | sent.order_ids()
    counts = Counter(event_type for event_type, entity, _ in rows if entity in ours)
    revenue = sum(
        amount
        for event_type, entity, amount in rows
        if event_type == "OrderPaid" and entity in ours
    )
    paid = sent.order_ids(*PAID)
    expected = Counter(
        {
            "UserSignedUp": len(sent.users),
            "OrderPlaced": len(sent.orders),
            "OrderPaid": len(paid),
            "OrderPaymentFailed": len(sent.order_ids(Fate.DECLINED)),
            "OrderShipped": len(paid),
            "OrderCancelled": len(sent.cancelled),
        }
    )
    expected_revenue = sum(o.total for o in sent.orders.values() if o.order_id in paid)
    ok = +expected == +counts and revenue == expected_revenue
    detail = f"{sum(counts.values())} events, {revenue / 100:.2f} EUR"
    if not ok:
        detail += f" (expected {sum(expected.values())}, {expected_revenue / 100:.2f} EUR)"
    return Check("analytics: counts and revenue as sent", ok, detail)


def _check_dead_letters(sent: Sent, endpoints: Endpoints) -> Check:
    ours = {user_id for user_id, _ in sent.users.values()} | sent.order_ids()
    found = {
        service: {
            key for key in dead_letter_keys(endpoints.bootstrap_servers, service) if key in ours
        }
        for service in SERVICES
    }
    expected = {service: set[str]() for service in SERVICES}
    expected["inventory"] = sent.order_ids(Fate.OUT_OF_STOCK)
    unexpected = {s: len(keys) for s, keys in found.items() if keys != expected[s]}
    detail = f"inventory.dlq: {len(found['inventory'])}"
    if unexpected:
        detail += "; differs in " + ", ".join(f"{s}.dlq ({n})" for s, n in unexpected.items())
    return Check("dead letters: the out-of-stock orders", not unexpected, detail)


def _check_lag(endpoints: Endpoints, project: Project) -> Check:
    """Nothing waits in any service: not per the broker (what `conveyor status --max-lag 0`
    checks), nor per each service's own `conveyor_partition_lag`. Transaction markers, which
    payments and fulfillment leave on `order.events`, are not waiting events."""
    broker = Broker.connect(endpoints.bootstrap_servers)
    limits = status.Thresholds(max_lag=0)
    waiting = {
        service: status.collect(broker, service_topology(broker, service, project))
        for service in SERVICES
    }
    breaches = [breach for found in waiting.values() for breach in limits.breaches(found)]
    reported = {
        service: metric_total(endpoints.metrics[service], "conveyor_partition_lag")
        for service in SERVICES
    }
    lagging = [f"{service} reports {lag:.0f}" for service, lag in reported.items() if lag]
    unknown = [f"{service} does not answer" for service, lag in reported.items() if lag is None]
    problems = breaches + lagging + unknown
    detail = f"0 waiting in {len(SERVICES)} services" if not problems else "; ".join(problems)
    return Check("lag: 0 on every service (status and metrics)", not problems, detail)
