"""Token usage from the API's report buckets: counts per token kind, per group and per bucket.

Cache writes are the API's ``ephemeral_5m`` plus ``ephemeral_1h`` input tokens. Groups carry the
API's raw values (``workspace_id``) and a label for people (the workspace's name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roster.reports.dates import USAGE_MAX_BUCKETS, Chunk, Period, rfc3339, split_range
from roster.timestamps import parse_timestamp

JSON = dict[str, Any]
# The user's group-by names and the API's.
USAGE_GROUP_BY = {
    "model": "model",
    "workspace": "workspace_id",
    "api-key": "api_key_id",
    "service-tier": "service_tier",
}
TOKEN_KINDS = ("uncached_input", "cache_read", "cache_write", "output")
DEFAULT_WORKSPACE = "Default"
CONSOLE_KEY = "Console (no key)"
# Usage data usually appears within about 5 minutes (admin-api.md §12).
USAGE_DELAY_MINUTES = 5


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """What to ask ``usage_report/messages`` for; ``group_by`` uses the user's names."""

    period: Period
    bucket: str = "1d"
    group_by: tuple[str, ...] = ()

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        return split_range(self.period, self.bucket, USAGE_MAX_BUCKETS[self.bucket])

    @property
    def api_group_by(self) -> tuple[str, ...]:
        return tuple(USAGE_GROUP_BY[name] for name in self.group_by)


@dataclass(frozen=True, slots=True)
class Tokens:
    """Token counts by kind; ``total`` is every kind together."""

    uncached_input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        return self.uncached_input + self.cache_read + self.cache_write + self.output

    @property
    def data(self) -> dict[str, int]:
        return {**{kind: getattr(self, kind) for kind in TOKEN_KINDS}, "total": self.total}

    def __add__(self, other: Tokens) -> Tokens:
        return Tokens(*(getattr(self, k) + getattr(other, k) for k in TOKEN_KINDS))


def tokens_of(result: JSON) -> Tokens:
    """The counts of one API result."""
    creation = result.get("cache_creation") or {}
    return Tokens(
        uncached_input=int(result.get("uncached_input_tokens") or 0),
        cache_read=int(result.get("cache_read_input_tokens") or 0),
        cache_write=int(creation.get("ephemeral_5m_input_tokens") or 0)
        + int(creation.get("ephemeral_1h_input_tokens") or 0),
        output=int(result.get("output_tokens") or 0),
    )


def total_tokens(items: Iterable[Tokens]) -> Tokens:
    return sum(items, Tokens())


@dataclass(frozen=True, slots=True)
class Group:
    """One combination of group-by values: the API's (``None`` = default/none) and labels."""

    values: tuple[str | None, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UsageCell:
    """What one group used in one bucket."""

    group: Group
    tokens: Tokens


@dataclass(frozen=True, slots=True)
class UsageBucket:
    starting_at: str
    ending_at: str
    cells: tuple[UsageCell, ...]

    @property
    def tokens(self) -> Tokens:
        return total_tokens(cell.tokens for cell in self.cells)

    @property
    def bounds(self) -> Period:
        return Period(parse_timestamp(self.starting_at), parse_timestamp(self.ending_at))


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """What one group used over the whole period."""

    group: Group
    tokens: Tokens


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Usage over ``period`` in buckets of ``bucket`` width, grouped by ``group_by``."""

    period: Period
    bucket: str
    group_by: tuple[str, ...]
    buckets: tuple[UsageBucket, ...]

    @property
    def totals(self) -> Tokens:
        return total_tokens(bucket.tokens for bucket in self.buckets)

    @property
    def groups(self) -> tuple[UsageTotal, ...]:
        """Totals per group, the largest first."""
        sums: dict[Group, Tokens] = {}
        for bucket in self.buckets:
            for cell in bucket.cells:
                sums[cell.group] = sums.get(cell.group, Tokens()) + cell.tokens
        ranked = sorted(sums.items(), key=lambda item: (-item[1].total, item[0].labels))
        return tuple(UsageTotal(group, tokens) for group, tokens in ranked)

    @property
    def newest(self) -> UsageBucket | None:
        """The latest bucket that used any tokens."""
        return next((b for b in reversed(self.buckets) if b.tokens.total), None)


@dataclass(frozen=True, slots=True)
class Freshness:
    """How fresh usage data is: read at ``as_of``, the newest bucket with usage in ``newest``
    (``None``: no bucket had any). The last few minutes may not be reported yet."""

    as_of: datetime
    newest: Period | None

    @property
    def data(self) -> dict[str, Any]:
        return {
            "as_of": rfc3339(self.as_of),
            "newest_usage": None if self.newest is None else self.newest.data,
            "usage_delay_minutes": USAGE_DELAY_MINUTES,
        }


def freshness(as_of: datetime, reports: Iterable[UsageReport]) -> Freshness:
    """The freshness of ``reports`` together, read at ``as_of``."""
    newest = [b for b in (report.newest for report in reports) if b is not None]
    latest = max(newest, key=lambda b: b.starting_at, default=None)
    return Freshness(as_of, None if latest is None else latest.bounds)


def label(dimension: str, value: str | None, workspace_names: Mapping[str, str]) -> str:
    """How people read one group-by value."""
    if dimension == "workspace":
        return DEFAULT_WORKSPACE if value is None else workspace_names.get(value, value)
    if dimension == "api-key" and value is None:
        return CONSOLE_KEY
    return "" if value is None else value


def usage_report(
    period: Period,
    bucket: str,
    group_by: Sequence[str],
    api_buckets: Iterable[JSON],
    workspace_names: Mapping[str, str] | None = None,
) -> UsageReport:
    """A ``UsageReport`` from the API's buckets (any order, from any number of requests)."""
    ordered = sorted(api_buckets, key=lambda b: str(b["starting_at"]))
    names = workspace_names or {}
    buckets = tuple(_bucket(b, tuple(group_by), names) for b in ordered)
    return UsageReport(period, bucket, tuple(group_by), buckets)


def _bucket(api_bucket: JSON, group_by: tuple[str, ...], names: Mapping[str, str]) -> UsageBucket:
    cells = tuple(
        UsageCell(_group(result, group_by, names), tokens_of(result))
        for result in api_bucket.get("results") or ()
    )
    return UsageBucket(str(api_bucket["starting_at"]), str(api_bucket["ending_at"]), cells)


def _group(result: JSON, group_by: tuple[str, ...], names: Mapping[str, str]) -> Group:
    values = tuple(result.get(USAGE_GROUP_BY[dimension]) for dimension in group_by)
    labels = tuple(label(d, v, names) for d, v in zip(group_by, values, strict=True))
    return Group(values, labels)
