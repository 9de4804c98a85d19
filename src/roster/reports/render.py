"""Rendering ``roster org``, ``members``, ``usage`` and ``cost`` as a table, JSON or CSV.

Tables are for people (names, dollars rounded to the cent, 80 columns); JSON and CSV are for
programs: raw API values beside the labels, exact decimal amounts, one CSV row per bucket and group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

from roster.reports.cost import COST_GROUP_BY, CostBucket, CostReport, decimal_text, dollars, usd
from roster.reports.dates import Period
from roster.reports.members import MemberRow, OrgSummary
from roster.reports.table import (
    WIDTH,
    Column,
    compact,
    count,
    render_csv,
    render_json,
    render_table,
)
from roster.reports.usage import (
    TOKEN_KINDS,
    USAGE_DELAY_MINUTES,
    USAGE_GROUP_BY,
    Group,
    Tokens,
    UsageBucket,
    UsageReport,
)

T = TypeVar("T")
FORMATS = ("table", "json", "csv")
TOKEN_HEADERS = ("UNCACHED", "CACHE RD", "CACHE WR", "OUTPUT", "TOTAL")
_WIDTH_NAMES = {"1d": "daily", "1h": "hourly", "1m": "per-minute"}


def by_format(fmt: str, value: T, renderers: dict[str, Callable[[T], str]]) -> str:
    return renderers[fmt](value)


def share(part: Decimal | int, whole: Decimal | int) -> str:
    if not whole:
        return "–"
    percent = Decimal(part) * 100 / Decimal(whole)
    return f"{percent.quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%"


def period_text(period: Period) -> str:
    return f"{_moment_text(period.start)} to {_moment_text(period.end)} UTC"


def _moment_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def bucket_text(bucket: Period) -> str:
    """A bucket as people name it: by its day, or the hour or minute it starts."""
    if bucket.end - bucket.start == timedelta(days=1):
        return f"bucket {bucket.start.strftime('%Y-%m-%d')}"
    return f"bucket {_moment_text(bucket.start)} UTC"


def _newest(bucket: UsageBucket | CostBucket | None, what: str, note: str = "") -> str:
    """The line that says how fresh a table is: its newest bucket with data."""
    if bucket is None:
        return ""
    return f"Newest {what}: {bucket_text(bucket.bounds)}{note}.\n"


# --- org --------------------------------------------------------------------------------------


def org_table(summary: OrgSummary, width: int | None = WIDTH) -> str:
    invites = f"{summary.pending_invites} pending, {summary.expired_invites} expired"
    head = render_table(
        [Column(""), Column("", shrink=1)],
        [
            ["Organization", summary.organization.name],
            ["ID", summary.organization.id],
            ["Members", count(summary.members)],
            ["Invites", invites],
            ["Workspaces", f"{len(summary.workspaces)} active"],
        ],
        width,
        header=False,
    )
    roles = render_table(
        [Column("ROLE"), Column("MEMBERS", "right")],
        [[role, count(n)] for role, n in summary.roles],
        width,
    )
    return "\n".join(filter(None, [head, roles, _workspaces_table(summary, width)]))


def _workspaces_table(summary: OrgSummary, width: int | None) -> str:
    if not summary.workspaces:
        return ""
    return render_table(
        [Column("WORKSPACE", shrink=1), Column("ID"), Column("CREATED")],
        [[w.name, w.id, w.created_at[:10]] for w in summary.workspaces],
        width,
    )


def org_data(summary: OrgSummary) -> dict[str, Any]:
    return {
        "organization": {"id": summary.organization.id, "name": summary.organization.name},
        "members": {"total": summary.members, "by_role": dict(summary.roles)},
        "invites": {"pending": summary.pending_invites, "expired": summary.expired_invites},
        "workspaces": [
            {"id": w.id, "name": w.name, "created_at": w.created_at} for w in summary.workspaces
        ],
    }


def org_csv(summary: OrgSummary) -> str:
    rows: list[Sequence[object]] = [
        ["organization", "id", summary.organization.id],
        ["organization", "name", summary.organization.name],
        ["members", "total", summary.members],
        *(["role", role, n] for role, n in summary.roles),
        ["invites", "pending", summary.pending_invites],
        ["invites", "expired", summary.expired_invites],
        *(["workspace", w.id, w.name] for w in summary.workspaces),
    ]
    return render_csv(["section", "key", "value"], rows)


def render_org(summary: OrgSummary, fmt: str, width: int | None = WIDTH) -> str:
    return by_format(
        fmt,
        summary,
        {
            "table": lambda s: org_table(s, width),
            "json": lambda s: render_json(org_data(s)),
            "csv": org_csv,
        },
    )


# --- members ----------------------------------------------------------------------------------

MEMBER_FIELDS = ("email", "name", "role", "status", "joined_at", "expires_at")


def members_table(rows: Sequence[MemberRow], width: int | None = WIDTH) -> str:
    if not rows:
        return "No members or invites match.\n"
    columns = [
        Column("EMAIL", shrink=1),
        Column("NAME", shrink=2),
        Column("ROLE"),
        Column("STATUS"),
        Column("JOINED/EXP"),
    ]
    cells = [[r.email, r.name, r.role, r.status, r.date] for r in rows]
    return render_table(columns, cells, width)


def members_data(rows: Sequence[MemberRow]) -> dict[str, Any]:
    return {
        "count": len(rows),
        "members": [{f: getattr(r, f) or None for f in MEMBER_FIELDS} for r in rows],
    }


def members_csv(rows: Sequence[MemberRow]) -> str:
    return render_csv(MEMBER_FIELDS, [[getattr(r, f) for f in MEMBER_FIELDS] for r in rows])


def render_members(rows: Sequence[MemberRow], fmt: str, width: int | None = WIDTH) -> str:
    return by_format(
        fmt,
        rows,
        {
            "table": lambda r: members_table(r, width),
            "json": lambda r: render_json(members_data(r)),
            "csv": members_csv,
        },
    )


# --- groups shared by usage and cost ----------------------------------------------------------


def group_fields(
    group_by: Sequence[str], group: Group, api_names: dict[str, str]
) -> dict[str, str | None]:
    """A group as the API names it, plus ``workspace_name`` where the workspace is known."""
    fields: dict[str, str | None] = {}
    for dimension, value, label in zip(group_by, group.values, group.labels, strict=True):
        fields[api_names[dimension]] = value
        if dimension == "workspace":
            fields["workspace_name"] = label
    return fields


def group_columns(group_by: Sequence[str], api_names: dict[str, str]) -> list[str]:
    return list(
        group_fields(group_by, Group(("",) * len(group_by), ("",) * len(group_by)), api_names)
    )


def _group_header(group_by: Sequence[str]) -> list[Column]:
    return [Column(dimension.upper().replace("-", " "), shrink=1) for dimension in group_by]


# --- usage ------------------------------------------------------------------------------------


def usage_table(report: UsageReport, width: int | None = WIDTH) -> str:
    late = f"; the last ~{USAGE_DELAY_MINUTES} minutes may be missing"
    title = (
        f"Token usage, {period_text(report.period)}, {_WIDTH_NAMES[report.bucket]} buckets\n"
        "In tokens (K thousand, M million, B billion); exact counts: --format csv or json\n"
        f"{_newest(report.newest, 'usage', late)}\n"
    )
    if not report.groups:
        return title + "No usage in this period.\n"
    columns = [*_group_header(report.group_by), *(Column(h, "right") for h in TOKEN_HEADERS)]
    label_cells = [""] * max(len(report.group_by) - 1, 0)
    rows = [[*g.group.labels, *_token_cells(g.tokens)] for g in report.groups]
    if report.group_by:
        rows.append(["Total", *label_cells, *_token_cells(report.totals)])
    else:
        columns.insert(0, Column(""))
        rows = [["Total", *_token_cells(report.totals)]]
    return title + render_table(columns, rows, width)


def _token_cells(tokens: Tokens) -> list[str]:
    return [compact(tokens.data[kind]) for kind in (*TOKEN_KINDS, "total")]


def usage_data(report: UsageReport) -> dict[str, Any]:
    return {
        "period": report.period.data,
        "bucket_width": report.bucket,
        "group_by": list(report.group_by),
        "totals": report.totals.data,
        "groups": [
            {**group_fields(report.group_by, g.group, USAGE_GROUP_BY), "tokens": g.tokens.data}
            for g in report.groups
        ],
        "buckets": [
            {
                "starting_at": b.starting_at,
                "ending_at": b.ending_at,
                "totals": b.tokens.data,
                "groups": [
                    {
                        **group_fields(report.group_by, c.group, USAGE_GROUP_BY),
                        "tokens": c.tokens.data,
                    }
                    for c in b.cells
                ],
            }
            for b in report.buckets
        ],
    }


def usage_csv(report: UsageReport) -> str:
    kinds = (*TOKEN_KINDS, "total")
    return _cells_csv(
        report, USAGE_GROUP_BY, kinds, lambda cell: [cell.tokens.data[k] for k in kinds]
    )


def _cells_csv(
    report: UsageReport | CostReport,
    dimensions: dict[str, str],
    value_columns: Sequence[str],
    values: Callable[[Any], Sequence[Any]],
) -> str:
    """One row per bucket and group: the bucket's bounds, the group's fields, its values."""
    names = group_columns(report.group_by, dimensions)
    header = ["starting_at", "ending_at", *names, *value_columns]
    rows = [
        [
            bucket.starting_at,
            bucket.ending_at,
            *group_fields(report.group_by, cell.group, dimensions).values(),
            *values(cell),
        ]
        for bucket in report.buckets
        for cell in bucket.cells
    ]
    return render_csv(header, rows)


def render_usage(report: UsageReport, fmt: str, width: int | None = WIDTH) -> str:
    return by_format(
        fmt,
        report,
        {
            "table": lambda r: usage_table(r, width),
            "json": lambda r: render_json(usage_data(r)),
            "csv": usage_csv,
        },
    )


# --- cost -------------------------------------------------------------------------------------


def cost_table(report: CostReport, width: int | None = WIDTH) -> str:
    title = f"Cost, {period_text(report.period)}, daily buckets\n{_newest(report.newest, 'cost')}\n"
    if not report.groups:
        return title + "No cost in this period.\n"
    columns = [*_group_header(report.group_by), Column("COST", "right"), Column("SHARE", "right")]
    total = report.cents
    rows = [[*g.group.labels, dollars(g.cents), share(g.cents, total)] for g in report.groups]
    if report.group_by:
        rows.append(
            ["Total", *[""] * (len(report.group_by) - 1), dollars(total), share(total, total)]
        )
    else:
        columns.insert(0, Column(""))
        rows = [["Total", dollars(total), share(total, total)]]
    return title + render_table(columns, rows, width)


def _amount(cents: Decimal) -> dict[str, str]:
    return {"cents": decimal_text(cents), "usd": decimal_text(usd(cents))}


def cost_data(report: CostReport) -> dict[str, Any]:
    return {
        "period": report.period.data,
        "bucket_width": "1d",
        "currency": "USD",
        "group_by": list(report.group_by),
        "total": _amount(report.cents),
        "groups": [
            {**group_fields(report.group_by, g.group, COST_GROUP_BY), **_amount(g.cents)}
            for g in report.groups
        ],
        "buckets": [
            {
                "starting_at": b.starting_at,
                "ending_at": b.ending_at,
                **_amount(b.cents),
                "groups": [
                    {**group_fields(report.group_by, c.group, COST_GROUP_BY), **_amount(c.cents)}
                    for c in b.cells
                ],
            }
            for b in report.buckets
        ],
    }


def cost_csv(report: CostReport) -> str:
    columns = ("amount_cents", "amount_usd")
    return _cells_csv(report, COST_GROUP_BY, columns, lambda cell: [*_amount(cell.cents).values()])


def render_cost(report: CostReport, fmt: str, width: int | None = WIDTH) -> str:
    return by_format(
        fmt,
        report,
        {
            "table": lambda r: cost_table(r, width),
            "json": lambda r: render_json(cost_data(r)),
            "csv": cost_csv,
        },
    )
