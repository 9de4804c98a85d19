"""The month-end forecast: the UTC month's tokens and cost so far, and where the month ends at the
current pace, so that a scheduled job warns before a limit rather than after it.

The pace is the average of the month's complete days: today's daily bucket is still filling (and
its last minutes are not reported yet), and a day is not used evenly, so a part of it says little.
Projected = month to date + pace * what is left of the month. On the month's first day there is
no complete day: the pace is then the month so far per elapsed day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from roster.reports.cost import CostReport, exact_sum
from roster.reports.dates import Period, midnight
from roster.reports.usage import UsageReport

_DAY = timedelta(days=1)
_CENT = Decimal(1)  # projected cents are whole cents: a projection is no more exact


def month_start(moment: datetime) -> datetime:
    return midnight(moment).replace(day=1)


def next_month_start(moment: datetime) -> datetime:
    start = month_start(moment)
    return (start + timedelta(days=32)).replace(day=1)


def month_of(now: datetime) -> Period:
    """The whole UTC month that holds ``now``."""
    return Period(month_start(now), next_month_start(now))


def month_to_date(now: datetime) -> Period | None:
    """The month from its first midnight until ``now`` (to the second, as requests say it);
    ``None`` at the very first second of a month, when there is nothing to ask for."""
    end = now.replace(microsecond=0)
    start = month_start(now)
    return Period(start, end) if end > start else None


def _days(delta: timedelta) -> Decimal:
    """``delta`` in days, exactly."""
    return Decimal(delta // timedelta(microseconds=1)) / Decimal(_DAY // timedelta(microseconds=1))


def complete_days(now: datetime) -> int:
    """The month's days that ended before ``now``."""
    return (midnight(now) - month_start(now)).days


def pace(daily: Mapping[str, Decimal], now: datetime) -> Decimal:
    """Use per day: the average of the month's complete days, or on its first day the month so
    far per elapsed day (0 at its first instant). ``daily`` is keyed by ``YYYY-MM-DD``."""
    whole = complete_days(now)
    if whole:
        today = midnight(now).strftime("%Y-%m-%d")
        return exact_sum(v for day, v in _in_month(daily, now) if day < today) / whole
    elapsed = _days(now - month_start(now))
    return so_far(daily, now) / elapsed if elapsed else Decimal(0)


def so_far(daily: Mapping[str, Decimal], now: datetime) -> Decimal:
    """The month's use until ``now``, exactly."""
    return exact_sum(value for _, value in _in_month(daily, now))


def projected(daily: Mapping[str, Decimal], now: datetime) -> Decimal:
    """The month's use so far, plus the rest of the month at ``pace``."""
    left = _days(next_month_start(now) - now)
    return so_far(daily, now) + pace(daily, now) * left


def _in_month(daily: Mapping[str, Decimal], now: datetime) -> Iterable[tuple[str, Decimal]]:
    first, today = month_start(now).strftime("%Y-%m-%d"), now.strftime("%Y-%m-%d")
    return ((day, value) for day, value in daily.items() if first <= day <= today)


@dataclass(frozen=True, slots=True)
class Forecast:
    """The month of ``as_of``: tokens and cents so far, and projected for the whole month."""

    as_of: datetime
    tokens: int
    cents: Decimal
    projected_tokens: int
    projected_cents: Decimal

    @property
    def month(self) -> Period:
        return month_of(self.as_of)

    @property
    def days_in_month(self) -> int:
        return (self.month.end - self.month.start).days

    @property
    def complete_days(self) -> int:
        return complete_days(self.as_of)


@dataclass(frozen=True, slots=True)
class MonthToDate:
    """What the forecast is made of: daily usage and daily cost of the month until ``now``."""

    now: datetime
    usage: UsageReport | None = None  # None when the month is not a second old
    cost: CostReport | None = None


def forecast(month: MonthToDate) -> Forecast:
    tokens = _daily_tokens(month.usage)
    cents = _daily_cents(month.cost)
    return Forecast(
        as_of=month.now,
        tokens=int(so_far(tokens, month.now)),
        cents=so_far(cents, month.now),
        projected_tokens=int(_rounded(projected(tokens, month.now))),
        projected_cents=_rounded(projected(cents, month.now)),
    )


def _rounded(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT, rounding=ROUND_HALF_EVEN)


def _daily_tokens(usage: UsageReport | None) -> dict[str, Decimal]:
    buckets = usage.buckets if usage is not None else ()
    return {b.starting_at[:10]: Decimal(b.tokens.total) for b in buckets}


def _daily_cents(cost: CostReport | None) -> dict[str, Decimal]:
    buckets = cost.buckets if cost is not None else ()
    return {b.starting_at[:10]: b.cents for b in buckets}
