"""Progress on stderr, from the events of ``roster.progress``: nothing long is silent.

On a terminal one live line says what is being read and how far it got, redrawn in place at most
ten times a second and cleared before anything else is printed and at the end. Elsewhere (a CI
log) a plain line at each phase's start and end, and at least every 5 s while one runs. Both say
when the API asked roster to wait, and when a request is retried. Every text passes through
``printable`` (paths carry ids from the API) and ``without_keys``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TextIO

from roster.progress import (
    Event,
    ItemsRead,
    PhaseFinished,
    PhaseStarted,
    Retrying,
    Waiting,
)
from roster.untrusted import printable, without_keys

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
# How often a live line may be redrawn, and how often a plain line says a phase still runs.
REDRAW_EVERY = 0.1
PLAIN_EVERY = 5.0
# How often the heartbeat lets the renderer catch up when no event comes (a slow request).
HEARTBEAT = 0.1
# A 429 that ends a pause already announced, give or take this, is the same pause.
SAME_PAUSE = 1.0
CLEAR_LINE = "\r\x1b[K"


@dataclass(slots=True)
class _Phase:
    total: int | None
    count: int | None = None

    def shown(self, label: str) -> str:
        if self.total is not None:
            return f"{label}: {self.count or 0:,}/{self.total:,}"
        return label if self.count is None else f"{label}: {self.count:,}"


class Progress(ABC):
    """The observer the CLI hands the client: keeps the running phases, prints what is due."""

    def __init__(self, stream: TextIO, *, clock: Clock = time.monotonic) -> None:
        self._stream = stream
        self._clock = clock
        self._phases: dict[str, _Phase] = {}
        self._pause_ends = -math.inf

    def __call__(self, event: Event) -> None:
        if isinstance(event, PhaseStarted):
            self._phases[event.label] = _Phase(event.total)
            self._started(event.label)
        elif isinstance(event, ItemsRead):
            if event.label in self._phases:
                self._phases[event.label].count = event.count
        elif isinstance(event, PhaseFinished):
            if event.label in self._phases:
                self._finished(self._phases.pop(event.label).shown(event.label))
        elif isinstance(event, Waiting):
            if self._is_new_pause(event.seconds):
                self._say(waiting_text(event))
        elif isinstance(event, Retrying) and event.status != 429:  # a 429 says Waiting
            self._say(retrying_text(event))
        self.tick()

    @abstractmethod
    def tick(self) -> None:
        """Catch up with the time: the heartbeat calls this while nothing else happens."""

    @abstractmethod
    def before_output(self) -> None:
        """Something else is about to print to stderr."""

    def close(self) -> None:
        """The command is done with the API: nothing may be left on the line."""
        self.before_output()

    def interrupting(self, echo: Callable[[str], None]) -> Callable[[str], None]:
        """``echo``, after making room for what it prints."""

        def echo_after(message: str) -> None:
            self.before_output()
            echo(message)

        return echo_after

    @abstractmethod
    def _started(self, label: str) -> None:
        """The phase ``label`` began."""

    @abstractmethod
    def _finished(self, shown: str) -> None:
        """A phase ended; ``shown`` is its label and final count."""

    @abstractmethod
    def _say(self, text: str) -> None:
        """A line worth keeping: a wait, a retry."""

    def _running(self) -> str:
        return "reading " + ", ".join(p.shown(label) for label, p in self._phases.items()) + "…"

    def _is_new_pause(self, seconds: float) -> bool:
        now = self._clock()
        ends = now + seconds
        if now < self._pause_ends and ends <= self._pause_ends + SAME_PAUSE:
            return False  # requests refused together: one pause, said once
        self._pause_ends = max(self._pause_ends, ends)
        return True

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()


class PlainProgress(Progress):
    """A line per phase start and end, a line at least every ``PLAIN_EVERY`` s while one runs."""

    def __init__(
        self, stream: TextIO, *, clock: Clock = time.monotonic, every: float = PLAIN_EVERY
    ) -> None:
        super().__init__(stream, clock=clock)
        self._every = every
        self._last_line = clock()

    def tick(self) -> None:
        if self._phases and self._clock() - self._last_line >= self._every:
            self._say(self._running())

    def before_output(self) -> None:
        """Nothing to make room for: every line is whole."""

    def _started(self, label: str) -> None:
        self._say(f"reading {self._phases[label].shown(label)}…")

    def _finished(self, shown: str) -> None:
        self._say(f"read {shown}")

    def _say(self, text: str) -> None:
        self._write(safe(text) + "\n")
        self._last_line = self._clock()


class LiveProgress(Progress):
    """One line redrawn in place while phases run; other lines are printed above it."""

    def __init__(
        self,
        stream: TextIO,
        *,
        clock: Clock = time.monotonic,
        width: Callable[[], int] | None = None,
        every: float = REDRAW_EVERY,
    ) -> None:
        super().__init__(stream, clock=clock)
        self._width = width or (lambda: terminal_width(stream))
        self._every = every
        self._drawn_at = -math.inf
        self._shown = ""  # what the line shows now ("" when cleared)

    def tick(self) -> None:
        if not self._phases:
            self.before_output()
        elif self._clock() - self._drawn_at >= self._every:
            self._draw()

    def before_output(self) -> None:
        if self._shown:
            self._write(CLEAR_LINE)
            self._shown = ""

    def _started(self, label: str) -> None:
        """Drawn when due (``tick``)."""

    def _finished(self, shown: str) -> None:
        """Drawn when due, or cleared when it was the last (``tick``)."""

    def _say(self, text: str) -> None:
        self.before_output()
        self._write(safe(text) + "\n")
        self._drawn_at = -math.inf  # the line comes back below it at once

    def _draw(self) -> None:
        line = fitted(safe(self._running()), self._width() - 1)
        self._drawn_at = self._clock()
        if line != self._shown:
            self._write(f"\r{line}\x1b[K")
            self._shown = line


def safe(text: str) -> str:
    return printable(without_keys(text))


def fitted(line: str, width: int) -> str:
    """``line`` cut to ``width`` characters: a line that wraps cannot be redrawn in place."""
    return line if len(line) <= width else line[: max(width - 1, 0)] + "…"


def terminal_width(stream: TextIO) -> int:
    """The terminal's width; 80 when it does not say (a new pty says 0)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        columns = 0
    return columns or 80


