"""The emulator's control plane: latency, rate limiting, injected faults, the request log and
strict mode's contract violations.

All of it is off by default (strict mode: unless ``ROSTER_EMULATOR_STRICT`` says otherwise) and
costs one or two attribute checks per request while off.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from roster.emulator.limits import Clock, TokenBucket, Windows
from roster.emulator.problems import invalid
from roster.emulator.records import JsonDict
from roster.emulator.strict import Violation, strict_by_default

# The random faults by default; requester_unconfirmed (SDK 2.15's 403) only when asked for.
FAULT_KINDS = ("500", "503", "529", "drop_before", "drop_after")
RANDOM_FAULT_KINDS = (*FAULT_KINDS, "requester_unconfirmed")
QUEUED_FAULT_KINDS = frozenset({*RANDOM_FAULT_KINDS, "429"})
LOG_CAPACITY = 100_000
# Lists that collect every Control created while they are watched (see ``watch_controls``).
_watchers: list[list[Control]] = []


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure; ``retry_after`` (seconds) only matters for a 429."""

    kind: str
    method: str | None = None
    path: str | None = None
    retry_after: float | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path is None or self.path == path
        )


@dataclass(frozen=True, slots=True)
class LogEntry:
    seq: int
    method: str
    path: str
    query: str
    status: int | None
    request_id: str
    fault: str | None

    def to_json(self) -> JsonDict:
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "request_id": self.request_id,
            "fault": self.fault,
        }


@dataclass
class RequestLog:
    """The last ``LOG_CAPACITY`` API requests, and exact counters over all of them."""

    entries: deque[LogEntry] = field(default_factory=lambda: deque(maxlen=LOG_CAPACITY))
    total: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    def record(self, entry: LogEntry, route: str) -> None:
        self.entries.append(entry)
        self.total += 1
        self.by_route[route] += 1
        if entry.status is not None:
            self.by_status[str(entry.status)] += 1
        if entry.fault is not None:
            self.faults[entry.fault] += 1

    def clear(self) -> None:
        self.entries.clear()
        self.total = 0
        self.by_status.clear()
        self.by_route.clear()
        self.faults.clear()

    def to_json(self) -> JsonDict:
        return {
            "requests": [entry.to_json() for entry in self.entries],
            "counters": {
                "total": self.total,
                "by_status": dict(sorted(self.by_status.items())),
                "by_route": dict(sorted(self.by_route.items())),
                "faults": dict(sorted(self.faults.items())),
            },
        }


def retry_after_headers(seconds: float) -> dict[str, str]:
    """``retry-after`` in whole seconds (at least 1) and the precise ``retry-after-ms``."""
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(max(1, math.ceil(seconds * 1000))),
    }


@contextmanager
def watch_controls() -> Iterator[list[Control]]:
    """Every ``Control`` created inside the block: the test suite checks their violations."""
    created: list[Control] = []
    _watchers.append(created)
    try:
        yield created
    finally:
        # By identity: a nested watcher's list may equal this one, and must not be the one taken.
        index = next(i for i, watcher in enumerate(_watchers) if watcher is created)
        del _watchers[index]


