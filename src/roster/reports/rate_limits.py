"""``roster rate-limits``: the organization's rate limits beside the workspaces' overrides, as
rows, and those rows as a table, JSON or CSV.

Built from the pipeline's ``RateLimitGroup`` and ``WorkspaceRateLimit`` values. The Default
workspace has no overrides of its own (it always has the organization's limits), so it is never
a column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from roster.model import (
    LIMITER_TYPES,
    RATE_LIMIT_GROUP_TYPES,
    RateLimitGroup,
    Workspace,
    WorkspaceRateLimit,
)
from roster.plan_workspaces import DEFAULT_WORKSPACE
from roster.reports.render import by_format
from roster.reports.table import WIDTH, Column, count, render_csv, render_json, render_table
from roster.untrusted import printable

ABOVE = "*"
CSV_FIELDS = (
    "group",
    "group_id",
    "group_type",
    "limiter",
    "organization_limit",
    "workspace",
    "workspace_id",
    "value",
)
NAMING = (
    "In a roster file, name a group by one of its models (claude-sonnet-4-5),\n"
    "its type (batch) or its id (rlg_...); --format json lists its models and id.\n"
)


class UnknownWorkspaceError(ValueError):
    """``--workspace`` names no active workspace: none, an archived one, or the Default one."""


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The organization's rate-limit groups, the workspaces shown (in column order) and the
    overrides of those workspaces."""

    groups: tuple[RateLimitGroup, ...]
    workspaces: tuple[Workspace, ...] = ()
    overrides: tuple[WorkspaceRateLimit, ...] = ()

    def override(self, workspace: Workspace, group: RateLimitGroup) -> Mapping[str, int]:
        """What ``workspace`` sets of ``group``'s limits (empty: it inherits them all)."""
        for entry in self.overrides:
            if entry.workspace_id == workspace.id and entry.rate_limit_id == group.id:
                return entry.overrides
        return {}


@dataclass(frozen=True, slots=True)
class LimitRow:
    """One limiter type of one group: the organization's limit (None: it sets none) and each
    shown workspace's override (None: the workspace inherits the organization's)."""

    group: RateLimitGroup
    limiter: str
    organization: int | None
    workspaces: tuple[int | None, ...]

    def above(self, value: int | None) -> bool:
        """Whether a workspace's ``value`` exceeds the organization's limit (which then applies)."""
        return value is not None and self.organization is not None and value > self.organization


def chosen_workspaces(workspaces: Sequence[Workspace], name: str | None) -> tuple[Workspace, ...]:
    """The workspaces whose overrides to read: every active one, or those named ``name``.

    ``workspaces`` leaves the Default workspace out, as the API's list does unless asked.
    ``UnknownWorkspaceError`` when ``name`` is no active workspace's.
    """
    active = tuple(w for w in workspaces if not w.archived)
    if name is None:
        return active
    chosen = tuple(w for w in active if w.name == name)
    if chosen:
        return chosen
    raise UnknownWorkspaceError(_unknown(workspaces, name))


def _unknown(workspaces: Sequence[Workspace], name: str) -> str:
    if any(w.name == name for w in workspaces):
        return f"workspace '{printable(name)}' is archived: it has no rate limits"
    if name == DEFAULT_WORKSPACE:
        return "the Default workspace always has the organization's rate limits"
    close = sorted(
        {w.name for w in workspaces if not w.archived and w.name.casefold() == name.casefold()}
    )
    hint = f" (did you mean '{printable(close[0])}'?)" if close else ""
    return f"no active workspace is named '{printable(name)}'{hint}"


def rate_limits_shown(
    groups: Sequence[RateLimitGroup],
    workspaces: Sequence[Workspace],
    overrides: Sequence[WorkspaceRateLimit],
    *,
    every_workspace: bool = False,
) -> RateLimits:
    """What to show of the ``workspaces`` read: every one with ``every_workspace`` (it was
    asked for by name), else only those that override a limit."""
    overriding = {o.workspace_id for o in overrides if o.overrides}
    shown = tuple(w for w in workspaces if every_workspace or w.id in overriding)
    ids = {w.id for w in shown}
    return RateLimits(
        groups=tuple(sorted(groups, key=group_order)),
        workspaces=shown,
        overrides=tuple(o for o in overrides if o.workspace_id in ids),
    )


def group_order(group: RateLimitGroup) -> tuple[int, str, str]:
    """Model groups first (by name), then the other kinds in the API's order."""
    kinds = RATE_LIMIT_GROUP_TYPES
    rank = kinds.index(group.group_type) if group.group_type in kinds else len(kinds)
    return rank, group.label, group.group_id


def limiter_order(limiter: str) -> tuple[int, str]:
    known = LIMITER_TYPES
    return (known.index(limiter) if limiter in known else len(known)), limiter


def limit_rows(report: RateLimits) -> tuple[LimitRow, ...]:
    """A row per group and limiter type that the organization limits or a workspace overrides."""
    return tuple(row for group in report.groups for row in _group_rows(report, group))


