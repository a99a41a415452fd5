"""The HTTP contract: request and response bodies, and the routes that turn them into events."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway import logs
from gateway.errors import (
    DuplicateEmailError,
    OrderAlreadyCancelledError,
    UnknownOrderError,
    UnknownUserError,
)
from gateway.fields import MAX_ITEMS, Code, Email, Id, Quantity, Text, UnitPrice
from gateway.service import Gateway
from shop_events import OrderCancelled, OrderItem, OrderPlaced, Priority, UserSignedUp

log = structlog.get_logger("gateway")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignupRequest(_Body):
    email: Email
    name: Text
    referral_code: Code | None = None


class ItemRequest(_Body):
    sku: Text
    quantity: Quantity
    unit_price: UnitPrice


class OrderRequest(_Body):
    user_id: Id
    items: list[ItemRequest] = Field(min_length=1, max_length=MAX_ITEMS)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    priority: Priority = Priority.NORMAL


class CancelRequest(_Body):
    reason: Text = "cancelled by the customer"


class UserAccepted(BaseModel):
    user_id: str
    event_id: str


class OrderAccepted(BaseModel):
    order_id: str
    event_id: str


class Problem(BaseModel):
    """Why a request was refused (404, 409)."""

    detail: str


router = APIRouter(responses={400: {"model": Problem, "description": "The body is not JSON."}})

_DUPLICATE_EMAIL = "a user with this e-mail address exists"
_UNKNOWN_ORDER = "no order has this id"
_CANCELLED_ALREADY = "the order is cancelled already"


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def _accepted(body: BaseModel) -> Response:
    """202 with `body` as JSON, encoded by pydantic's serializer in one step. The routes declare
    the model as their `response_model` (the contract); returning a `Response` skips FastAPI's
    validating the body again and encoding it twice (to a dict, then to JSON)."""
    return Response(body.model_dump_json(), 202, media_type="application/json")


def _field_error(field: str, message: str, kind: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": kind}])


def _event_error(exc: ValidationError) -> RequestValidationError:
    """A request that passed its own model but breaks the event's rules (e.g. a total past
    Avro's long) is still the client's input: answer 422 with the event's field errors."""
    return RequestValidationError(
        [{"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    )


@router.post(
    "/signup",
    status_code=202,
    response_model=UserAccepted,
    responses={409: {"model": Problem, "description": _DUPLICATE_EMAIL}},
)
async def signup(body: SignupRequest, request: Request) -> Response:
    gateway = _gateway(request)
    event = UserSignedUp(
        event_id=gateway.new_id(),
        user_id=str(gateway.new_id()),
        email=body.email,
        name=body.name,
        referral_code=body.referral_code,
    )
    try:
        await gateway.commit(gateway.store.sign_up, event)
    except DuplicateEmailError as exc:
        raise HTTPException(409, detail=_DUPLICATE_EMAIL) from exc
    log.info(logs.USER_SIGNED_UP, user_id=event.user_id, event_id=str(event.event_id))
    return _accepted(UserAccepted(user_id=event.user_id, event_id=str(event.event_id)))


@router.post(
    "/orders",
    status_code=202,
    response_model=OrderAccepted,
    responses={422: {"description": "Invalid input, or `user_id` names no user."}},
)
async def place_order(body: OrderRequest, request: Request) -> Response:
    gateway = _gateway(request)
    try:
        event = OrderPlaced(
            event_id=gateway.new_id(),
            order_id=str(gateway.new_id()),
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
    log.info(logs.ORDER_PLACED, order_id=event.order_id, event_id=str(event.event_id))
    return _accepted(OrderAccepted(order_id=event.order_id, event_id=str(event.event_id)))


@router.post(
    "/orders/{order_id}/cancel",
    status_code=202,
    response_model=OrderAccepted,
    responses={
        404: {"model": Problem, "description": _UNKNOWN_ORDER},
        409: {"model": Problem, "description": _CANCELLED_ALREADY},
    },
)
async def cancel_order(
    order_id: Id, request: Request, body: CancelRequest | None = None
) -> Response:
    gateway = _gateway(request)
    event = OrderCancelled(
        event_id=gateway.new_id(), order_id=order_id, reason=(body or CancelRequest()).reason
    )
    try:
        await gateway.commit(gateway.store.cancel_order, event)
    except UnknownOrderError as exc:
        raise HTTPException(404, detail=_UNKNOWN_ORDER) from exc
    except OrderAlreadyCancelledError as exc:
        raise HTTPException(409, detail=_CANCELLED_ALREADY) from exc
    log.info(logs.ORDER_CANCELLED, order_id=order_id, event_id=str(event.event_id))
    return _accepted(OrderAccepted(order_id=order_id, event_id=str(event.event_id)))
