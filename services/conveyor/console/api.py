"""The JSON endpoints the pages fetch. Each reads or acts through `conveyor.ops`, as the CLI
does; the ones that change something pass `guard.check` first and are logged."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from conveyor import logs
from conveyor.console import guard
from conveyor.console.jobs import Jobs
from conveyor.console.sampler import Sampler
from conveyor.console.scope import ConsoleScope
from conveyor.console.settings import ConsoleSettings
from conveyor.errors import ConveyorError
from conveyor.log_output import ops_log as log
from conveyor.ops import deadletters, journey, ledger, redrive, replay, tail
from conveyor.ops.deadletters import DeadLetterFilter
from conveyor.ops.errors import (
    GroupActiveError,
    OpsError,
    ReplayTargetError,
    UnknownServiceError,
)
from conveyor.ops.redrive import RedrivePlan
from conveyor.ops.replay import AtOffsets, AtTime, Earliest, Latest, ReplayPlan, Target
from conveyor.ops.timeparse import iso, to_epoch_ms

Action = Callable[[Request, str, dict[str, Any]], dict[str, Any]]
"""An action's work: (request, service, JSON body) -> the answer."""

LETTERS_SHOWN = 500  # a page of dead letters at most; the filter narrows it


class Api:
    def __init__(self, scope: ConsoleScope, settings: ConsoleSettings, sampler: Sampler) -> None:
        self.scope = scope
        self.settings = settings
        self.sampler = sampler
        self.jobs = Jobs()

    async def config(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {"allow_actions": self.settings.allow_actions, "services": list(self.scope.names)}
        )

    async def services(self, request: Request) -> JSONResponse:
        return JSONResponse(self.sampler.snapshot())

    async def dead_letters(self, request: Request) -> JSONResponse:
        service = request.path_params["service"]
        selection = _selection(request.query_params)
        return await _answer(lambda: self._letters(service, selection))

    async def redrive_plan(self, request: Request) -> JSONResponse:
        service = request.path_params["service"]
        params = request.query_params
        ids = _ids(params.getlist("id"))
        return await _answer(lambda: self._redrive_plan(service, _selection(params), ids)[0])

    async def redrive(self, request: Request) -> JSONResponse:
        return await self._action(request, "redrive", self._start_redrive)

    async def job(self, request: Request) -> JSONResponse:
        found = self.jobs.get(int(request.path_params["job"]))
        if found is None:
            return JSONResponse({"error": "no such job"}, status_code=404)
        return JSONResponse(found)

    async def replay_plan(self, request: Request) -> JSONResponse:
        service = request.path_params["service"]
        params = request.query_params
        return await _answer(lambda: self._replay_plan(service, params.get("to"), params)[0])

    async def replay(self, request: Request) -> JSONResponse:
        return await self._action(request, "replay", self._apply_replay)

    async def journey(self, request: Request) -> JSONResponse:
        key = (request.query_params.get("key") or "").strip()
        if not key:
            return JSONResponse({"error": "enter a key (an order id, a user id)"}, 400)
        return await _answer(lambda: self._journey(key))

    async def _action(self, request: Request, action: str, work: Action) -> JSONResponse:
        """`work(request, service, body)` once the guard lets the request act."""
        refused = guard.check(request, self.settings, action)
        if refused is not None:
            return JSONResponse({"error": refused.reason}, status_code=refused.status)
        body = await _body(request)
        service = request.path_params["service"]
        return await _answer(lambda: work(request, service, body))

    # The work, run in a thread (every call blocks on the broker).

    def _letters(self, service: str, selection: DeadLetterFilter) -> dict[str, Any]:
        topology = self.scope.topology(service)
        broker = self.scope.broker
        matching = [x for x in deadletters.read_all(broker, topology) if selection.matches(x)]
        done = ledger.load(broker, service, settle=0)
        shown = matching[-LETTERS_SHOWN:]
        return {
            "service": service,
            "matching": len(matching),
            "letters": [
                {
                    **deadletters.detail(x, self.scope.codec),
                    "redriven_at": iso(done.get(x.position)),
                }
                for x in reversed(shown)
            ],
        }

    def _redrive_plan(
        self, service: str, selection: DeadLetterFilter, ids: frozenset[tuple[int, int]] | None
    ) -> tuple[dict[str, Any], RedrivePlan]:
        topology = self.scope.topology(service)
        found = redrive.plan(self.scope.broker, topology, selection, ids=ids)
        return redrive.plan_as_dict(found), found

    def _start_redrive(
        self, request: Request, service: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        selection = _selection(body.get("filter") or {})
        ids = _ids(body.get("ids") or [])
        if ids is None and selection == DeadLetterFilter():
            raise OpsError("select dead letters or give a filter to redrive")
        shown, found = self._redrive_plan(service, selection, ids)
        self._audit(request, "redrive", service, events=len(found.letters), ids=shown["events"])
        broker = self.scope.broker
        job = self.jobs.start(
            "redrive",
            service,
            len(found.letters),
            lambda advance: redrive.execute(broker, found, on_progress=lambda _: advance()),
        )
        return {"plan": shown, "job": job.as_dict()}

    def _replay_plan(
        self, service: str, to: str | None, params: Any
    ) -> tuple[dict[str, Any], ReplayPlan]:
        topology = self.scope.topology(service)
        found = replay.plan(self.scope.broker, topology, _target(to, params))
        members = self.scope.broker.describe_group(topology.group).members
        doc = {
            **replay.plan_as_dict(found),
            "reprocess": found.reprocess,
            "members": [m.describe() for m in members],
        }
        return doc, found

    def _apply_replay(self, request: Request, service: str, body: dict[str, Any]) -> dict[str, Any]:
        shown, found = self._replay_plan(service, body.get("to"), body)
        replay.ensure_stopped(self.scope.broker, service)
        self._audit(request, "replay", service, target=found.target, reprocess=found.reprocess)
        replay.apply(self.scope.broker, found)
        return {"applied": True, "plan": shown}

    def _journey(self, key: str) -> dict[str, Any]:
        found = journey.trace(self.scope.broker, self.scope.topologies(), key)
        return journey.as_dict(found, lambda record: tail.describe(record, self.scope.codec))

    def _audit(self, request: Request, action: str, service: str, **what: Any) -> None:
        log.info(
            logs.CONSOLE_ACTION,
            action=action,
            service=service,
            at=iso(int(time.time() * 1000)),
            **guard.who(request),
            **what,
        )


def _selection(params: Any) -> DeadLetterFilter:
    return DeadLetterFilter.parse(
        params.get("error_type"),
        params.get("key"),
        params.get("since"),
        params.get("until"),
        params.get("topic"),
        lane=params.get("lane"),
    )


def _ids(texts: list[str]) -> frozenset[tuple[int, int]] | None:
    return frozenset(deadletters.parse_position(x) for x in texts) or None


def _target(to: str | None, params: Any) -> Target:
    """`to=earliest`, `to=latest`, `to=time&time=<ISO-8601>`, `to=offset&offsets=0:12,1:40`."""
    if to == "earliest":
        return Earliest()
    if to == "latest":
        return Latest()
    if to == "time":
        return AtTime(to_epoch_ms(str(params.get("time") or "")))
    if to == "offset":
        texts = [t for t in str(params.get("offsets") or "").replace(" ", "").split(",") if t]
        return AtOffsets(dict(replay.parse_offset(t) for t in texts))
    raise ReplayTargetError("choose a target: earliest, latest, time or offset")


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def _answer(work: Callable[[], dict[str, Any]]) -> JSONResponse:
    """`work`'s result as JSON, or conveyor's error message with a fitting status."""
    try:
        return JSONResponse(await run_in_threadpool(work))
    except UnknownServiceError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    except GroupActiveError as exc:
        return JSONResponse({"error": str(exc), "members": list(exc.members)}, status_code=409)
    except ConveyorError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