def seconds_text(seconds: float) -> str:
    """``2 s``, ``0.5 s``, ``1.5 s``, ``12 s``: as precise as a person needs."""
    digits = 0 if seconds >= 10 else 1 if seconds >= 1 else 2
    text = f"{seconds:.{digits}f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + " s"


def waiting_text(event: Waiting) -> str:
    request = f"429 on {event.method} {event.path}"
    if event.asked:
        return f"the API asked roster to wait {seconds_text(event.seconds)} ({request})"
    return f"rate limited ({request}): waiting {seconds_text(event.seconds)}"


def retrying_text(event: Retrying) -> str:
    return (
        f"{event.method} {event.path}: {event.reason}; retrying in"
        f" {seconds_text(event.delay)} (attempt {event.attempt})"
    )


def stderr_progress() -> Progress:
    """Live on a terminal, plain lines elsewhere; plain under ``--debug`` too, whose log lines
    would break a line redrawn in place."""
    stream = sys.stderr
    debug = logging.getLogger("roster").isEnabledFor(logging.DEBUG)
    return LiveProgress(stream) if stream.isatty() and not debug else PlainProgress(stream)


@asynccontextmanager
async def showing(
    progress: Progress, *, every: float = HEARTBEAT, sleep: Sleep = asyncio.sleep
) -> AsyncIterator[Progress]:
    """``progress``, with a heartbeat while the block runs, and closed after it."""
    heartbeat = asyncio.ensure_future(_beat(progress, every, sleep))
    try:
        yield progress
    finally:
        heartbeat.cancel()
        with suppress(asyncio.CancelledError):
            await heartbeat
        progress.close()


async def _beat(progress: Progress, every: float, sleep: Sleep) -> None:
    while True:
        await sleep(every)
        progress.tick()
