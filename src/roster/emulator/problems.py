"""The one exception the store and the routes raise to answer with an API error envelope."""

from __future__ import annotations

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


class ApiProblem(Exception):
    """An error the emulated API answers with: status, ``error.type`` and ``details.error_code``."""

    def __init__(
        self,
        status: int,
        message: str,
        error_code: str | None = None,
        *,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.should_retry = should_retry
        self.status = status
        self.message = message
        self.error_code = error_code
        self.error_type = ERROR_TYPES.get(status, "invalid_request_error")


def invalid(message: str, error_code: str | None = None) -> ApiProblem:
    return ApiProblem(400, message, error_code)


def not_found(what: str, object_id: str) -> ApiProblem:
    return ApiProblem(404, f"{what} {object_id!r} not found")
