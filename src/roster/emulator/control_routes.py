"""Routes under ``/_emulator/``: drive the emulator from tests (no auth, not logged)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from roster.emulator.api_routes import json_body, store_of
from roster.emulator.clock import format_time, parse_time
from roster.emulator.control import Control
from roster.emulator.problems import invalid
from roster.emulator.store import Store

PREFIX = "/_emulator"


def control_of(request: Request) -> Control:
    control: Control = request.app.state.control
    return control


async def accept_invite(request: Request) -> JSONResponse:
    body = await json_body(request)
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise invalid("name: expected a string")
    user = store_of(request).accept_invite(request.path_params["invite_id"], name)
    return JSONResponse(user.to_api())


def clock_json(store: Store) -> JSONResponse:
    clock = store.clock
    return JSONResponse({"now": format_time(clock.now()), "offset_seconds": clock.offset_seconds})


async def get_clock(request: Request) -> JSONResponse:
    return clock_json(store_of(request))


async def set_clock(request: Request) -> JSONResponse:
    body, store = await json_body(request), store_of(request)
    if "advance_seconds" in body:
        seconds = body["advance_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise invalid("advance_seconds: expected a number")
        store.clock.advance(float(seconds))
    elif isinstance(body.get("now"), str):
        try:
            store.clock.set_now(parse_time(body["now"]))
        except ValueError:
            raise invalid("now: not an RFC 3339 timestamp") from None
    else:
        raise invalid('send {"advance_seconds": N} or {"now": "<RFC 3339>"}')
    store.touch()
    return clock_json(store)


async def reset(request: Request) -> JSONResponse:
    store = store_of(request)
    store.load_json(Store().to_json())
    return JSONResponse(store.to_json())


async def get_state(request: Request) -> JSONResponse:
    return JSONResponse(store_of(request).to_json())


async def put_state(request: Request) -> JSONResponse:
    store, state = store_of(request), await json_body(request)
    try:
        Store.from_json(state)  # validates the whole state before the live store changes
    except (KeyError, TypeError, ValueError) as exc:
        raise invalid(f"not an emulator state: {exc}") from None
    store.load_json(state)
    return JSONResponse(store.organization_json())


async def get_requests(request: Request) -> JSONResponse:
    return JSONResponse(control_of(request).log.to_json())


async def clear_requests(request: Request) -> Response:
    control_of(request).log.clear()
    return JSONResponse({"cleared": True})


async def get_violations(request: Request) -> JSONResponse:
    return JSONResponse(control_of(request).violations_json())


async def clear_violations(request: Request) -> JSONResponse:
    control_of(request).violations.clear()
    return JSONResponse({"cleared": True})


async def get_config(request: Request) -> JSONResponse:
    return JSONResponse(control_of(request).config_json())


async def set_config(request: Request) -> JSONResponse:
    control = control_of(request)
    control.configure(await json_body(request))
    return JSONResponse(control.config_json())


async def queue_faults(request: Request) -> JSONResponse:
    control = control_of(request)
    control.queue_faults((await json_body(request)).get("faults"))
    return JSONResponse({"queued": len(control.queued)})


async def clear_faults(request: Request) -> JSONResponse:
    control_of(request).queued.clear()
    return JSONResponse({"queued": 0})


def control_routes() -> list[Route]:
    return [
        Route(f"{PREFIX}/invites/{{invite_id}}/accept", accept_invite, methods=["POST"]),
        Route(f"{PREFIX}/clock", get_clock, methods=["GET"]),
        Route(f"{PREFIX}/clock", set_clock, methods=["POST"]),
        Route(f"{PREFIX}/reset", reset, methods=["POST"]),
        Route(f"{PREFIX}/state", get_state, methods=["GET"]),
        Route(f"{PREFIX}/state", put_state, methods=["PUT"]),
        Route(f"{PREFIX}/requests", get_requests, methods=["GET"]),
        Route(f"{PREFIX}/requests", clear_requests, methods=["DELETE"]),
        Route(f"{PREFIX}/violations", get_violations, methods=["GET"]),
        Route(f"{PREFIX}/violations", clear_violations, methods=["DELETE"]),
        Route(f"{PREFIX}/config", get_config, methods=["GET"]),
        Route(f"{PREFIX}/config", set_config, methods=["POST"]),
        Route(f"{PREFIX}/faults", queue_faults, methods=["POST"]),
        Route(f"{PREFIX}/faults", clear_faults, methods=["DELETE"]),
    ]
