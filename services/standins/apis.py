"""The three stand-in APIs. Every POST needs an `Idempotency-Key` header: the first call with a
key makes the side effect, later calls with the same key get the same answer and change nothing.
Every API lists what it created with a GET on the same path, and `/stats` counts the calls."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from standins.faults import FaultInjector, FaultPlan
from standins.ledger import Answer, Ledger, Record


class Api(enum.Enum):
    CRM = "crm"
    PAYMENTS = "payments"
    WAREHOUSE = "warehouse"


@dataclass(frozen=True)
class StandinConfig:
    api: Api
    faults: FaultPlan = field(default_factory=FaultPlan)
    # Payment gateway only: charges whose amount (minor units) ends in these digits decline.
    decline_amounts_ending_in: str = "13"


class ContactIn(BaseModel):
    user_id: str
    email: str
    name: str


class ChargeIn(BaseModel):
    order_id: str
    amount: int = Field(ge=0)
    currency: str


class ShipmentLine(BaseModel):
    sku: str
    quantity: int = Field(ge=1)


class ShipmentIn(BaseModel):
    order_id: str
    lines: list[ShipmentLine]


IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1)]


def build_app(config: StandinConfig) -> FastAPI:
    """One API with its own ledger and fault plan, as one process serves it."""
    app = FastAPI(title=f"conveyor stand-in: {config.api.value}")
    ledger = Ledger()
    injector = FaultInjector(config.faults)

    async def inject_faults() -> None:
        await injector.delay()
        if injector.should_fail():
            raise HTTPException(status_code=503, detail="injected failure")

    def respond(key: str, effect: Callable[[], Answer]) -> JSONResponse:
        answer, replayed = ledger.once(key, effect)
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)

    router = APIRouter(dependencies=[Depends(inject_faults)])
    path = _register(router, config, respond)
    app.include_router(router)

    @app.get(path)
    def created() -> list[Record]:
        return ledger.records()

    @app.get("/stats")
    def stats() -> dict[str, Any]:
        return {
            "calls": injector.calls,
            "failed": injector.failed,
            "replays": ledger.replays,
            "created": len(ledger.answers),
        }

    @app.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app


Responder = Callable[[str, Callable[[], Answer]], JSONResponse]


def _register(router: APIRouter, config: StandinConfig, respond: Responder) -> str:
    """Add the API's POST route; return its path (the GET listing shares it)."""
    if config.api is Api.CRM:

        @router.post("/contacts")
        def create_contact(body: ContactIn, key: IdempotencyKey) -> JSONResponse:
            return respond(key, lambda: Answer(201, {"contact_id": _new_id(), **body.model_dump()}))

        return "/contacts"
    if config.api is Api.PAYMENTS:

        @router.post("/charges")
        def create_charge(body: ChargeIn, key: IdempotencyKey) -> JSONResponse:
            return respond(key, lambda: _charge(body, config.decline_amounts_ending_in))

        return "/charges"

    @router.post("/shipments")
    def create_shipment(body: ShipmentIn, key: IdempotencyKey) -> JSONResponse:
        return respond(key, lambda: _ship(body))

    return "/shipments"


def _charge(body: ChargeIn, decline_suffix: str) -> Answer:
    if decline_suffix and str(body.amount).endswith(decline_suffix):
        record = {"charge_id": _new_id(), "status": "declined", "reason": "card declined"}
        return Answer(402, {**record, **body.model_dump()})
    return Answer(201, {"charge_id": _new_id(), "status": "succeeded", **body.model_dump()})


def _ship(body: ShipmentIn) -> Answer:
    shipment_id = _new_id()
    record = {"shipment_id": shipment_id, "carrier": "DHL", "tracking_number": shipment_id[:12]}
    return Answer(201, {**record, **body.model_dump()})


def _new_id() -> str:
    return uuid.uuid4().hex
