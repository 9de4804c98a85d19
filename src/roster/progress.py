"""What a long read tells as it goes: the events, and the one observer protocol that hears them.

The request layer tells of each request (``Answered``), each retry (``Retrying``) and each wait
the API asked for (``Waiting``); the readers (``fetch_state``, the reports) tell of their phases
and of the items read so far, after each page. An observer is any callable taking an event; the
default, ``silent``, does nothing, so a library caller hears nothing unless it asks to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PhaseStarted:
    """A phase of a read began: ``label`` names what it reads; ``total``, when known, how many
    items it will count to."""

    label: str
    total: int | None = None


@dataclass(frozen=True, slots=True)
class ItemsRead:
    """``count`` items of the phase ``label`` were read so far."""

    label: str
    count: int


@dataclass(frozen=True, slots=True)
class PhaseFinished:
    """The phase ``label`` read everything (a phase that fails never finishes)."""

    label: str


@dataclass(frozen=True, slots=True)
class Answered:
    """One attempt of a request ended: with an answer (``status``), or without (``error``)."""

    method: str
    path: str
    params: Sequence[tuple[str, str]]
    status: int | None
    request_id: str | None
    error: str | None
    elapsed: float  # seconds


@dataclass(frozen=True, slots=True)
class Retrying:
    """A failed attempt is tried again: attempt number ``attempt`` starts in ``delay`` s."""

    method: str
    path: str
    reason: str  # what went wrong: "529 overloaded_error", "could not reach ...: ..."
    status: int | None
    attempt: int
    delay: float


@dataclass(frozen=True, slots=True)
class Waiting:
    """A 429: every request pauses ``seconds``, as the API asked (``asked``) or as roster chose
    when the answer did not say."""

    seconds: float
    method: str
    path: str
    asked: bool


Event = PhaseStarted | ItemsRead | PhaseFinished | Answered | Retrying | Waiting
Observer = Callable[[Event], None]


def silent(event: Event) -> None:
    """The observer that hears nothing."""


def both(first: Observer, second: Observer) -> Observer:
    """One observer that tells ``first``, then ``second``."""
    if first is silent:
        return second
    if second is silent:
        return first

    def tell(event: Event) -> None:
        first(event)
        second(event)

    return tell


@contextmanager
def phase(observer: Observer, label: str, total: int | None = None) -> Iterator[Tally]:
    """Tells ``observer`` of a phase: started now, finished when the block ends without error."""
    observer(PhaseStarted(label, total))
    yield Tally(observer, label)
    observer(PhaseFinished(label))


class Tally:
    """Counts a phase's items and tells the observer the count so far."""

    __slots__ = ("_label", "_observer", "count")

    def __init__(self, observer: Observer, label: str) -> None:
        self._observer = observer
        self._label = label
        self.count = 0

    def add(self, items: int) -> None:
        self.count += items
        self._observer(ItemsRead(self._label, self.count))
