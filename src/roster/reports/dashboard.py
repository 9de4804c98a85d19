"""The daily dashboard: one period's tokens, cost, top models, membership and days, and the
alert thresholds a scheduled job fails on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from roster.model import Invite, Member, Organization
from roster.reports.cost import CostReport, dollars, usd
from roster.reports.dates import Period
from roster.reports.members import role_counts
from roster.reports.usage import Tokens, UsageReport

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


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Limits on a period; ``None`` means no limit. Exceeding means strictly above."""

    max_tokens: int | None = None
    max_cost_usd: Decimal | None = None


def dashboard(
    organization: Organization,
    members: Sequence[Member],
    invites: Sequence[Invite],
    usage: UsageReport,
    cost: CostReport,
) -> Dashboard:
    """``usage`` must be daily and grouped by model; ``cost`` daily and ungrouped."""
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
    )


def _days(usage: UsageReport, cost: CostReport) -> tuple[Day, ...]:
    tokens = {bucket.starting_at[:10]: bucket.tokens.total for bucket in usage.buckets}
    cents = {bucket.starting_at[:10]: bucket.cents for bucket in cost.buckets}
    count = (usage.period.end - usage.period.start).days
    dates = [(usage.period.start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(count)]
    return tuple(Day(d, tokens.get(d, 0), cents.get(d, Decimal(0))) for d in dates)


def exceeded(board: Dashboard, thresholds: Thresholds) -> tuple[str, ...]:
    """One sentence per threshold the period went over."""
    messages = []
    limit = thresholds.max_tokens
    if limit is not None and board.tokens.total > limit:
        messages.append(f"tokens {board.tokens.total:,} exceed --fail-over-tokens {limit:,}")
    budget = thresholds.max_cost_usd
    if budget is not None and usd(board.cents) > budget:
        messages.append(
            f"cost {_cost_text(board.cents, budget)} exceeds --fail-over-cost ${budget}"
        )
    return tuple(messages)


def _cost_text(cents: Decimal, budget: Decimal) -> str:
    shown = dollars(cents)
    # Rounded for display, a cost just over the budget would look equal to it.
    return f"{shown} (exactly ${usd(cents)})" if shown == dollars(budget * 100) else shown
