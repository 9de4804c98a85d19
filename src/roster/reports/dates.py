"""Dates in the user's terms (``7d``, ``yesterday``, ``2025-01-01``) and report ranges cut to
the API's per-request bucket limits. Everything is UTC, as the API's buckets are; ``now`` is
always passed in, never read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from roster.timestamps import parse_timestamp

WIDTHS = {"1d": timedelta(days=1), "1h": timedelta(hours=1), "1m": timedelta(minutes=1)}
# The most buckets one report request may ask for, by bucket width (admin-api.md §12, §14).
USAGE_MAX_BUCKETS = {"1d": 31, "1h": 168, "1m": 1440}
COST_MAX_BUCKETS = 31

_RELATIVE = re.compile(r"^(\d+)([dhm])\Z")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
DATE_HELP = "7d, 24h, 30m (before now), today, yesterday, 2025-01-01 or an RFC 3339 timestamp"


class DateError(ValueError):
    """A date the user wrote that means nothing to roster."""


@dataclass(frozen=True, slots=True)
class Period:
    """From ``start`` (included) to ``end`` (excluded), both UTC."""

    start: datetime
    end: datetime

    @property
    def data(self) -> dict[str, str]:
        return {"starting_at": rfc3339(self.start), "ending_at": rfc3339(self.end)}


@dataclass(frozen=True, slots=True)
class Chunk:
    """One report request: its bounds and ``limit``, the number of buckets it covers."""

    starting_at: datetime
    ending_at: datetime
    limit: int


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def midnight(moment: datetime) -> datetime:
    return floor_to(moment, "1d")


def parse_moment(text: str, now: datetime) -> datetime:
    """The instant ``text`` names, relative to ``now`` where it is relative."""
    word = text.strip().lower()
    if word in {"now", "today", "yesterday"}:
        return {"now": now, "today": midnight(now), "yesterday": midnight(now) - WIDTHS["1d"]}[word]
    relative = _RELATIVE.match(word)
    if relative:
        return now - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    return _absolute(text.strip())


def _absolute(text: str) -> datetime:
    try:
        if _DAY.match(text):
            return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return parse_timestamp(text)
    except ValueError:
        raise DateError(f"{text!r} is not a date; use {DATE_HELP}") from None


def floor_to(moment: datetime, width: str) -> datetime:
    """The start of the bucket of ``width`` that holds ``moment``, as the API snaps it."""
    moment = moment.astimezone(timezone.utc).replace(second=0, microsecond=0)
    if width == "1m":
        return moment
    moment = moment.replace(minute=0)
    return moment if width == "1h" else moment.replace(hour=0)


def report_period(start: datetime, end: datetime, width: str) -> Period:
    """The period the API will report on: ``start`` snapped down to its bucket."""
    if end <= start:
        raise DateError("the end must be after the start")
    return Period(floor_to(start, width), end)


def last_days(now: datetime, days: int) -> Period:
    """The ``days`` complete UTC days before today."""
    today = midnight(now)
    return Period(today - days * WIDTHS["1d"], today)


def bucket_count(start: datetime, end: datetime, width: str) -> int:
    """Buckets from ``start`` (on a boundary) until ``end``; a partial last one counts."""
    return -(-(end - start) // WIDTHS[width])


def split_range(period: Period, width: str, max_buckets: int) -> tuple[Chunk, ...]:
    """Consecutive requests of at most ``max_buckets`` buckets that cover ``period``."""
    step = WIDTHS[width] * max_buckets
    chunks: list[Chunk] = []
    start = period.start
    while start < period.end:
        end = min(start + step, period.end)
        chunks.append(Chunk(start, end, bucket_count(start, end, width)))
        start = end
    return tuple(chunks)
