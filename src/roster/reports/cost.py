"""Cost from the API's cost report: exact ``Decimal`` cents, summed per group and per day.

The API's amounts are decimal strings in US cents. Sums are exact (an inexact one raises);
rounding to the cent of a dollar happens only in ``dollars``, for display.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact
from functools import reduce
from typing import Any

from roster.reports.dates import COST_MAX_BUCKETS, Chunk, Period, split_range
from roster.reports.usage import Group, label
from roster.timestamps import parse_timestamp

JSON = dict[str, Any]
COST_GROUP_BY = {"workspace": "workspace_id", "description": "description"}
_EXACT = Context(prec=200, traps=[Inexact])
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CostQuery:
    """What to ask ``cost_report`` for (daily buckets only); ``group_by`` uses the user's names."""

    period: Period
    group_by: tuple[str, ...] = ()

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        return split_range(self.period, "1d", COST_MAX_BUCKETS)

    @property
    def api_group_by(self) -> tuple[str, ...]:
        return tuple(COST_GROUP_BY[name] for name in self.group_by)


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """The sum of ``amounts``, never rounded."""
    return reduce(_EXACT.add, amounts, Decimal(0))


def usd(cents: Decimal) -> Decimal:
    """Cents as dollars, exactly."""
    return _EXACT.divide(cents, Decimal(100))


def dollars(cents: Decimal) -> str:
    """``$1,234.56``: cents shown as dollars, rounded half-even to the cent."""
    shown = usd(cents).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    sign = "-" if shown < 0 else ""
    return f"{sign}${abs(shown):,.2f}"


def decimal_text(amount: Decimal) -> str:
    """Plain notation, no exponent, no trailing zeros: what JSON and CSV carry."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True, slots=True)
class CostCell:
    """What one group cost in one bucket, in cents."""

    group: Group
    cents: Decimal


@dataclass(frozen=True, slots=True)
class CostBucket:
    starting_at: str
    ending_at: str
    cells: tuple[CostCell, ...]

    @property
    def cents(self) -> Decimal:
        return exact_sum(cell.cents for cell in self.cells)

    @property
    def bounds(self) -> Period:
        return Period(parse_timestamp(self.starting_at), parse_timestamp(self.ending_at))


@dataclass(frozen=True, slots=True)
class CostTotal:
    group: Group
    cents: Decimal


@dataclass(frozen=True, slots=True)
class CostReport:
    """Daily cost over ``period``, grouped by ``group_by``."""

    period: Period
    group_by: tuple[str, ...]
    buckets: tuple[CostBucket, ...]

    @property
    def cents(self) -> Decimal:
        return exact_sum(bucket.cents for bucket in self.buckets)

    @property
    def groups(self) -> tuple[CostTotal, ...]:
        """Totals per group, the largest first."""
        sums: dict[Group, Decimal] = {}
        for bucket in self.buckets:
            for cell in bucket.cells:
                sums[cell.group] = _EXACT.add(sums.get(cell.group, Decimal(0)), cell.cents)
        ranked = sorted(sums.items(), key=lambda item: (-item[1], item[0].labels))
        return tuple(CostTotal(group, cents) for group, cents in ranked)

    @property
    def newest(self) -> CostBucket | None:
        """The latest bucket that cost anything."""
        return next((b for b in reversed(self.buckets) if b.cents), None)


def cost_report(
    period: Period,
    group_by: Sequence[str],
    api_buckets: Iterable[JSON],
    workspace_names: Mapping[str, str] | None = None,
) -> CostReport:
    """A ``CostReport`` from the API's buckets (any order, from any number of requests)."""
    ordered = sorted(api_buckets, key=lambda b: str(b["starting_at"]))
    names = workspace_names or {}
    buckets = tuple(_bucket(b, tuple(group_by), names) for b in ordered)
    return CostReport(period, tuple(group_by), buckets)


def _bucket(api_bucket: JSON, group_by: tuple[str, ...], names: Mapping[str, str]) -> CostBucket:
    cells = tuple(
        CostCell(_group(result, group_by, names), Decimal(str(result.get("amount") or "0")))
        for result in api_bucket.get("results") or ()
    )
    return CostBucket(str(api_bucket["starting_at"]), str(api_bucket["ending_at"]), cells)


def _group(result: JSON, group_by: tuple[str, ...], names: Mapping[str, str]) -> Group:
    values = tuple(result.get(COST_GROUP_BY[dimension]) for dimension in group_by)
    labels = tuple(label(d, v, names) for d, v in zip(group_by, values, strict=True))
    return Group(values, labels)
