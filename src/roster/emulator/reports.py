"""Synthetic usage and cost reports (admin-api.md §12, §14), deterministic for an organization.

Each time bucket gets fine-grained usage rows over every dimension, drawn from a random
generator seeded by (organization id, bucket width, bucket start) and the org's API keys.
Reports aggregate those rows by the requested ``group_by``, so totals never depend on the
grouping, and the cost report prices the very same rows with ``Decimal`` (cents, exact). The
Console row of a bucket (no API key) is the members' own use: it is shared out, exactly, among
the members at work that day (``roster.emulator.activity``), who are its ``account_id``.
"""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from roster.emulator.activity import MemberOrigin, at_work, shares
from roster.emulator.clock import format_time, parse_time
from roster.emulator.pagination import parse_limit
from roster.emulator.problems import invalid
from roster.emulator.records import ApiKey, JsonDict

USAGE_DIMENSIONS = (
    "api_key_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
    "account_id",
)
COST_DIMENSIONS = ("workspace_id", "description")
# No synthetic row names a service account: grouping by it changes nothing (the results always
# carry it as null), and filtering by it keeps nothing.
UNATTRIBUTED_DIMENSIONS = ("service_account_id",)
UNATTRIBUTED_FILTERS = ("service_account_ids[]",)
WIDTHS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
# (default, maximum) number of buckets per page, by width.
USAGE_LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}
COST_LIMITS = (7, 31)
# How many API keys are busy in one bucket, and their typical input tokens, by width.
BUSY_KEYS = {"1d": 6, "1h": 3, "1m": 2}
TYPICAL_INPUT = {"1d": 2_000_000, "1h": 120_000, "1m": 3_000}
WEB_SEARCH_CENTS = Decimal(1)  # $10 per 1,000 searches.


@dataclass(frozen=True, slots=True)
class Model:
    """A model and its list prices in dollars per million tokens."""

    id: str
    display: str
    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal
    geo_routing: bool
    long_context: bool
    weight: int


def _model(mid: str, display: str, prices: str, *, geo: bool, long: bool, weight: int) -> Model:
    inp, out, w5, w1, read = (Decimal(p) for p in prices.split())
    return Model(mid, display, inp, out, w5, w1, read, geo, long, weight)


MODELS = (
    _model(
        "claude-sonnet-4-5-20250929",
        "Claude Sonnet 4.5",
        "3 15 3.75 6 0.30",
        geo=True,
        long=True,
        weight=5,
    ),
    _model(
        "claude-sonnet-4-20250514",
        "Claude Sonnet 4",
        "3 15 3.75 6 0.30",
        geo=False,
        long=True,
        weight=3,
    ),
    _model(
        "claude-opus-4-1-20250805",
        "Claude Opus 4.1",
        "15 75 18.75 30 1.50",
        geo=False,
        long=False,
        weight=1,
    ),
    _model(
        "claude-haiku-4-5-20251001",
        "Claude Haiku 4.5",
        "1 5 1.25 2 0.10",
        geo=True,
        long=False,
        weight=3,
    ),
    _model(
        "claude-3-5-haiku-20241022",
        "Claude Haiku 3.5",
        "0.80 4 1 1.6 0.08",
        geo=False,
        long=False,
        weight=1,
    ),
)
_MODELS_BY_ID = {m.id: m for m in MODELS}
_MODEL_WEIGHTS = [m.weight for m in MODELS]


class Query(Protocol):
    """The query-string view the reports need (Starlette's ``QueryParams`` is one)."""

    def get(self, key: str) -> str | None: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class KeyOrigin:
    """An API key as traffic source: its workspace (None for the default one), birth and name,
    and the instant its traffic stops (``ApiKey.traffic_until``), if it does."""

    created_at: str
    api_key_id: str
    workspace_id: str | None
    name: str = ""
    traffic_until: str | None = None


@dataclass(frozen=True, slots=True)
class OrgView:
    """What the synthetic data is a function of, besides the bucket."""

    organization_id: str
    now: datetime
    default_workspace_id: str
    keys: Sequence[KeyOrigin]  # ascending by created_at
    members: Sequence[MemberOrigin] = ()  # ascending by user id
    retiring: bool = False  # whether any key's traffic stops (the slower pool, then)


