"""The ASGI layer in front of every API route: request ids, headers, strict mode's contract
checks, auth, version, rate limiting, latency, injected faults and the request log. Control
routes skip it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import format_datetime

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roster.emulator.control import Control, Fault, LogEntry, retry_after_headers
from roster.emulator.problems import ApiProblem
from roster.emulator.responses import error_response, new_request_id
from roster.emulator.store import Store
from roster.emulator.strict import Contract, Violation, request_problems

API_VERSIONS = frozenset({"2023-06-01", "2026-10-21"})
_ADMIN_KEY = re.compile(r"^sk-ant-admin01-[A-Za-z0-9_-]{8,}\Z")
_FAULT_STATUS = {"500": 500, "503": 503, "529": 529}
_FAULT_MESSAGE = {
    "500": "Internal server error",
    "503": "Service temporarily unavailable",
    "529": "Overloaded",
}
_USER_PATH = re.compile(r"^/v1/organizations/users/([^/]+)\Z")
logger = logging.getLogger(__name__)


class ConnectionDropped(Exception):
    """Raised after the response has started: the server closes the connection mid-response."""


@dataclass
class Exchange:
    """What the gate learns about one request while it is answered."""

    request_id: str
    status: int | None = None
    fault: str | None = None
    route: BaseRoute | None = None


def credential(headers: Headers) -> str | None:
    """The key from ``x-api-key``, else from ``Authorization: Bearer``."""
    if "x-api-key" in headers:
        return headers["x-api-key"]
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def check_access(headers: Headers, store: Store) -> ApiProblem | None:
    """The auth or version problem of a request, if any. The key itself is never echoed."""
    key = credential(headers)
    if key is None:
        return ApiProblem(401, "missing credentials: send x-api-key or Authorization: Bearer")
    if not (_ADMIN_KEY.match(key) and store.accepts_admin_key(key)):
        if key.startswith("sk-ant-api"):
            return ApiProblem(403, "this endpoint requires an Admin API key (sk-ant-admin...)")
        return ApiProblem(401, "invalid credentials")
    version = headers.get("anthropic-version")
    if version is None:
        return ApiProblem(400, "anthropic-version: header is required", "missing_api_version")
    if version not in API_VERSIONS:
        message = f"anthropic-version: {version!r} is not a supported version"
        return ApiProblem(400, message, "unsupported_api_version")
    return None


class ApiGate:
    """Wraps the router; everything outside ``/_emulator/`` is an API request.

    Control routes only get the response headers: no auth, faults, limits or logging.
    """

    def __init__(
        self, app: ASGIApp, store: Store, control: Control, routes: Sequence[BaseRoute] = ()
    ) -> None:
        self.app = app
        self.store = store
        self.control = control
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = Exchange(new_request_id())
        scope.setdefault("state", {})["request_id"] = exchange.request_id
        if scope["path"].startswith("/_emulator/"):
            await self.app(scope, receive, self._stamped(send, exchange))
            return
        try:
            if self.control.strict:
                receive = await self._inspected(scope, receive, exchange)
            await self._answer(scope, receive, self._stamped(send, exchange), exchange)
        finally:
            self._log(scope, exchange)

    async def _inspected(self, scope: Scope, receive: Receive, exchange: Exchange) -> Receive:
        """Strict mode: records how the request breaks its route's contract; the returned
        ``receive`` hands the body, read here, on to the app."""
        exchange.route = next((r for r in self.routes if r.matches(scope)[0] == Match.FULL), None)
        rules = getattr(exchange.route, "contract", None)
        if not isinstance(rules, Contract):
            return receive  # no such route: the 404 or 405 says so already
        problems, receive = await request_problems(scope, receive, rules)
        method, path, request_id = scope["method"], scope["path"], exchange.request_id
        self.control.record_violations([Violation(method, path, p, request_id) for p in problems])
        return receive

    def _stamped(self, send: Send, exchange: Exchange) -> Send:
        """``send`` that adds the request id, organization and date headers to the response:
        the date is the emulated clock's, as a real server's is its own."""

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"request-id", exchange.request_id.encode()))
                stamp = format_datetime(self.store.clock.now(), usegmt=True)
                headers = [(k, v) for k, v in headers if k.lower() != b"date"]
                headers.append((b"date", stamp.encode()))
                if message["status"] != 401:
                    org = self.store.organization.id.encode()
                    headers.append((b"anthropic-organization-id", org))
                message = {**message, "headers": headers}
            await send(message)

        return stamped

    async def _answer(self, scope: Scope, receive: Receive, send: Send, exchange: Exchange) -> None:
        refusal = self.control.throttle()
        if refusal is not None:
            problem = ApiProblem(429, "rate limit exceeded; retry later")
            await self._refuse(scope, problem, exchange, send, refusal)
            return
        if self.control.latency_ms:
            await asyncio.sleep(self.control.latency_ms / 1000)
        fault = self.control.next_fault(scope["method"], scope["path"])
        if fault is None:
            await self._checked(scope, receive, send, exchange)
            return
        exchange.fault = fault.kind
        await self._inject(fault, scope, receive, send, exchange)

    async def _checked(
        self, scope: Scope, receive: Receive, send: Send, exchange: Exchange
    ) -> None:
        problem = check_access(Headers(scope=scope), self.store)
        if problem is not None:
            await self._refuse(scope, problem, exchange, send)
            return
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            return  # the client went away (killed, timed out) before sending its whole request
        except Exception:
            if exchange.status is not None:
                raise
            logger.exception("emulator failed on %s %s", scope["method"], scope["path"])
            await self._refuse(scope, ApiProblem(500, "internal emulator error"), exchange, send)

    async def _inject(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send, exchange: Exchange
    ) -> None:
        if fault.kind == "429":
            headers = retry_after_headers(1.0 if fault.retry_after is None else fault.retry_after)
            await self._refuse(
                scope, ApiProblem(429, "rate limit exceeded"), exchange, send, headers
            )
        elif fault.kind in _FAULT_STATUS:
            problem = ApiProblem(_FAULT_STATUS[fault.kind], _FAULT_MESSAGE[fault.kind])
            await self._refuse(scope, problem, exchange, send)
        elif fault.kind == "requester_unconfirmed":
            await self._requester_unconfirmed(scope, send, exchange)
        elif fault.kind == "drop_after":
            body = _BodyReader(receive)
            await self._checked(scope, body.receive, _swallowing(exchange), exchange)
            produced = exchange.status
            try:
                await _drop(body, send)
            finally:
                exchange.status = produced
        else:
            await _drop(_BodyReader(receive), send)

    async def _requester_unconfirmed(self, scope: Scope, send: Send, exchange: Exchange) -> None:
        """SDK 2.15's retryable 403; a user removal it cuts short has turned their keys off."""
        problem = check_access(Headers(scope=scope), self.store)
        if problem is None:
            removal = _USER_PATH.match(scope["path"])
            if scope["method"] == "DELETE" and removal is not None:
                self.store.begin_user_removal(removal.group(1))
            message = "the requester could not be confirmed; sending the same request again is safe"
            problem = ApiProblem(403, message, "api_key_requester_unconfirmed")
        await self._refuse(scope, problem, exchange, send)

    async def _refuse(
        self,
        scope: Scope,
        problem: ApiProblem,
        exchange: Exchange,
        send: Send,
        headers: dict[str, str] | None = None,
    ) -> None:
        response = error_response(problem, exchange.request_id, headers)
        await response(scope, _no_body, send)

    def _log(self, scope: Scope, exchange: Exchange) -> None:
        method = scope["method"]
        template = self._route_template(scope, exchange)
        entry = LogEntry(
            seq=self.control.next_seq(),
            method=method,
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            status=None if exchange.fault == "drop_before" else exchange.status,
            request_id=exchange.request_id,
            fault=exchange.fault,
        )
        self.control.log.record(entry, f"{method} {template}")

    def _route_template(self, scope: Scope, exchange: Exchange) -> str:
        """The route's path template, so counters group ``/users/{user_id}`` requests."""
        route = scope.get("route") or exchange.route
        if route is None:
            route = next((r for r in self.routes if r.matches(scope)[0] != Match.NONE), None)
        return str(getattr(route, "path", "(no route)"))


def _swallowing(exchange: Exchange) -> Send:
    """The response of a ``drop_after`` request: produced, then lost with the connection."""

    async def swallow(message: Message) -> None:
        if message["type"] == "http.response.start":
            exchange.status = message["status"]

    return swallow


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


class _BodyReader:
    """Tracks whether the request body was read to the end, so a drop can finish reading it."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.done = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.done = True
        return message

    async def drain(self) -> None:
        while not self.done:
            await self.receive()


async def _drop(body: _BodyReader, send: Send) -> None:
    # Unread request bytes would make the close a TCP reset (a ReadError for the client);
    # reading them first gives the clean mid-response close that real servers show.
    await body.drain()
    # Starting the response and then failing is what makes uvicorn close the connection
    # mid-response; clients see a protocol error, never a status.
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    raise ConnectionDropped("connection dropped by fault injection")