def _group_rows(report: RateLimits, group: RateLimitGroup) -> list[LimitRow]:
    overrides = [report.override(w, group) for w in report.workspaces]
    limiters = set(group.limits).union(*overrides)
    return [
        LimitRow(
            group,
            limiter,
            group.limits.get(limiter),
            tuple(values.get(limiter) for values in overrides),
        )
        for limiter in sorted(limiters, key=limiter_order)
    ]


# --- table ------------------------------------------------------------------------------------


def rate_limits_table(report: RateLimits, width: int | None = WIDTH) -> str:
    rows = limit_rows(report)
    if not rows:
        return "The organization has no rate limits.\n"
    marked = _marked_columns(rows)
    columns = [
        Column("GROUP / LIMITER", shrink=1),
        Column("ORGANIZATION", "right"),
        *(Column(printable(h), "right", shrink=2) for h in workspace_headers(report.workspaces)),
    ]
    cells: list[list[str]] = []
    for _, grouped in groupby(rows, key=lambda row: row.group.id):
        group_rows = list(grouped)
        cells.append([group_rows[0].group.label, *[""] * (len(columns) - 1)])
        cells += [_row_cells(row, marked) for row in group_rows]
    return render_table(columns, cells, width) + "\n" + _notes(report, rows)


def _marked_columns(rows: Sequence[LimitRow]) -> list[bool]:
    """For each workspace column, whether a value in it is above the organization's limit."""
    columns = zip(*[[row.above(value) for value in row.workspaces] for row in rows], strict=True)
    return [any(column) for column in columns]


def _row_cells(row: LimitRow, marked: Sequence[bool]) -> list[str]:
    return [
        f"  {row.limiter}",
        _limit(row.organization),
        *(_override(row, value, mark) for value, mark in zip(row.workspaces, marked, strict=True)),
    ]


def _limit(value: int | None) -> str:
    return "-" if value is None else count(value)


def _override(row: LimitRow, value: int | None, column_marked: bool) -> str:
    """A workspace's cell: blank where it inherits; in a column with a mark, every value keeps
    the mark's place so the digits stay aligned."""
    if value is None:
        return ""
    mark = ABOVE if row.above(value) else " " if column_marked else ""
    return count(value) + mark


def workspace_headers(workspaces: Sequence[Workspace]) -> list[str]:
    """Each workspace's name; with its id too where two shown workspaces share the name."""
    names = [w.name for w in workspaces]
    return [w.name if names.count(w.name) == 1 else f"{w.name} ({w.id})" for w in workspaces]


def _notes(report: RateLimits, rows: Sequence[LimitRow]) -> str:
    notes = []
    if not report.workspaces:
        notes.append("No workspace overrides the organization's limits.\n")
    else:
        notes.append("A blank cell: the workspace has the organization's limit.\n")
        notes += [
            f"Workspace '{printable(w.name)}' overrides none of the organization's limits.\n"
            for w in _overriding_nothing(report)
        ]
    if any(row.above(value) for row in rows for value in row.workspaces):
        notes.append(f"{ABOVE} above the organization's limit: the lower one applies.\n")
    return "".join(notes) + NAMING


def _overriding_nothing(report: RateLimits) -> list[Workspace]:
    return [w for w in report.workspaces if not any(report.override(w, g) for g in report.groups)]


# --- json -------------------------------------------------------------------------------------


def rate_limits_data(report: RateLimits) -> dict[str, Any]:
    return {
        "groups": [_group_data(group) for group in report.groups],
        "workspaces": [_workspace_data(report, w) for w in report.workspaces],
    }


def _group_data(group: RateLimitGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "group_id": group.group_id or None,
        "group_type": group.group_type,
        "display_name": group.display_name or None,
        "models": list(group.models),
        "limits": dict(group.limits),
    }


def _workspace_data(report: RateLimits, workspace: Workspace) -> dict[str, Any]:
    overrides = [
        {"rate_limit_id": group.id, "group_id": group.group_id or None, "limits": dict(limits)}
        for group in report.groups
        if (limits := report.override(workspace, group))
    ]
    return {"id": workspace.id, "name": workspace.name, "overrides": overrides}


# --- csv --------------------------------------------------------------------------------------


def rate_limits_csv(report: RateLimits) -> str:
    """Long form: the organization's limit, then each workspace's override, one row each."""
    rows = [cells for row in limit_rows(report) for cells in _csv_rows(report, row)]
    return render_csv(CSV_FIELDS, rows)


def _csv_rows(report: RateLimits, row: LimitRow) -> list[list[object]]:
    group = row.group
    organization = "" if row.organization is None else row.organization
    head = [group.label, group.group_id, group.group_type, row.limiter, organization]
    rows: list[list[object]] = []
    if row.organization is not None:
        rows.append([*head, "", "", row.organization])
    rows += [
        [*head, w.name, w.id, value]
        for w, value in zip(report.workspaces, row.workspaces, strict=True)
        if value is not None
    ]
    return rows


def render_rate_limits(report: RateLimits, fmt: str, width: int | None = WIDTH) -> str:
    return by_format(
        fmt,
        report,
        {
            "table": lambda r: rate_limits_table(r, width),
            "json": lambda r: render_json(rate_limits_data(r)),
            "csv": rate_limits_csv,
        },
    )
