"""What ``roster activity`` and ``roster keys`` share: the window of whole UTC days they read,
the messages usage report as day-stamped uses, and a markdown table.

Pure: the API's now is passed in, as everywhere in the reports.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from roster.reports.dates import USAGE_MAX_BUCKETS, Chunk, DateError, Period, midnight, split_range
from roster.reports.table import WIDTH
from roster.reports.usage import tokens_of

JSON = dict[str, Any]
DAY = timedelta(days=1)
# A year and a day: the Claude Code report takes one request per day.
MAX_DAYS = 366
SINCE_HELP = "30d (that many whole days before today, and today) or a date (2026-10-01), UTC"
_DAYS = re.compile(r"^(\d+)d\Z")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")


@dataclass(frozen=True, slots=True)
class Window:
    """Whole UTC days from ``start`` (a midnight) through the day of ``end`` (the API's now,
    excluded): today counts, so far."""

    start: datetime
    end: datetime

    @property
    def day_count(self) -> int:
        return (midnight(self.end) - self.start) // DAY + 1

    @property
    def days(self) -> tuple[str, ...]:
        """Each day of the window, ``YYYY-MM-DD``, the first one first."""
        return tuple(_day(self.start + n * DAY) for n in range(self.day_count))

    @property
    def first_day(self) -> str:
        return _day(self.start)

    @property
    def today(self) -> str:
        return _day(self.end)

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    @property
    def label(self) -> str:
        """The first and last day, and how many days the window has."""
        return f"{self.first_day} – {self.today} ({self.day_count} days, UTC)"

    @property
    def data(self) -> JSON:
        return {**self.period.data, "days": self.day_count}

    def usage_chunks(self) -> tuple[Chunk, ...]:
        """The daily messages usage requests that cover the window."""
        return split_range(self.period, "1d", USAGE_MAX_BUCKETS["1d"])


def window_since(text: str, now: datetime) -> Window:
    """The window ``--since`` names: ``30d`` starts 30 whole days before today, a date on
    that day. ``DateError`` for anything else, a day after today, or more than ``MAX_DAYS``."""
    today, shown = midnight(now), text.strip().lower()
    days = _DAYS.match(shown)
    before = int(days[1]) if days else (today - _since_date(shown)) // DAY
    if before < 0:
        raise DateError(f"{shown!r} is after today ({_day(today)})")
    if before > MAX_DAYS:
        raise DateError(f"{shown!r} is more than {MAX_DAYS} days before today")
    return Window(today - before * DAY, now)


def _since_date(shown: str) -> datetime:
    try:
        if not _DATE.match(shown):
            raise ValueError(shown)
        return datetime.strptime(shown, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise DateError(f"{shown!r} is not a number of days or a date; use {SINCE_HELP}") from None


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def days_from(earlier: str, later: str) -> int | None:
    """Whole days from the day of ``earlier`` to the day of ``later`` (timestamps or days);
    None when either does not read as one (the API's text is shown as it is instead)."""
    try:
        return (date.fromisoformat(later[:10]) - date.fromisoformat(earlier[:10])).days
    except ValueError:
        return None


# --- the messages usage report, as uses -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiUse:
    """Tokens one API key or account used on one day, as the messages usage report grouped
    them (None: the API reported none)."""

    day: str
    api_key_id: str | None
    account_id: str | None
    tokens: int


def api_uses(buckets: Iterable[JSON]) -> tuple[ApiUse, ...]:
    """Every result of the daily ``buckets`` that used tokens."""
    uses = (
        ApiUse(
            str(bucket["starting_at"])[:10],
            _id(result.get("api_key_id")),
            _id(result.get("account_id")),
            tokens_of(result).total,
        )
        for bucket in buckets
        for result in bucket.get("results") or ()
    )
    return tuple(use for use in uses if use.tokens > 0)


def _id(value: object) -> str | None:
    return None if value is None else str(value)


def last_used(uses: Iterable[ApiUse]) -> dict[str, str]:
    """Each API key's latest day of use."""
    latest: dict[str, str] = {}
    for use in uses:
        if use.api_key_id is not None and use.day > latest.get(use.api_key_id, ""):
            latest[use.api_key_id] = use.day
    return latest


# --- text -----------------------------------------------------------------------------------


def notes(texts: Iterable[str], width: int | None) -> str:
    """Notes under a table, each wrapped to ``width`` (80 columns when not a terminal's)."""
    return "".join(textwrap.fill(text, width or WIDTH) + "\n" for text in texts)


# --- markdown ---------------------------------------------------------------------------------


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]], *, right: int) -> str:
    """A GitHub table whose last ``right`` columns are right-aligned (cells already escaped)."""
    align = ["---"] * (len(header) - right) + ["---:"] * right
    return "\n".join("| " + " | ".join(line) + " |" for line in [header, align, *rows])