@dataclass(frozen=True, slots=True)
class UsageRow:
    api_key_id: str | None
    workspace_id: str | None
    model: str
    service_tier: str
    context_window: str
    inference_geo: str
    account_id: str | None
    uncached_input_tokens: int
    cache_read_input_tokens: int
    ephemeral_1h_input_tokens: int
    ephemeral_5m_input_tokens: int
    output_tokens: int
    web_search_requests: int


_TOKEN_FIELDS = tuple(f.name for f in fields(UsageRow))[len(USAGE_DIMENSIONS) :]


# --- buckets and page tokens -------------------------------------------------------------------


def floor_to(moment: datetime, width: str) -> datetime:
    if width == "1d":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if width == "1h":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(second=0, microsecond=0)


def bucket_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def page_token(moment: datetime) -> str:
    return "page_" + base64.b64encode(bucket_text(moment).encode()).decode()


def parse_page_token(token: str, width: str) -> datetime:
    try:
        if not token.startswith("page_"):
            raise ValueError(token)
        moment = parse_time(base64.b64decode(token[5:], validate=True).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("page: not a valid page token", "invalid_page_token") from None
    if floor_to(moment, width) != moment:
        raise invalid("page: the token does not belong to this bucket width", "invalid_page_token")
    return moment


@dataclass(frozen=True, slots=True)
class Window:
    """The buckets one report page covers, and where the next page starts."""

    width: str
    starts: list[datetime]
    next_start: datetime | None


def plan_window(query: Query, view: OrgView, width: str, limits: tuple[int, int]) -> Window:
    starting_at = _required_time(query, "starting_at")
    ending_at = _optional_time(query, "ending_at")
    if ending_at is not None and ending_at <= starting_at:
        raise invalid("ending_at: must be after starting_at")
    limit = parse_limit(query.get("limit"), *limits)
    page = query.get("page")
    first = parse_page_token(page, width) if page else floor_to(starting_at, width)
    stop = floor_to(view.now, width) + WIDTHS[width]
    if ending_at is not None:
        stop = min(stop, ending_at)
    starts = list(_bucket_starts(first, stop, width, limit + 1))
    more = len(starts) > limit
    return Window(width, starts[:limit], starts[limit] if more else None)


def _bucket_starts(first: datetime, stop: datetime, width: str, count: int) -> Iterator[datetime]:
    step, moment = WIDTHS[width], first
    while moment < stop and count > 0:
        yield moment
        moment += step
        count -= 1


def _required_time(query: Query, name: str) -> datetime:
    moment = _optional_time(query, name)
    if moment is None:
        raise invalid(f"{name}: required (RFC 3339 timestamp)")
    return moment


def _optional_time(query: Query, name: str) -> datetime | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return parse_time(raw)
    except ValueError:
        raise invalid(f"{name}: {raw!r} is not an RFC 3339 timestamp") from None


def _group_by(query: Query, allowed: Sequence[str]) -> tuple[str, ...]:
    chosen = query.getlist("group_by[]") + query.getlist("group_by")
    unknown = [g for g in chosen if g not in allowed]
    if unknown:
        raise invalid(f"group_by[]: {unknown[0]!r} is not one of {list(allowed)}")
    return tuple(d for d in allowed if d in chosen)


def _envelope(window: Window, data: list[JsonDict]) -> JsonDict:
    following = window.next_start
    return {
        "data": data,
        "has_more": following is not None,
        "next_page": None if following is None else page_token(following),
    }


# --- synthetic traffic --------------------------------------------------------------------------


def bucket_rows(view: OrgView, start: datetime, width: str) -> list[UsageRow]:
    """Every fine-grained usage row of one bucket; the same inputs always give the same rows."""
    rng = random.Random(f"{view.organization_id}|{width}|{bucket_text(start)}")
    level = _activity(rng, start, width)
    if level == 0.0:
        return []
    sources = _busy_sources(rng, view, start, start + WIDTHS[width], BUSY_KEYS[width])
    return [_usage_row(rng, source, TYPICAL_INPUT[width] * level) for source in sources]


def _activity(rng: random.Random, start: datetime, width: str) -> float:
    """Weekends are quieter, nights too; some buckets have no traffic at all."""
    weekend = start.weekday() >= 5
    quiet_chance = {"1d": 0.45 if weekend else 0.1, "1h": 0.3, "1m": 0.7}[width]
    if rng.random() < quiet_chance:
        return 0.0
    level = 0.3 if weekend else 1.0
    if width != "1d" and not 8 <= start.hour < 20:
        level *= 0.25
    return level


def _busy_sources(
    rng: random.Random, view: OrgView, start: datetime, before: datetime, busy: int
) -> list[KeyOrigin | None]:
    """A few keys that existed by the end of the bucket and still have traffic at its start,
    plus the Console now and then."""
    born = view.keys[: _count_born_before(view.keys, bucket_text(before))]
    pool = _still_used(born, format_time(start)) if view.retiring else born
    picked = sorted(rng.sample(range(len(pool)), min(busy, len(pool))))
    sources: list[KeyOrigin | None] = [pool[i] for i in picked]
    if rng.random() < 0.3 or not sources:
        sources.append(None)
    return sources


def _still_used(keys: Sequence[KeyOrigin], moment: str) -> list[KeyOrigin]:
    return [k for k in keys if k.traffic_until is None or moment < k.traffic_until]


def _count_born_before(keys: Sequence[KeyOrigin], moment: str) -> int:
    low, high = 0, len(keys)
    while low < high:
        middle = (low + high) // 2
        if keys[middle].created_at < moment:
            low = middle + 1
        else:
            high = middle
    return low


def _usage_row(rng: random.Random, source: KeyOrigin | None, typical: float) -> UsageRow:
    model = rng.choices(MODELS, weights=_MODEL_WEIGHTS)[0]
    uncached = int(typical * rng.uniform(0.2, 1.5))
    geo = ("us" if rng.random() < 0.2 else "global") if model.geo_routing else "not_available"
    long = model.long_context and rng.random() < 0.08
    return UsageRow(
        api_key_id=None if source is None else source.api_key_id,
        workspace_id=None if source is None else source.workspace_id,
        model=model.id,
        service_tier="batch" if rng.random() < 0.15 else "standard",
        context_window="200k-1M" if long else "0-200k",
        inference_geo=geo,
        account_id=None,
        uncached_input_tokens=uncached,
        cache_read_input_tokens=int(uncached * rng.uniform(0.0, 0.6)),
        ephemeral_1h_input_tokens=int(uncached * rng.uniform(0.0, 0.05)),
        ephemeral_5m_input_tokens=int(uncached * rng.uniform(0.0, 0.1)),
        output_tokens=int(uncached * rng.uniform(0.1, 0.4)),
        web_search_requests=rng.randrange(1, 25) if rng.random() < 0.2 else 0,
    )


# --- the members' own use ----------------------------------------------------------------------


class Attribution:
    """Bucket rows with the Console row shared out among the members at work that day; one
    day's draw serves every bucket of that day."""

    def __init__(self, view: OrgView) -> None:
        self._view = view
        self._days: dict[datetime, list[MemberOrigin]] = {}

    def rows(self, start: datetime, width: str) -> list[UsageRow]:
        day = floor_to(start, "1d")
        return [
            part for row in bucket_rows(self._view, start, width) for part in self._split(row, day)
        ]

    def _split(self, row: UsageRow, day: datetime) -> list[UsageRow]:
        if row.api_key_id is not None:
            return [row]
        if day not in self._days:
            self._days[day] = at_work(self._view.organization_id, self._view.members, day)
        workers = self._days[day]
        return split_row(row, workers) if workers else [row]


def split_row(row: UsageRow, members: Sequence[MemberOrigin]) -> list[UsageRow]:
    """``row`` shared among ``members`` by weight, every counter exactly; a member whose share
    is nothing at all gets no row."""
    weights = [member.weight for member in members]
    columns = [shares(getattr(row, name), weights) for name in _TOKEN_FIELDS]
    parts = []
    for index, member in enumerate(members):
        counts: dict[str, Any] = {
            name: column[index] for name, column in zip(_TOKEN_FIELDS, columns, strict=True)
        }
        if any(counts.values()):
            parts.append(replace(row, account_id=member.user_id, **counts))
    return parts


# --- usage report -----------------------------------------------------------------------------


def usage_report(query: Query, view: OrgView) -> JsonDict:
    width = query.get("bucket_width") or "1d"
    if width not in WIDTHS:
        raise invalid(f"bucket_width: {width!r} is not one of {list(WIDTHS)}")
    window = plan_window(query, view, width, USAGE_LIMITS[width])
    group_by = _group_by(query, (*USAGE_DIMENSIONS, *UNATTRIBUTED_DIMENSIONS))
    keep = _usage_filter(query, view.default_workspace_id)
    rows_of = _row_source(view, "account_id" in group_by or bool(query.getlist("account_ids[]")))
    data = [
        _bucket_json(start, width, _usage_results(rows_of(start, width), group_by, keep))
        for start in window.starts
    ]
    return _envelope(window, data)


def _row_source(view: OrgView, by_account: bool) -> Callable[[datetime, str], list[UsageRow]]:
    """Sharing out the Console rows changes no total, only the account dimension, so it is
    done only when that dimension is asked for (it costs a draw per member and day)."""
    if by_account:
        return Attribution(view).rows
    return lambda start, width: bucket_rows(view, start, width)


_FILTERS = {
    "api_key_id": "api_key_ids[]",
    "workspace_id": "workspace_ids[]",
    "model": "models[]",
    "service_tier": "service_tiers[]",
    "context_window": "context_window[]",
    "inference_geo": "inference_geos[]",
    "account_id": "account_ids[]",
}


def _usage_filter(query: Query, default_workspace_id: str) -> Callable[[UsageRow], bool]:
    if any(query.getlist(param) for param in UNATTRIBUTED_FILTERS):
        return lambda row: False
    wanted = {dim: set(query.getlist(param)) for dim, param in _FILTERS.items()}
    if default_workspace_id in wanted["workspace_id"]:
        wanted["workspace_id"].add(None)  # type: ignore[arg-type]
    active = {dim: values for dim, values in wanted.items() if values}

    def keep(row: UsageRow) -> bool:
        return all(getattr(row, dim) in values for dim, values in active.items())

    return keep


def _usage_results(
    rows: list[UsageRow], group_by: tuple[str, ...], keep: Callable[[UsageRow], bool]
) -> list[JsonDict]:
    totals: dict[tuple[str | None, ...], list[int]] = {}
    for row in rows:
        if keep(row):
            key = tuple(getattr(row, d) if d in group_by else None for d in USAGE_DIMENSIONS)
            sums = totals.setdefault(key, [0] * len(_TOKEN_FIELDS))
            for index, name in enumerate(_TOKEN_FIELDS):
                sums[index] += getattr(row, name)
    return [_usage_json(key, totals[key]) for key in sorted(totals, key=_sort_key)]


def _sort_key(key: tuple[str | None, ...]) -> tuple[str, ...]:
    return tuple("" if part is None else part for part in key)


def _usage_json(key: tuple[str | None, ...], sums: list[int]) -> JsonDict:
    counts = dict(zip(_TOKEN_FIELDS, sums, strict=True))
    result: JsonDict = {
        "uncached_input_tokens": counts["uncached_input_tokens"],
        "cache_read_input_tokens": counts["cache_read_input_tokens"],
        "cache_creation": {
            "ephemeral_1h_input_tokens": counts["ephemeral_1h_input_tokens"],
            "ephemeral_5m_input_tokens": counts["ephemeral_5m_input_tokens"],
        },
        "output_tokens": counts["output_tokens"],
        "server_tool_use": {"web_search_requests": counts["web_search_requests"]},
    }
    result.update(zip(USAGE_DIMENSIONS, key, strict=True))
    result.update({"service_account_id": None})
    return result


def _bucket_json(start: datetime, width: str, results: list[JsonDict]) -> JsonDict:
    return {
        "starting_at": bucket_text(start),
        "ending_at": bucket_text(start + WIDTHS[width]),
        "results": results,
    }


# --- cost report ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CostItem:
    workspace_id: str | None
    description: str
    cost_type: str
    model: str | None
    service_tier: str | None
    context_window: str | None
    token_type: str | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TokenType:
    """A token counter of a usage row, as the cost report names and prices it."""

    row_field: str
    token_type: str
    label: str
    price: str


_TOKEN_TYPES = (
    TokenType("uncached_input_tokens", "uncached_input_tokens", "Input Tokens", "input"),
    TokenType("output_tokens", "output_tokens", "Output Tokens", "output"),
    TokenType(
        "cache_read_input_tokens",
        "cache_read_input_tokens",
        "Cache Read Input Tokens",
        "cache_read",
    ),
    TokenType(
        "ephemeral_1h_input_tokens",
        "cache_creation.ephemeral_1h_input_tokens",
        "Cache Write Input Tokens (1h)",
        "cache_write_1h",
    ),
    TokenType(
        "ephemeral_5m_input_tokens",
        "cache_creation.ephemeral_5m_input_tokens",
        "Cache Write Input Tokens (5m)",
        "cache_write_5m",
    ),
)
_CENTS_PER_TOKEN_PER_DOLLAR_PER_MTOK = Decimal("0.0001")


def cost_items(row: UsageRow) -> list[CostItem]:
    """The priced line items of one usage row: one per token type used, plus web search."""
    model = _MODELS_BY_ID[row.model]
    items = [_token_cost(row, model, kind) for kind in _TOKEN_TYPES if getattr(row, kind.row_field)]
    if row.web_search_requests:
        amount = WEB_SEARCH_CENTS * row.web_search_requests
        items.append(
            CostItem(
                row.workspace_id, "Web Search Usage", "web_search", None, None, None, None, amount
            )
        )
    return items


def _token_cost(row: UsageRow, model: Model, kind: TokenType) -> CostItem:
    per_mtok: Decimal = getattr(model, kind.price)
    if row.context_window == "200k-1M":
        per_mtok *= Decimal("1.5") if kind.price == "output" else 2
    if row.service_tier == "batch":
        per_mtok /= 2
    amount = per_mtok * _CENTS_PER_TOKEN_PER_DOLLAR_PER_MTOK * getattr(row, kind.row_field)
    return CostItem(
        workspace_id=row.workspace_id,
        description=_description(model, row, kind.label),
        cost_type="tokens",
        model=row.model,
        service_tier=row.service_tier,
        context_window=row.context_window,
        token_type=kind.token_type,
        amount=amount,
    )


def _description(model: Model, row: UsageRow, label: str) -> str:
    batch = " Batch" if row.service_tier == "batch" else ""
    long = " Long Context" if row.context_window == "200k-1M" else ""
    return f"{model.display}{batch}{long} Usage - {label}"


def cost_report(query: Query, view: OrgView) -> JsonDict:
    width = query.get("bucket_width") or "1d"
    if width != "1d":
        raise invalid("bucket_width: the cost report only supports '1d'")
    window = plan_window(query, view, width, COST_LIMITS)
    group_by = _group_by(query, COST_DIMENSIONS)
    data = [
        _bucket_json(start, width, _cost_results(bucket_rows(view, start, width), group_by))
        for start in window.starts
    ]
    return _envelope(window, data)


def _cost_results(rows: list[UsageRow], group_by: tuple[str, ...]) -> list[JsonDict]:
    totals: dict[tuple[str | None, str | None], tuple[CostItem, Decimal]] = {}
    for row in rows:
        for item in cost_items(row):
            key = (
                item.workspace_id if "workspace_id" in group_by else None,
                item.description if "description" in group_by else None,
            )
            first, amount = totals.get(key, (item, Decimal(0)))
            totals[key] = (first, amount + item.amount)
    by_description = "description" in group_by
    return [_cost_json(key, *totals[key], by_description) for key in sorted(totals, key=_sort_key)]


def _cost_json(
    key: tuple[str | None, str | None], item: CostItem, amount: Decimal, by_description: bool
) -> JsonDict:
    return {
        "amount": decimal_text(amount),
        "currency": "USD",
        "workspace_id": key[0],
        "description": key[1],
        "cost_type": item.cost_type if by_description else None,
        "model": item.model if by_description else None,
        "service_tier": item.service_tier if by_description else None,
        "context_window": item.context_window if by_description else None,
        "token_type": item.token_type if by_description else None,
        "inference_geo": None,
    }


def decimal_text(amount: Decimal) -> str:
    """Plain decimal notation without exponent or trailing zeros: ``'1200'``, ``'12.345'``."""
    return format(amount.normalize(), "f")


def key_origins(keys: Iterable[ApiKey], default_workspace_id: str) -> list[KeyOrigin]:
    """API keys as traffic sources, oldest first."""
    origins = (
        KeyOrigin(
            key.created_at,
            key.id,
            None if key.workspace_id == default_workspace_id else key.workspace_id,
            key.name,
            key.traffic_until,
        )
        for key in keys
    )
    return sorted(origins, key=lambda origin: (origin.created_at, origin.api_key_id))
