"""When each request may start: the one waiting mechanism of the request layer.

A request waits for its own backoff (``until``), takes a concurrency slot, then waits for its
turn (``turn``), computed from the state at that moment and never booked ahead: the pause a 429
asked for, and the spacing of the allowed rate. The rate is found as it goes (additive increase,
multiplicative decrease): unknown until the first 429, then just under what the server was seen
to allow, held there, and raised slowly once no refusal has come for a while, in case the limit
grew. Everything reads one injected clock, so the pacing runs the same on a fake one.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PacingPolicy:
    """How the allowed rate is estimated and followed."""

    # The share of the rate a server was seen to allow that roster keeps to: just under it.
    under: float = 0.97
    # Over how many trailing seconds the allowed rate is measured; each counts once the run has
    # lasted that long, and the lowest reading wins (a per-minute limit shows only over a minute).
    windows: tuple[float, ...] = (1.0, 10.0, 60.0)
    # After this long without a refusal the rate is raised, by ``increase`` per second.
    hold: float = 60.0
    increase: float = 1.0
    slowest: float = 0.2
    # A waiting request reads the state again at least this often: a rate that rose, or a pause
    # that came, applies to it at once rather than at the start it first computed.
    recheck: float = 0.25


class Pacer:
    """Request starts: after a 429's pause, ``1 / rate`` apart once a limit was met."""

    def __init__(
        self,
        max_rps: float | None = None,
        *,
        policy: PacingPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.policy = policy or PacingPolicy()
        self.clock = clock
        self._sleep = sleep
        self._ceiling = max_rps or math.inf
        self.rate: float | None = None  # None: no limit met yet
        self._paused_until = -math.inf
        self._last_start = -math.inf
        self._last_cut = -math.inf
        self._first_start: float | None = None
        self._answered: deque[float] = deque()  # start times of the requests the server took
        self._cut_before: float | None = None  # a refusal's start: the cut waits for the pause

    @property
    def interval(self) -> float:
        """The spacing of request starts now (0: as fast as the concurrency allows)."""
        rate = min(self.rate if self.rate is not None else math.inf, self._ceiling)
        return 0.0 if math.isinf(rate) else 1.0 / rate

    async def until(self, moment: float) -> None:
        """Wait until ``moment``: one request's own backoff."""
        remaining = moment - self.clock()
        if remaining > 0:
            await self._sleep(remaining)

    async def turn(self) -> float:
        """Wait for the next start this state allows, take it, and say when it is."""
        now = self.clock()
        while (earliest := self._earliest(now)) > now:
            step = min(earliest - now, self.policy.recheck)
            await self._sleep(step)
            # At least the time slept has passed, whatever a test's clock says.
            now = max(self.clock(), now + step)
        # The slot kept, not the moment woken: a sleep that ends a little late does not push every
        # later start back. After a longer gap the spacing starts afresh: no burst to catch up.
        slot = self._last_start + self.interval
        self._last_start = slot if now < slot + self.interval else now
        if self._first_start is None:
            self._first_start = now
        return now

    def _earliest(self, now: float) -> float:
        if self._cut_before is not None and now >= self._paused_until:
            self._cut(self._cut_before)
        return max(self._paused_until, self._last_start + self.interval)

    def answered(self, started: float) -> None:
        """A request that started at ``started`` was taken (not refused for the rate)."""
        now = self.clock()
        self._answered.append(started)
        while self._answered and self._answered[0] < now - max(self.policy.windows):
            self._answered.popleft()
        if self.rate is not None and now - self._last_cut >= self.policy.hold:
            self.rate += self.policy.increase * self.interval  # about ``increase`` per second

    def refused(self, started: float, retry_after: float) -> None:
        """A 429 for a request that started at ``started``: everyone pauses, the rate is cut."""
        now = self.clock()
        self._paused_until = max(self._paused_until, now + max(retry_after, 0.0))
        if started <= self._last_cut:
            return  # in flight before the last cut: the same refusal, not a new one
        self._last_cut = now
        # Requests that started before this one may still be on their way back, taken: the
        # rate is counted once the pause is over, when they are all in.
        self._cut_before = started

    def _cut(self, before: float) -> None:
        self._cut_before = None
        allowed = self._allowed(before)
        if allowed == 0:
            return  # refused before any was taken: the limit is someone else's too; just wait
        current = self.rate if self.rate is not None else math.inf
        self.rate = max(self.policy.slowest, min(current, allowed) * self.policy.under)

    def _allowed(self, before: float) -> float:
        """The rate the server took requests at up to ``before``, over each trailing window
        the run had lasted by then."""
        lasted = before - (self._first_start if self._first_start is not None else before)
        windows = [w for w in self.policy.windows if w <= max(lasted, self.policy.windows[0])]
        taken = [t for t in self._answered if t <= before]
        return min(sum(1 for t in taken if t > before - w) / w for w in windows)
