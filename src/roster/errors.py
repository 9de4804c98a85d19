"""roster's exceptions: every failure a user can cause or meet, and the exit code it ends with.

The CLI turns any ``RosterError`` into a one-line ``Error: ...`` on stderr and ``exit_code``;
a user never sees a traceback for a known failure.

    RosterError
    ├── ConfigError            a roster file is broken (file, line, column, every problem found)
    ├── CredentialError        no admin key, an unreadable key file, a key sent in clear
    ├── ApiError               the Admin API answered with an error, or could not be reached
    │   ├── InvalidRequestError      400 invalid_request_error
    │   ├── AuthenticationError      401 authentication_error
    │   ├── PermissionDeniedError    403 permission_error
    │   ├── NotFoundError            404 not_found_error
    │   ├── ConflictError            409 conflict_error
    │   ├── RateLimitError           429 rate_limit_error
    │   ├── ServerError              5xx and 529
    │   ├── ConnectionFailedError    no HTTP answer at all (refused, dropped, timed out)
    │   └── UnexpectedAnswerError    an answer roster cannot read (a field missing or not text)
    ├── UnsafePlanError        a safety guard refused the plan (exit code 3)
    ├── StalePlanError         a saved plan no longer matches the organization
    └── SourceError            a directory source could not be read (sync-groups)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from roster.untrusted import printable

EXIT_ERROR = 1
EXIT_CHANGES_PRESENT = 2
EXIT_UNSAFE = 3
EXIT_THRESHOLD = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C


class RosterError(Exception):
    """Base of every error roster reports to the user as one line."""

    exit_code = EXIT_ERROR


class CredentialError(RosterError):
    """The admin key is missing, unreadable, or would be sent where it could leak."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a roster file, located as precisely as the parser allows."""

    message: str
    line: int | None = None
    column: int | None = None
    file: str | None = None

    def located(self, path: str | None = None) -> str:
        """``file:line:column: message``, with what is known of the place."""
        where = path if path is not None else self.file or "."
        if self.line is not None:
            where = f"{where}:{self.line}"
            if self.column is not None:
                where = f"{where}:{self.column}"
        return f"{where}: {self.message}"

    def in_file(self, path: str) -> Problem:
        return self if self.file is not None else replace(self, file=path)


class ConfigError(RosterError):
    """Roster files cannot be used; carries every problem found, across files, in order.

    ``str()`` is the first problem on one line with a count of the rest; the CLI shows them all.
    """

    def __init__(self, path: str | None, problems: Sequence[Problem]) -> None:
        self.problems = tuple(
            problem if path is None else problem.in_file(path) for problem in problems
        )
        first = self.problems[0]
        self.path = first.file or "."
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        # One line whatever the file holds: a name in it may carry a newline or an escape.
        super().__init__(printable(first.located() + suffix))

    @property
    def files(self) -> tuple[str, ...]:
        """The files with a problem, in the order of the problems."""
        return tuple(dict.fromkeys(problem.file or "." for problem in self.problems))

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def column(self) -> int | None:
        return self.problems[0].column


class ApiError(RosterError):
    """The Admin API refused a request or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        error_type: str | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.message = message
        self.method = method
        self.path = path
        self.status = status
        self.error_type = error_type
        self.error_code = error_code
        self.request_id = request_id
        self.attempts = attempts
        super().__init__(message)

    def __str__(self) -> str:
        parts = [f"{self.method} {self.path}".strip()]
        if self.status is not None:
            parts.append(str(self.status))
        code = self.error_code or self.error_type
        head = " ".join(p for p in parts if p)
        text = f"{head}: {self.message}" if head else self.message
        if code and code not in self.message:
            text += f" [{code}]"
        if self.attempts > 1:
            text += f" (after {self.attempts} attempts)"
        if self.request_id:
            text += f" (request-id {self.request_id})"
        return text


class InvalidRequestError(ApiError):
    """400: the API rejected the request's content (a business rule, a bad value)."""


class AuthenticationError(ApiError):
    """401: the key is missing, malformed, revoked or expired."""


class PermissionDeniedError(ApiError):
    """403: the key is valid but may not do this (not an admin key, or the plan lacks access)."""


class NotFoundError(ApiError):
    """404: the id does not exist in this organization."""


class ConflictError(ApiError):
    """409: a concurrent change or a unique value already in use."""


class RateLimitError(ApiError):
    """429: too many requests, still refused after every retry."""


class ServerError(ApiError):
    """5xx or 529: the API failed or was overloaded, still after every retry."""


class ConnectionFailedError(ApiError):
    """No HTTP answer at all: connection refused, dropped, or timed out after every retry."""


class UnexpectedAnswerError(ApiError):
    """The API answered, but not in the documented shape: a field missing or of another type."""


class UnsafePlanError(RosterError):
    """A safety guard refused the plan; ``--force`` or a policy change is needed."""

    exit_code = EXIT_UNSAFE


class StalePlanError(RosterError):
    """A saved plan was computed from a state that has changed since; ``drift`` says how."""

    def __init__(self, message: str, drift: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.drift = tuple(drift)


class SourceError(RosterError):
    """A directory source could not be read: a failed bind, a wrong base DN, a TLS failure, an
    unknown group, an entry without an email. The message names the source, never its secret."""
