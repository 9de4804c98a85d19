"""The daily dashboard: one period's tokens, cost, top models, membership, days and Claude Code
use, the month's forecast, how fresh it all is, and the alert thresholds a scheduled job fails on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from roster.model import Invite, Member, Organization
from roster.reports.claude_code import ClaudeCodeReport
from roster.reports.cost import CostReport, dollars, usd
from roster.reports.dates import Period
from roster.reports.forecast import Forecast, MonthToDate, forecast
from roster.reports.members import role_counts
from roster.reports.usage import Freshness, Tokens, UsageReport, freshness

TOP_MODELS = 5


@dataclass(frozen=True, slots=True)
class Day:
    date: str  # YYYY-MM-DD
    tokens: int
    cents: Decimal


@dataclass(frozen=True, slots=True)
class ModelUsage:
    model: str
    tokens: int


@dataclass(frozen=True, slots=True)
class Section:
    """A block the report shows below its summary when it is given one: ``rows`` of (label,
    value) for people (escaped when shown), and ``data``, its JSON form. The governance summary
    (idle seats, keys past their age limit) comes in as one: ``replace(board, governance=...)``.
    """

    title: str
    rows: tuple[tuple[str, str], ...]
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Dashboard:
    organization: Organization
    period: Period
    tokens: Tokens
    cents: Decimal
    top_models: tuple[ModelUsage, ...]
    roles: tuple[tuple[str, int], ...]
    members: int
    pending_invites: int
    days: tuple[Day, ...]
    forecast: Forecast
    freshness: Freshness
    claude_code: ClaudeCodeReport | None = None
    governance: Section | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Limits on the period, and on the month's projected end; ``None`` means no limit.
    Exceeding means strictly above."""

    max_tokens: int | None = None
    max_cost_usd: Decimal | None = None
    max_forecast_tokens: int | None = None
    max_forecast_cost_usd: Decimal | None = None


def dashboard(
    organization: Organization,
    members: Sequence[Member],
    invites: Sequence[Invite],
    usage: UsageReport,
    cost: CostReport,
    *,
    month: MonthToDate,
    claude_code: ClaudeCodeReport | None = None,
) -> Dashboard:
    """``usage`` must be daily and grouped by model; ``cost`` daily and ungrouped; ``month``
    daily and ungrouped."""
    return Dashboard(
        organization=organization,
        period=usage.period,
        tokens=usage.totals,
        cents=cost.cents,
        top_models=tuple(
            ModelUsage(group.group.labels[0], group.tokens.total)
            for group in usage.groups[:TOP_MODELS]
        ),
        roles=role_counts(members),
        members=len(members),
        pending_invites=sum(1 for invite in invites if invite.status == "pending"),
        days=_days(usage, cost),
        forecast=forecast(month),
        freshness=freshness(month.now, filter(None, [usage, month.usage])),
        claude_code=claude_code,
    )


def _days(usage: UsageReport, cost: CostReport) -> tuple[Day, ...]:
    tokens = {bucket.starting_at[:10]: bucket.tokens.total for bucket in usage.buckets}
    cents = {bucket.starting_at[:10]: bucket.cents for bucket in cost.buckets}
    count = (usage.period.end - usage.period.start).days
    dates = [(usage.period.start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(count)]
    return tuple(Day(d, tokens.get(d, 0), cents.get(d, Decimal(0))) for d in dates)


def exceeded(board: Dashboard, thresholds: Thresholds) -> tuple[str, ...]:
    """One sentence per threshold the period, or the month's projected end, went over."""
    ahead = board.forecast
    # On the month's first day the projection stands on a few hours of use: the forecast
    # thresholds then weigh what the month used so far, so that no early hour trips them.
    early = ahead.complete_days == 0
    what = "month-to-date" if early else "projected month-end"
    checks = [
        _over_tokens("tokens", board.tokens.total, thresholds.max_tokens, "--fail-over-tokens"),
        _over_cost("cost", board.cents, thresholds.max_cost_usd, "--fail-over-cost"),
        _over_tokens(
            f"{what} tokens",
            ahead.tokens if early else ahead.projected_tokens,
            thresholds.max_forecast_tokens,
            "--fail-forecast-over-tokens",
        ),
        _over_cost(
            f"{what} cost",
            ahead.cents if early else ahead.projected_cents,
            thresholds.max_forecast_cost_usd,
            "--fail-forecast-over-cost",
        ),
    ]
    return tuple(message for message in checks if message)


def _over_tokens(what: str, tokens: int, limit: int | None, option: str) -> str:
    if limit is None or tokens <= limit:
        return ""
    return f"{what} {tokens:,} exceed {option} {limit:,}"


def _over_cost(what: str, cents: Decimal, budget: Decimal | None, option: str) -> str:
    if budget is None or usd(cents) <= budget:
        return ""
    return f"{what} {_cost_text(cents, budget)} exceeds {option} ${budget}"


def _cost_text(cents: Decimal, budget: Decimal) -> str:
    shown = dollars(cents)
    # Rounded for display, a cost just over the budget would look equal to it.
    return f"{shown} (exactly ${usd(cents)})" if shown == dollars(budget * 100) else shown
