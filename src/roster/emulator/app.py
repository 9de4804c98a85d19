"""The emulator as a Starlette application.

``app.state.store`` is the ``Store``; ``app.state.control`` the ``Control`` (latency, rate
limit, faults, request log). With ``state_file``, the app's lifespan keeps that file saved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from roster.emulator.api_routes import api_routes
from roster.emulator.control import Control
from roster.emulator.control_routes import control_routes
from roster.emulator.gate import ApiGate
from roster.emulator.problems import ApiProblem
from roster.emulator.responses import error_response, new_request_id
from roster.emulator.saver import StateSaver
from roster.emulator.store import Store


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or new_request_id())


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return error_response(exc, _request_id(request))


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "not found" if exc.status_code == 404 else str(exc.detail)
    return error_response(ApiProblem(exc.status_code, message), _request_id(request))


def create_app(
    store: Store | None = None, *, state_file: Path | None = None, control: Control | None = None
) -> Starlette:
    """An emulator over ``store`` (a fresh ``Store()`` by default)."""
    store = store if store is not None else Store()
    control = control if control is not None else Control()
    saver = None if state_file is None else StateSaver(store, Path(state_file))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if saver is not None:
            await saver.start()
        try:
            yield
        finally:
            if saver is not None:
                await saver.stop()

    routes = api_routes()
    app = Starlette(
        routes=[*control_routes(), *routes],
        middleware=[Middleware(ApiGate, store=store, control=control, routes=routes)],
        exception_handlers={ApiProblem: _on_problem, HTTPException: _on_http_error},
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.control = control
    return app
