"""The traffic of a demo run, decided up front from a seed: who signs up, who orders what, which
orders are out of stock, declined or cancelled, and when each request is sent."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from demo.options import DemoOptions

# SKU -> unit price in cents. Stock is plentiful except for SOLD_OUT, of which there is none.
CATALOGUE = {"BOOK": 1250, "MUG": 890, "TEE": 1999, "POSTER": 450}
SOLD_OUT = "VINYL-LTD"
ADJUSTER = "STICKER"  # one sticker line moves an order's total onto or off the decline digits
DECLINE_DIGITS = 13  # the payment stand-in declines totals ending in these two digits
PLENTY = 1_000_000


def initial_stock() -> dict[str, int]:
    return {**dict.fromkeys(CATALOGUE, PLENTY), ADJUSTER: PLENTY, SOLD_OUT: 0}


class Fate(enum.Enum):
    """What should become of an order."""

    FULFILLED = "fulfilled"  # charged, reserved, shipped, e-mailed
    DECLINED = "declined"  # payment fails; stock released; no shipment
    OUT_OF_STOCK = "out_of_stock"  # inventory dead-letters it
    CANCELLED = "cancelled"  # cancelled by the customer after placing it


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    unit_price: int


@dataclass(frozen=True)
class PlannedOrder:
    number: int
    user: int  # index of the signup that places it
    lines: tuple[Line, ...]
    fate: Fate

    @property
    def total(self) -> int:
        return sum(line.quantity * line.unit_price for line in self.lines)


@dataclass(frozen=True)
class Step:
    at: float  # seconds after the traffic starts
    kind: str  # "signup", "order" or "cancel"
    index: int  # signup number or order number


@dataclass(frozen=True)
class TrafficPlan:
    orders: tuple[PlannedOrder, ...]
    steps: tuple[Step, ...]


def make_plan(options: DemoOptions) -> TrafficPlan:
    rng = random.Random(options.seed)
    fates = _fates(options, rng)
    signup_span = options.duration * 0.7
    signup_times = sorted(rng.uniform(0, signup_span) for _ in range(options.signups))
    steps = [Step(at, "signup", n) for n, at in enumerate(signup_times)]
    orders = []
    for number, fate in enumerate(fates):
        at = rng.uniform(min(2.0, options.duration / 2), options.duration)
        known = [n for n, signed_at in enumerate(signup_times) if signed_at < at - 0.5] or [0]
        orders.append(PlannedOrder(number, rng.choice(known), _lines(fate, rng), fate))
        at = max(at, signup_times[0] + 0.5)
        steps.append(Step(at, "order", number))
        if fate is Fate.CANCELLED:
            steps.append(Step(at + rng.uniform(0.5, 2.0), "cancel", number))
    steps.sort(key=lambda step: step.at)
    return TrafficPlan(tuple(orders), tuple(steps))


def _fates(options: DemoOptions, rng: random.Random) -> list[Fate]:
    counts = {
        Fate.OUT_OF_STOCK: round(options.orders * options.out_of_stock_share),
        Fate.DECLINED: round(options.orders * options.declined_share),
        Fate.CANCELLED: round(options.orders * options.cancelled_share),
    }
    fates = [fate for fate, count in counts.items() for _ in range(count)]
    fates += [Fate.FULFILLED] * (options.orders - len(fates))
    rng.shuffle(fates)
    return fates


def _lines(fate: Fate, rng: random.Random) -> tuple[Line, ...]:
    skus = rng.sample(sorted(CATALOGUE), rng.randint(1, 3))
    lines = [Line(sku, rng.randint(1, 3), CATALOGUE[sku]) for sku in skus]
    if fate is Fate.OUT_OF_STOCK:
        lines.append(Line(SOLD_OUT, 1, 2999))
    total = sum(line.quantity * line.unit_price for line in lines)
    declines = total % 100 == DECLINE_DIGITS
    if fate is Fate.DECLINED and not declines:
        lines.append(Line(ADJUSTER, 1, (DECLINE_DIGITS - total) % 100))
    elif fate is not Fate.DECLINED and declines:
        lines.append(Line(ADJUSTER, 1, 1))
    return tuple(lines)
