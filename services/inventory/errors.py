"""The inventory's errors."""

from __future__ import annotations

from conveyor.errors import ConveyorError
from conveyor.retry import PermanentError


class InventoryError(ConveyorError):
    """Root of the inventory service's errors."""


class OutOfStockError(InventoryError, PermanentError):
    """An order asks for more of a SKU than is available (or for an unknown SKU). Retrying the
    same event cannot help: it is dead-lettered at once, and the order's key is parked."""

    def __init__(self, order_id: str, sku: str, wanted: int, available: int) -> None:
        super().__init__(f"order {order_id}: {wanted} x {sku} wanted, {available} available")
        self.order_id = order_id
        self.sku = sku


class StockConfigError(InventoryError):
    """INVENTORY_STOCK is not `SKU=quantity,...`."""
