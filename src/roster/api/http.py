"""The one place roster speaks HTTP to the Admin API: retries, pacing, and error mapping.

Every httpx failure and every error response becomes an ``ApiError`` here, and nowhere else.
A request that may have been acted upon before it failed (a dropped connection, a 500) is never
blindly re-sent when it creates something: the caller's ``recover`` re-reads first. Each attempt,
retry and wait is told to an observer (``roster.progress``); the debug log is one more of them.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

from roster import __version__
from roster.api.pacing import Pacer, PacingPolicy
from roster.credentials import Secret
from roster.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    ConnectionFailedError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedAnswerError,
)
from roster.progress import Answered, Event, Observer, Retrying, Waiting, both, silent
from roster.untrusted import printable, without_keys

JSON = dict[str, Any]
Params = Sequence[tuple[str, str]]
Recover = Callable[[], Awaitable[JSON | None]]

API_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"
USER_AGENT = f"roster/{__version__} (+https://pypi.org/project/claude-roster/)"

log = logging.getLogger("roster.http")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
# Answers that prove the request was turned away before anything was done.
REFUSED_STATUSES = frozenset({429, 529})
REFUSED_ERROR_CODES = frozenset({"concurrent_membership_change"})
# Worth trying again whatever their status; change_outcome_unknown says so, but a create that
# got it may have been made, so it is looked up first like any other lost attempt. The 403
# api_key_requester_unconfirmed (SDK 2.15) may follow a partial effect, and the SDK documents
# sending the same request again as safe.
RETRYABLE_ERROR_CODES = REFUSED_ERROR_CODES | {
    "change_outcome_unknown",
    "api_key_requester_unconfirmed",
}
# Error codes whose message must not be wrapped in the status's generic advice: this 403 does
# not mean that the key is not an admin key.
NO_ADVICE_ERROR_CODES = frozenset({"api_key_requester_unconfirmed"})
# Transport failures that happen before the request leaves the machine.
UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}
_ADVICE = {
    401: "the Admin API did not accept the key; use an Admin API key (sk-ant-admin01-...) "
    "that has not been revoked, from Console > Settings > Admin keys",
    403: "the key may not do this: it is not an admin key, or the organization's plan "
    "has no access to the Admin API",
    404: "not found: the id does not exist in this organization",
    429: "rate limited by the Admin API; slow down (lower --max-concurrency or set --max-rps) "
    "and try again later",
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry; delays in seconds."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    # Refusals (429, 529) prove nothing was done, so they get a budget of their own: a busy
    # API slows roster down rather than failing its changes.
    max_refusals: int = 10
    # The longest one attempt may take, answer included, however the server trickles it.
    attempt_deadline: float = 60.0


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed attempt, classified for the retry decision."""

    error: ApiError
    retryable: bool
    maybe_applied: bool
    retry_after: float | None = None


class AdminKeyAuth(httpx.Auth):
    """Adds the admin key to each request; its repr never shows the key."""

    def __init__(self, key: Secret) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["x-api-key"] = self._key.reveal()
        yield request

    def __repr__(self) -> str:
        return "AdminKeyAuth(<redacted>)"


