"""Codec speed: `OrderPlaced` with 3 items through `AvroCodec` vs bare fastavro, same run.

    .venv/bin/python bench/bench_codec.py [--events 2000] [--repeats 30]

Three ways, alternated so load from other processes on the machine hits all alike; the best run
of each (in CPU time: waiting for a core is not the codec's cost) is compared. Many short runs
rather than a few long ones: on a shared machine the best of them is far steadier.

- bare fastavro: `schemaless_writer`/`schemaless_reader` on a prepared dict (no model at all),
  with the schema the codec writes with (parsed once, from interned strings, which speeds bare
  fastavro up as much as the codec);
- fastavro + pydantic: the same plus `model_dump` before writing and `model_validate` after
  reading, the least any typed codec must do;
- the codec: single-object framing, writer schema by fingerprint, validation skipped for models
  that were validated when built, a validated model out of every decode (UUIDs are read as
  strings and parsed once, by pydantic-core; `occurred_at` is read as a long and made a UTC
  datetime without fastavro's per-value logical-type dispatch).

Target: the codec at >= 0.8x bare fastavro.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from io import BytesIO

import fastavro
import pydantic
from fastavro import schemaless_reader, schemaless_writer

from shop_events import OrderItem, OrderPlaced, Priority
from tests.project import repo_codec

TARGET = 0.8
Op = Callable[[], object]


def order() -> OrderPlaced:
    items = [OrderItem(sku=f"SKU-{n:04d}", quantity=n, unit_price=1999) for n in (1, 2, 3)]
    return OrderPlaced(
        order_id="ord-000123",
        user_id="usr-000456",
        items=items,
        currency="EUR",
        total=sum(i.quantity * i.unit_price for i in items),
        priority=Priority.HIGH,
    )


def rate(run: Op, events: int) -> float:
    """Calls per CPU second over one loop of `events` calls."""
    start = time.process_time()
    for _ in range(events):
        run()
    return events / (time.process_time() - start)


def contenders() -> dict[str, tuple[Op, Op, Op]]:
    """Per operation (encode, decode, round trip): bare fastavro, fastavro + pydantic, codec."""
    codec = repo_codec()
    event = order()
    schema = codec.writer_schema(OrderPlaced).parsed
    record = event.model_dump()
    framed = codec.encode(event)
    body = framed[10:]
    assert codec.decode(framed) == event

    def write(value: object) -> bytes:
        out = BytesIO()
        schemaless_writer(out, schema, value)
        return out.getvalue()

    def read(data: bytes) -> object:
        return schemaless_reader(BytesIO(data), schema, None)

    return {
        "encode": (
            lambda: write(record),
            lambda: write(event.model_dump()),
            lambda: codec.encode(event),
        ),
        "decode": (
            lambda: read(body),
            lambda: OrderPlaced.model_validate(read(body)),
            lambda: codec.decode(framed),
        ),
        "round trip": (
            lambda: read(write(record)),
            lambda: OrderPlaced.model_validate(read(write(event.model_dump()))),
            lambda: codec.decode(codec.encode(event)),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    ops = contenders()
    best = {name: [0.0, 0.0, 0.0] for name in ops}
    for _ in range(args.repeats):
        for name, runs in ops.items():
            for i, run in enumerate(runs):
                best[name][i] = max(best[name][i], rate(run, args.events))

    print(
        f"OrderPlaced with 3 items; {args.events} calls x {args.repeats} runs, best run in CPU "
        f"time; Python {platform.python_version()}, fastavro {fastavro.__version__}, "
        f"pydantic {pydantic.VERSION}; load average at the end "
        f"{', '.join(f'{load:.2f}' for load in os.getloadavg())}"
    )
    print(f"{'':11}{'bare fastavro':>15}{'+ pydantic':>15}{'codec':>13}{'codec/bare':>12}")
    for name, (bare, typed, ours) in best.items():
        verdict = "ok" if ours / bare >= TARGET else f"below {TARGET}x"
        print(
            f"{name:11}{bare:>13,.0f}/s{typed:>13,.0f}/s{ours:>11,.0f}/s"
            f"{ours / bare:>11.2f}x  {verdict}"
        )


if __name__ == "__main__":
    main()
