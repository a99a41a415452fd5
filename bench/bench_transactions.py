"""Exactly-once follow-ups vs confirmed publishing, same broker, same run.

A payments-shaped service (`OrderPlaced` in, one `OrderPaid` out per event, same topic) handles
N events two ways, alternated:

- baseline (no transaction): the handler publishes through conveyor's `Publisher` and waits
  for the delivery report; offsets are committed separately (at least once);
- transactional: `Service(..., transactional=True)`, the handler's `ctx.publish` is buffered and
  produced with the offsets in one Kafka transaction per commit.

Timed from start until every event is handled and the service has stopped (the final commit
included). Prints events/s of each and the ratio.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 .venv/bin/python bench/bench_transactions.py [--events N]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from conveyor import naming
from conveyor.publish import Publisher, PublisherConfig
from conveyor.publish.message import Headers
from conveyor.runtime import Context, Service, ServiceSettings, run_service
from conveyor.settings import Settings
from shop_events import OrderItem, OrderPaid, OrderPlaced
from tests.project import repo_codec

PARTITIONS = 3
KEYS = 200


def fill(bootstrap: str, count: int) -> str:
    topic = f"bench-tx-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(30)
    codec = repo_codec()
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    header: Headers = [(naming.EVENT_TYPE, OrderPlaced.AVRO_NAME.encode())]
    item = OrderItem(sku="BOOK", quantity=1, unit_price=100)
    for i in range(count):
        order = OrderPlaced(
            order_id=f"o{i % KEYS}-{i}", user_id="u", items=(item,), currency="EUR", total=100
        )
        producer.produce(topic, codec.encode(order), f"k{i % KEYS}".encode(), headers=header)
        producer.poll(0)
    producer.flush(30)
    return topic


def paid(order: OrderPlaced) -> OrderPaid:
    return OrderPaid(order_id=order.order_id, payment_id="p", amount=order.total, currency="EUR")


def run(bootstrap: str, topic: str, count: int, *, transactional: bool) -> float:
    done = threading.Event()
    handled = 0
    lock = threading.Lock()
    name = f"bench-tx-{'eos' if transactional else 'base'}-{uuid.uuid4().hex[:6]}"
    service = Service(name, transactional=transactional)
    config = PublisherConfig(bootstrap_servers=bootstrap, topics={OrderPlaced.TOPIC: topic})
    publisher = Publisher(config, repo_codec())

    @service.handler(OrderPlaced)
    def pay(event: OrderPlaced, ctx: Context) -> None:
        nonlocal handled
        if transactional:
            ctx.publish(paid(event))
        else:
            publisher.publish(paid(event)).wait(30)
        with lock:
            handled += 1
            if handled >= count:
                done.set()

    settings = ServiceSettings(http_port=None, topic_map={OrderPlaced.TOPIC: topic})
    stop = threading.Event()
    base = Settings.from_env({"KAFKA_BOOTSTRAP_SERVERS": bootstrap})
    thread = threading.Thread(
        target=run_service, args=(service, base, settings, repo_codec()), kwargs={"stop": stop}
    )
    started = time.perf_counter()
    thread.start()
    done.wait(300)
    stop.set()
    thread.join(60)
    elapsed = time.perf_counter() - started
    publisher.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    best = {"baseline": 0.0, "transactional": 0.0}
    for _ in range(args.repeats):
        for mode in ("baseline", "transactional"):
            topic = fill(bootstrap, args.events)
            rate = run(bootstrap, topic, args.events, transactional=mode == "transactional")
            best[mode] = max(best[mode], rate)
            print(f"{mode:14s} {rate:8.0f} events/s")
    ratio = best["transactional"] / best["baseline"]
    print(f"best: baseline {best['baseline']:.0f}/s, transactional {best['transactional']:.0f}/s")
    print(f"transactional / baseline = {ratio:.2f}x ({args.events} events, sync handlers)")


if __name__ == "__main__":
    main()