def make_http_client(
    base_url: str,
    key: Secret,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` with the Admin API's headers and the key as auth."""
    return httpx.AsyncClient(
        base_url=base_url,
        auth=AdminKeyAuth(key),
        headers={"anthropic-version": API_VERSION, "user-agent": USER_AGENT},
        timeout=httpx.Timeout(timeout, connect=5.0),
        transport=transport,
    )


class Requester:
    """Sends requests with bounded concurrency, pacing and retries; returns JSON or raises.

    ``observer`` hears of every attempt, retry and wait, as the debug log does.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 8,
        max_rps: float | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        pacing: PacingPolicy | None = None,
        observer: Observer = silent,
    ) -> None:
        self._http = http
        self.observer = observer
        self._tell = both(log_answer, observer)
        self._retry = retry or RetryPolicy()
        self.max_concurrency = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        self.pacer = Pacer(max_rps, policy=pacing, clock=clock, sleep=sleep)
        self._rng = rng or random.Random()
        self._wall_clock = wall_clock
        self.attempts = 0
        # The server's clock, as its latest answer's Date header gave it (None: no answer yet).
        self.server_date: datetime | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: JSON | None = None,
        recover: Recover | None = None,
    ) -> JSON:
        """Send, retrying what is safe to retry; ``recover`` finds what a lost create made."""
        maybe_applied = False
        tries = _Tries(self._retry)
        not_before = -math.inf
        while True:
            outcome = await self._attempt(method, path, params, body, not_before)
            if not isinstance(outcome, Failure):
                return outcome
            if maybe_applied:
                settled = await _settle(method, outcome.error, recover)
                if settled is not None:
                    return settled
            if not outcome.retryable or tries.exhausted_by(outcome):
                raise _final(outcome.error, tries.total)
            if outcome.maybe_applied:
                maybe_applied = True
                found = await recover() if recover is not None else None
                if found is not None:
                    return found
            delay = self._delay(tries.total, outcome.retry_after)
            self._tell(_retrying(method, path, outcome.error, tries.total + 1, delay))
            not_before = self.pacer.clock() + delay

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: JSON | None,
        not_before: float,
    ) -> JSON | Failure:
        await self.pacer.until(not_before)  # this request's own backoff, outside any slot
        async with self._slots:
            # The turn is taken once a slot is held: a start is never booked while waiting.
            started = await self.pacer.turn()
            self.attempts += 1
            try:
                # httpx bounds each read, not the whole answer: a server that sends a byte at a
                # time would hold roster for ever.
                response = await asyncio.wait_for(
                    self._http.request(method, path, params=list(params or ()), json=body),
                    timeout=self._retry.attempt_deadline,
                )
            except httpx.InvalidURL:
                # An id the API gave holds a character no URL may: no request can name it.
                raise UnexpectedAnswerError(
                    "the path holds a character no URL may hold (an id the API gave?);"
                    " nothing was sent",
                    method=method,
                    path=path,
                ) from None
            except (httpx.HTTPError, asyncio.TimeoutError) as exc:  # transport errors, bad bodies
                self._answered(method, path, params, started, error=type(exc).__name__)
                failure = _timed_out(self._retry) if isinstance(exc, asyncio.TimeoutError) else exc
                return _transport_failure(failure, method, path, self._http.base_url)
        self._answered(method, path, params, started, response=response)
        return self._outcome(response, method, path, started)

    def _outcome(
        self, response: httpx.Response, method: str, path: str, started: float
    ) -> JSON | Failure:
        if response.status_code == 429:
            failure = _response_failure(response, method, path, self._wall_clock)
            fallback = self._delay(1, None)  # a 429 without retry-after: a first backoff
            wait = min(failure.retry_after or fallback, self._retry.max_retry_after)
            self.pacer.refused(started, wait)
            self._tell(Waiting(wait, method, path, asked=failure.retry_after is not None))
            return failure
        self.pacer.answered(started)
        if response.is_success:
            return _json_body(response, method, path)
        return _response_failure(response, method, path, self._wall_clock)

    def _answered(
        self,
        method: str,
        path: str,
        params: Params | None,
        started: float,
        *,
        response: httpx.Response | None = None,
        error: str | None = None,
    ) -> None:
        if response is not None:
            self.server_date = _date_of(response) or self.server_date
        self._tell(
            Answered(
                method,
                path,
                tuple(params or ()),
                status=response.status_code if response is not None else None,
                request_id=response.headers.get("request-id") if response is not None else None,
                error=error,
                elapsed=self.pacer.clock() - started,
            )
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        policy = self._retry
        if retry_after is not None:
            # Never sooner than asked; a little later at random, so that requests refused
            # together do not all come back in the same instant.
            spread: float = self._rng.uniform(0.0, 0.2)
            return min(max(retry_after, 0.0) * (1 + spread), policy.max_retry_after)
        backoff = min(policy.base_delay * 2.0 ** (attempt - 1), policy.max_delay)
        jitter: float = self._rng.uniform(0.75, 1.0)
        return backoff * jitter


class _Tries:
    """Counts attempts: refusals and other failures each against their own budget."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self.total = 0
        self._failures = 0
        self._refusals = 0

    def exhausted_by(self, outcome: Failure) -> bool:
        """Count ``outcome``; True when its budget allows no further attempt."""
        self.total += 1
        if _was_refused(outcome.error):
            self._refusals += 1
            return self._refusals >= self._policy.max_refusals
        self._failures += 1
        return self._failures >= self._policy.max_attempts


async def _settle(method: str, error: ApiError, recover: Recover | None) -> JSON | None:
    """After a lost attempt, some refusals mean the earlier attempt did the work."""
    if method == "DELETE" and error.status == 404:
        return {}
    if recover is not None and error.status in {400, 409}:
        return await recover()
    return None


def _final(error: ApiError, attempts: int) -> ApiError:
    error.attempts = attempts
    return error


def _retrying(method: str, path: str, error: ApiError, attempt: int, delay: float) -> Retrying:
    code = error.error_code or error.error_type
    if error.status is None:
        reason = error.message
    else:
        reason = f"{error.status} {code}" if code else str(error.status)
    return Retrying(method, path, reason, error.status, attempt, delay)


def log_answer(event: Event) -> None:
    """The ``--debug`` log: a line per attempt on the ``roster.http`` logger, never the key."""
    if not isinstance(event, Answered) or not log.isEnabledFor(logging.DEBUG):
        return
    query = "&".join(f"{k}={v}" for k, v in event.params)
    if event.status is None:
        result = f"failed: {event.error}"
    else:
        request_id = event.request_id if event.request_id is not None else "-"
        result = f"{event.status} (request-id {request_id})"
    # Ids and values in a path, and the request-id in the result, come from the API and the
    # files: the log is read by people.
    target = printable(without_keys(f"{event.path}?{query}" if query else event.path))
    shown = printable(without_keys(result))
    log.debug("%s %s -> %s in %.0f ms", event.method, target, shown, event.elapsed * 1000)


def _json_body(response: httpx.Response, method: str, path: str) -> JSON:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise ServerError(
            "the API answered with something that is not a JSON object",
            method=method,
            path=path,
            status=response.status_code,
            request_id=response.headers.get("request-id"),
        )
    return data


def _date_of(response: httpx.Response) -> datetime | None:
    """The instant a response's Date header names, in UTC; None when it has none that reads."""
    try:
        moment = email.utils.parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo is not None else None


def _timed_out(policy: RetryPolicy) -> httpx.ReadTimeout:
    return httpx.ReadTimeout(f"no complete answer within {policy.attempt_deadline:g} s")


def _transport_failure(exc: httpx.HTTPError, method: str, path: str, base: httpx.URL) -> Failure:
    reason = str(exc) or type(exc).__name__
    # Only scheme://host[:port]: whatever else the base URL holds is not for error messages.
    origin = f"{base.scheme}://{base.netloc.decode('ascii')}"
    unsent = (httpx.ConnectTimeout, httpx.PoolTimeout)
    reached = isinstance(exc, httpx.TimeoutException) and not isinstance(exc, unsent)
    what = f"no answer in time from {origin}" if reached else f"could not reach {origin}"
    error = ConnectionFailedError(f"{what}: {reason}", method=method, path=path)
    return Failure(error, retryable=True, maybe_applied=not isinstance(exc, UNSENT_ERRORS))


def _response_failure(
    response: httpx.Response, method: str, path: str, wall_clock: Callable[[], float]
) -> Failure:
    error = api_error_from(response, method, path)
    return Failure(
        error,
        retryable=_is_retryable(response, error),
        maybe_applied=not _was_refused(error),
        retry_after=retry_after_seconds(response.headers, wall_clock),
    )


def _is_retryable(response: httpx.Response, error: ApiError) -> bool:
    override = response.headers.get("x-should-retry")
    if override in {"true", "false"}:
        return bool(override == "true")
    return bool(error.status in RETRYABLE_STATUSES or error.error_code in RETRYABLE_ERROR_CODES)


def _was_refused(error: ApiError) -> bool:
    return bool(error.status in REFUSED_STATUSES or error.error_code in REFUSED_ERROR_CODES)


def api_error_from(response: httpx.Response, method: str, path: str) -> ApiError:
    """The ``ApiError`` subclass for an error response, with the API's own words and codes."""
    status = response.status_code
    envelope = _error_envelope(response)
    details = envelope.get("details") if isinstance(envelope.get("details"), dict) else {}
    # The API's own words, less anything key-like: a proxy may quote the header it refused.
    message = without_keys(str(envelope.get("message") or f"HTTP {status}"))
    error_code = _str_or_none(details.get("error_code")) if details else None
    if status in _ADVICE and error_code not in NO_ADVICE_ERROR_CODES:
        message = f"{_ADVICE[status]} (API said: {message})"
    cls = _ERROR_CLASSES.get(status, ServerError if status >= 500 else InvalidRequestError)
    return cls(
        message,
        method=method,
        path=path,
        status=status,
        error_type=_str_or_none(envelope.get("type")),
        error_code=error_code,
        request_id=response.headers.get("request-id") or _request_id_in_body(response),
    )


def _error_envelope(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _request_id_in_body(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return _str_or_none(body.get("request_id")) if isinstance(body, dict) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def retry_after_seconds(
    headers: httpx.Headers, wall_clock: Callable[[], float] = time.time
) -> float | None:
    """The server's requested wait: ``retry-after-ms`` first, then ``retry-after``."""
    millis = _float_or_none(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _float_or_none(value)
    if seconds is not None:
        return seconds
    return _seconds_until_http_date(value, wall_clock())


def _float_or_none(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    # "nan" and "inf" parse as floats; a wait of either would never end.
    return number if number is not None and math.isfinite(number) and number >= 0 else None


def _seconds_until_http_date(value: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)
