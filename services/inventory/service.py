"""The inventory service: reserve on `OrderPlaced`, release on cancellation or failed payment."""

from __future__ import annotations

import os

from conveyor.environment import EnvModel, variable
from conveyor.idempotency import SqliteStore
from conveyor.policies import ordered
from conveyor.runtime import Context, Service
from conveyor.serve import serve
from conveyor.settings import Settings
from integrations.config import INVENTORY_DB
from inventory.stock import StockLedger, parse_stock
from shop_events import OrderCancelled, OrderPaymentFailed, OrderPlaced

NAME = "inventory"
DEFAULT_STOCK = "BOOK=100000,MUG=100000,TEE=100000,POSTER=100000"
ORDERED = ordered()


class InventoryVariables(EnvModel):
    """The inventory service's own variable (its file's is `integrations.config.INVENTORY_DB`)."""

    stock: str = variable(
        "INVENTORY_STOCK",
        DEFAULT_STOCK,
        description="`SKU=quantity,...`: the initial stock of SKUs not yet in the file.",
        example="BOOK=5",
    )


def build_service(ledger: StockLedger) -> Service:
    service = Service(NAME)

    @service.handler(OrderPlaced, policy=ORDERED)
    def reserve(event: OrderPlaced, ctx: Context) -> None:
        lines = [(item.sku, item.quantity) for item in event.items]
        ledger.reserve(str(event.event_id), event.order_id, lines)

    @service.handler(OrderCancelled, policy=ORDERED)
    def release_cancelled(event: OrderCancelled, ctx: Context) -> None:
        ledger.release(str(event.event_id), event.order_id)

    @service.handler(OrderPaymentFailed, policy=ORDERED)
    def release_unpaid(event: OrderPaymentFailed, ctx: Context) -> None:
        ledger.release(str(event.event_id), event.order_id)

    return service


def main(settings: Settings, argv: list[str]) -> int:
    """`conveyor run inventory`; INVENTORY_DB names the SQLite file, INVENTORY_STOCK the initial
    stock of SKUs not yet in it (`SKU=quantity,...`)."""
    del argv
    env = os.environ
    path = INVENTORY_DB.from_env(env).file(settings.state_dir, NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(path)
    ledger = StockLedger(store, NAME)
    ledger.stock_up(parse_stock(InventoryVariables.from_env(env).stock))
    try:
        return serve(build_service(ledger), settings, env)
    finally:
        ledger.close()
        store.close()
