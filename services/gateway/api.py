"""The HTTP contract: request and response bodies, and the routes that turn them into events."""

from __future__ import annotations

import uuid
from typing import Annotated

import structlog
from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from conveyor.events.fields import INT_MAX, LONG_MAX
from gateway.errors import (
    DuplicateEmailError,
    OrderAlreadyCancelledError,
    UnknownOrderError,
    UnknownUserError,
)
from gateway.service import Gateway
from shop_events import OrderCancelled, OrderItem, OrderPlaced, Priority, UserSignedUp

log = structlog.get_logger("gateway")
router = APIRouter()

Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.\w+$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupRequest(_Body):
    email: Email
    name: Name
    referral_code: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class ItemRequest(_Body):
    sku: Name
    quantity: int = Field(ge=1, le=INT_MAX)
    unit_price: int = Field(ge=0, le=LONG_MAX, description="Minor units of the currency.")


class OrderRequest(_Body):
    user_id: Id
    items: list[ItemRequest] = Field(min_length=1, max_length=1000)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    priority: Priority = Priority.NORMAL


class CancelRequest(_Body):
    reason: Name = "cancelled by the customer"


class UserAccepted(BaseModel):
    user_id: str
    event_id: str


class OrderAccepted(BaseModel):
    order_id: str
    event_id: str


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _field_error(field: str, message: str, kind: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": kind}])


def _event_error(exc: ValidationError) -> RequestValidationError:
    """A request that passed its own model but breaks the event's rules (e.g. a total past
    Avro's long) is still the client's input: answer 422 with the event's field errors."""
    return RequestValidationError(
        [{"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    )


@router.post("/signup", status_code=202)
async def signup(body: SignupRequest, request: Request) -> UserAccepted:
    gateway = _gateway(request)
    event = UserSignedUp(
        user_id=str(uuid.uuid4()),
        email=body.email,
        name=body.name,
        referral_code=body.referral_code,
    )
    try:
        await gateway.commit(gateway.store.sign_up, event)
    except DuplicateEmailError as exc:
        raise HTTPException(409, detail="a user with this e-mail address exists") from exc
    log.info("user.signed_up", user_id=event.user_id, event_id=str(event.event_id))
    return UserAccepted(user_id=event.user_id, event_id=str(event.event_id))


@router.post("/orders", status_code=202)
async def place_order(body: OrderRequest, request: Request) -> OrderAccepted:
    gateway = _gateway(request)
    try:
        event = OrderPlaced(
            order_id=str(uuid.uuid4()),
            user_id=body.user_id,
            items=tuple(OrderItem(**item.model_dump()) for item in body.items),
            currency=body.currency,
            total=sum(item.quantity * item.unit_price for item in body.items),
            priority=body.priority,
        )
    except ValidationError as exc:
        raise _event_error(exc) from exc
    try:
        await gateway.commit(gateway.store.place_order, event)
    except UnknownUserError as exc:
        raise _field_error("user_id", "no user has this id", "unknown_user") from exc
    log.info("order.placed", order_id=event.order_id, event_id=str(event.event_id))
    return OrderAccepted(order_id=event.order_id, event_id=str(event.event_id))


@router.post("/orders/{order_id}/cancel", status_code=202)
async def cancel_order(
    order_id: Id, request: Request, body: CancelRequest | None = None
) -> OrderAccepted:
    gateway = _gateway(request)
    event = OrderCancelled(order_id=order_id, reason=(body or CancelRequest()).reason)
    try:
        await gateway.commit(gateway.store.cancel_order, event)
    except UnknownOrderError as exc:
        raise HTTPException(404, detail="no order has this id") from exc
    except OrderAlreadyCancelledError as exc:
        raise HTTPException(409, detail="the order is cancelled already") from exc
    log.info("order.cancelled", order_id=order_id, event_id=str(event.event_id))
    return OrderAccepted(order_id=order_id, event_id=str(event.event_id))