class Control:
    """The settings behind ``/_emulator/config`` and ``/_emulator/faults``, the request log
    and the violations strict mode found."""

    def __init__(self, *, strict: bool | None = None, clock: Clock = time.monotonic) -> None:
        self.strict = strict_by_default(os.environ) if strict is None else strict
        self.violations: deque[Violation] = deque(maxlen=LOG_CAPACITY)
        self.clock = clock
        self.latency_ms = 0.0
        self.rate_limit_rps: float | None = None
        self.rate_limit_per_second: int | None = None
        self.rate_limit_per_minute: int | None = None
        self._windows: Windows | None = None
        self.fault_rate = 0.0
        self.fault_kinds: tuple[str, ...] = FAULT_KINDS
        self.fault_seed = 0
        self.log = RequestLog()
        self.queued: deque[Fault] = deque()
        self._rng = random.Random(0)
        self._bucket: TokenBucket | None = None
        self._seq = 0
        for watcher in _watchers:
            watcher.append(self)

    def config_json(self) -> JsonDict:
        return {
            "strict": self.strict,
            "latency_ms": self.latency_ms,
            "rate_limit_rps": self.rate_limit_rps,
            "rate_limit_per_second": self.rate_limit_per_second,
            "rate_limit_per_minute": self.rate_limit_per_minute,
            "fault_rate": self.fault_rate,
            "fault_kinds": list(self.fault_kinds),
            "fault_seed": self.fault_seed,
        }

    def configure(self, changes: JsonDict) -> None:
        """Apply a partial config; the fault generator restarts from ``fault_seed``."""
        unknown = set(changes) - set(self.config_json())
        if unknown:
            raise invalid(f"unknown config keys: {sorted(unknown)}")
        self.strict = _boolean(changes.get("strict", self.strict), "strict")
        self.latency_ms = _non_negative(changes.get("latency_ms", self.latency_ms), "latency_ms")
        self._set_rate_limit(changes.get("rate_limit_rps", self.rate_limit_rps))
        self._set_windows(
            changes.get("rate_limit_per_second", self.rate_limit_per_second),
            changes.get("rate_limit_per_minute", self.rate_limit_per_minute),
        )
        self.fault_rate = _probability(changes.get("fault_rate", self.fault_rate))
        self.fault_kinds = _fault_kinds(changes.get("fault_kinds", self.fault_kinds))
        self.fault_seed = _integer(changes.get("fault_seed", self.fault_seed), "fault_seed")
        self._rng = random.Random(self.fault_seed)

    def _set_rate_limit(self, rps: Any) -> None:
        if rps is None:
            self.rate_limit_rps, self._bucket = None, None
            return
        rate = _non_negative(rps, "rate_limit_rps")
        if rate == 0:
            raise invalid("rate_limit_rps: must be positive, or null for no limit")
        if rate != self.rate_limit_rps:
            self.rate_limit_rps, self._bucket = rate, TokenBucket(rate, self.clock)

    def _set_windows(self, per_second: Any, per_minute: Any) -> None:
        limits = (
            _count(per_second, "rate_limit_per_second"),
            _count(per_minute, "rate_limit_per_minute"),
        )
        if limits == (self.rate_limit_per_second, self.rate_limit_per_minute):
            return
        self.rate_limit_per_second, self.rate_limit_per_minute = limits
        enabled = any(limit is not None for limit in limits)
        self._windows = Windows(*limits, clock=self.clock) if enabled else None

    def throttle(self) -> dict[str, str] | None:
        """None if the rate limits let this request through, else the headers of its 429."""
        for limiter in (self._bucket, self._windows):
            refusal = limiter.take() if limiter is not None else None
            if refusal is not None:
                return refusal
        return None

    def queue_faults(self, raw: Any) -> list[Fault]:
        if not isinstance(raw, list):
            raise invalid("faults: expected a list")
        faults = [_fault(item) for item in raw]
        self.queued.extend(faults)
        return faults

    def next_fault(self, method: str, path: str) -> Fault | None:
        """The first queued fault matching this request (consumed), else maybe a random one."""
        if self.queued:
            for fault in self.queued:
                if fault.matches(method, path):
                    self.queued.remove(fault)
                    return fault
        if self.fault_rate and self._rng.random() < self.fault_rate:
            return Fault(self._rng.choice(self.fault_kinds))
        return None

    def record_violations(self, violations: list[Violation]) -> None:
        self.violations.extend(violations)

    def violations_json(self) -> JsonDict:
        return {"violations": [violation.to_json() for violation in self.violations]}

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq


def _fault(item: Any) -> Fault:
    if not isinstance(item, dict) or item.get("kind") not in QUEUED_FAULT_KINDS:
        raise invalid(f"faults: each needs a kind among {sorted(QUEUED_FAULT_KINDS)}")
    retry_after = item.get("retry_after")
    return Fault(
        kind=item["kind"],
        method=item.get("method"),
        path=item.get("path"),
        retry_after=None if retry_after is None else _non_negative(retry_after, "retry_after"),
    )


def _non_negative(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise invalid(f"{name}: expected a non-negative number")
    return float(value)


def _boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise invalid(f"{name}: expected true or false")
    return value


def _count(value: Any, name: str) -> int | None:
    """A positive whole number of requests, or None for no limit."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(f"{name}: expected a positive whole number, or null for no limit")
    return value


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{name}: expected an integer")
    return value


def _probability(value: Any) -> float:
    rate = _non_negative(value, "fault_rate")
    if rate > 1:
        raise invalid("fault_rate: expected a probability between 0 and 1")
    return rate


def _fault_kinds(value: Any) -> tuple[str, ...]:
    kinds = tuple(value) if isinstance(value, list | tuple) else ()
    if not kinds or not set(kinds) <= set(RANDOM_FAULT_KINDS):
        raise invalid(f"fault_kinds: a non-empty list drawn from {list(RANDOM_FAULT_KINDS)}")
    return kinds
