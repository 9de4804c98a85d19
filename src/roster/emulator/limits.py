"""The emulator's rate limits: how a server refuses requests over its limit with 429.

Two shapes. ``TokenBucket`` (``rate_limit_rps``) refills continuously and says how long to wait
to the millisecond (``retry-after-ms``). ``Windows`` (``rate_limit_per_second`` and
``rate_limit_per_minute``) counts the requests it let through in the last second and the last
minute, as many real servers do, and says when to come back in whole seconds only
(``retry-after``), which is all a client may get. Both read an injected monotonic clock.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable

Clock = Callable[[], float]
Headers = dict[str, str]


class TokenBucket:
    """``rate`` requests per second, bursting to ``max(1, rate)``."""

    def __init__(self, rate: float, clock: Clock) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()

    def take(self) -> Headers | None:
        """None if a request may pass now, else the headers of its 429."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        wait = (1.0 - self.tokens) / self.rate
        return {"retry-after": _whole_seconds(wait), "retry-after-ms": str(math.ceil(wait * 1000))}


class Windows:
    """At most ``per_second`` requests in any second and ``per_minute`` in any minute (sliding)."""

    def __init__(self, per_second: int | None, per_minute: int | None, clock: Clock) -> None:
        self.limits = [(1.0, limit) for limit in [per_second] if limit is not None]
        self.limits += [(60.0, limit) for limit in [per_minute] if limit is not None]
        self.clock = clock
        self.passed: list[float] = []  # when each request let through arrived, oldest first

    def take(self) -> Headers | None:
        now = self.clock()
        if len(self.passed) > 4096:  # forget what no window can see, now and then
            del self.passed[: bisect.bisect_right(self.passed, now - 60.0)]
        wait = max((self._wait(now, span, limit) for span, limit in self.limits), default=0.0)
        if wait > 0:
            return {"retry-after": _whole_seconds(wait)}
        self.passed.append(now)
        return None

    def _wait(self, now: float, span: float, limit: int) -> float:
        """How long until one more request fits in this window (0: it fits now)."""
        inside = len(self.passed) - bisect.bisect_right(self.passed, now - span)
        if inside < limit:
            return 0.0
        return self.passed[len(self.passed) - limit] + span - now


def _whole_seconds(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
