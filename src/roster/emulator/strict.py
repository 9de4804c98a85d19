"""Strict mode: each API request checked against its route's contract (admin-api.md).

A breach is recorded as a ``Violation``, never answered: how the real API answers an unknown
parameter or field is not known, so the request is still answered as in lenient mode.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope

from roster.emulator.records import JsonDict

STRICT_ENV = "ROSTER_EMULATOR_STRICT"
_TRUE = frozenset({"1", "true", "yes", "on"})


def strict_by_default(environ: Mapping[str, str]) -> bool:
    """Whether ``ROSTER_EMULATOR_STRICT`` asks for strict mode (the test suite sets it)."""
    return environ.get(STRICT_ENV, "").strip().lower() in _TRUE


@dataclass(frozen=True, slots=True)
class Contract:
    """What one route accepts: query parameter names (arrays as ``name[]``) and body fields.

    ``body`` None means the request takes no body at all.
    """

    query: frozenset[str]
    body: frozenset[str] | None


def contract(*query: str, body: Iterable[str] | None = None) -> Contract:
    return Contract(frozenset(query), None if body is None else frozenset(body))


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a request broke its route's contract."""

    method: str
    path: str
    problem: str
    request_id: str

    def to_json(self) -> JsonDict:
        return {
            "method": self.method,
            "path": self.path,
            "problem": self.problem,
            "request_id": self.request_id,
        }


def query_problems(query_string: bytes, allowed: frozenset[str]) -> list[str]:
    """Unknown, bare-array and repeated scalar parameters, each named once."""
    if not query_string:
        return []
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    counts = Counter(name for name, _ in pairs)
    return [
        problem for name, count in counts.items() if (problem := _problem(name, count, allowed))
    ]


def _problem(name: str, count: int, allowed: frozenset[str]) -> str:
    if name not in allowed:
        return _unknown_parameter(name, allowed)
    if count > 1 and not name.endswith("[]"):
        return f"query parameter {name!r} is given {count} times"
    return ""


def _unknown_parameter(name: str, allowed: frozenset[str]) -> str:
    if f"{name}[]" in allowed:
        return f"query parameter {name!r} is an array: send it as {name}[]=..."
    return f"unknown query parameter {name!r}"


def body_problems(
    body: bytes, content_type: str | None, fields: frozenset[str] | None
) -> list[str]:
    """A body where none is taken, a content type other than JSON, and unknown fields."""
    if not body:
        return []
    if fields is None:
        return ["this request takes no body"]
    problems = []
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        shown = repr(content_type) if content_type else "none"
        problems.append(f"body sent with content-type {shown}, not application/json")
    return problems + _field_problems(body, fields)


def _field_problems(body: bytes, fields: frozenset[str]) -> list[str]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return ["the body is not valid JSON"]
    if not isinstance(parsed, dict):
        return ["the body is not a JSON object"]
    return [f"unknown body field {name!r}" for name in parsed if name not in fields]


async def request_problems(
    scope: Scope, receive: Receive, rules: Contract
) -> tuple[list[str], Receive]:
    """How the request breaks ``rules``, and a ``receive`` that still yields its body."""
    problems = query_problems(scope.get("query_string", b""), rules.query)
    body, receive = await read_body(receive)
    content_type = Headers(scope=scope).get("content-type")
    return problems + body_problems(body, content_type, rules.body), receive


async def read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it on to the app unchanged."""
    chunks: list[bytes] = []
    first: Message = {"type": "http.request", "body": b"", "more_body": False}
    while True:
        message = await receive()
        if message["type"] != "http.request":
            first = message
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if first["type"] == "http.request":
        first = {"type": "http.request", "body": body, "more_body": False}
    return body, _replaying(first, receive)


def _replaying(first: Message, receive: Receive) -> Receive:
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return first

    return replay
