"""inventory: reserves stock for placed orders and releases it when an order is cancelled or its
payment fails, in its own database, in the same transaction as the event's processed mark.
An order it cannot fill is a permanent error: the event is dead-lettered, not retried.

    INVENTORY_STOCK="BOOK=500,MUG=200" conveyor run inventory
"""

from inventory.errors import OutOfStockError
from inventory.service import NAME, build_service, main
from inventory.stock import StockLedger, parse_stock

__all__ = ["NAME", "OutOfStockError", "StockLedger", "build_service", "main", "parse_stock"]
