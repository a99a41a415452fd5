"""Every settings group of the reference pipeline, as the README's second table lists them
(`python -m integrations.settings` prints it); conveyor's own are in `conveyor.variables`."""

from __future__ import annotations

from pydantic import BaseModel

from conveyor.environment import table
from crm_sync.service import CrmSyncVariables
from echo_sink.service import EchoSinkSettings
from integrations.config import (
    ANALYTICS_DB,
    CRM,
    FULFILLMENT_DB,
    INVENTORY_DB,
    ORDER_EMAIL_DB,
    PAYMENTS,
    WAREHOUSE,
    MailVariables,
)
from integrations.store import StoreVariables
from inventory.service import InventoryVariables

REFERENCE: tuple[tuple[str, type[BaseModel]], ...] = (
    ("Processed-event store (the services that mark events)", StoreVariables),
    ("welcome-email, order-email", MailVariables),
    ("order-email", ORDER_EMAIL_DB),
    ("crm-sync", CRM),
    ("crm-sync", CrmSyncVariables),
    ("payments", PAYMENTS),
    ("fulfillment", WAREHOUSE),
    ("fulfillment", FULFILLMENT_DB),
    ("inventory", INVENTORY_DB),
    ("inventory", InventoryVariables),
    ("analytics", ANALYTICS_DB),
    ("echo-sink (a test and benchmark service)", EchoSinkSettings),
)


def reference_table() -> str:
    return table(REFERENCE)


if __name__ == "__main__":
    print(reference_table(), end="")
