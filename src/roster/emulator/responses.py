"""JSON responses and the API error envelope (admin-api.md §4)."""

from __future__ import annotations

import random

from starlette.responses import JSONResponse

from roster.emulator.ids import encode
from roster.emulator.problems import ApiProblem
from roster.emulator.records import JsonDict

_request_ids = random.Random()


def new_request_id() -> str:
    return "req_011C" + encode(_request_ids.getrandbits(128))[-20:]


def error_body(problem: ApiProblem, request_id: str) -> JsonDict:
    error: JsonDict = {"type": problem.error_type, "message": problem.message}
    if problem.error_code is not None:
        error["details"] = {"error_code": problem.error_code}
    return {"type": "error", "error": error, "request_id": request_id}


def error_response(
    problem: ApiProblem, request_id: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    if problem.should_retry is not None:
        # The official SDK retries 409s unless told otherwise (admin-api.md §18).
        headers = {**(headers or {}), "x-should-retry": str(problem.should_retry).lower()}
    return JSONResponse(error_body(problem, request_id), problem.status, headers=headers)
