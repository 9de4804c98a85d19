"""``roster keys``: every API key with its workspace, owner, age, expiry, status and last use in a
window of days, as rows, and those rows as a table, JSON or CSV.

Built from the pipeline's ``ApiKey``, ``Member`` and ``Workspace`` values and the messages usage
report grouped by ``api_key_id``. The owner is the key's creator: their email while they are a
member, ``former member`` after, ``none`` for a key no user created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from roster.model import ApiKey, Member, Workspace
from roster.reports.governance import Window, days_from, notes
from roster.reports.render import FORMATS, by_format
from roster.reports.table import WIDTH, Column, render_csv, render_json, render_table
from roster.reports.usage import DEFAULT_WORKSPACE

JSON = dict[str, Any]
KEYS_FORMATS = FORMATS
FORMER_MEMBER = "former member"
NO_OWNER = "none"
NEVER = "never"
# In the order keys are shown: the ones that still work first.
STATUSES = ("active", "inactive", "expired", "archived")
FIELDS = (
    "id",
    "name",
    "workspace_id",
    "workspace",
    "owner",
    "owner_email",
    "created_by",
    "created_at",
    "age_days",
    "expires_at",
    "status",
    "last_used",
)


@dataclass(frozen=True, slots=True)
class KeyRow:
    """An API key as people read it: ``workspace`` and ``owner`` are labels; ``owner_email``
    is None unless the creator is a member; ``last_used`` a day in the window, or None."""

    id: str
    name: str
    workspace_id: str | None
    workspace: str
    owner: str
    owner_email: str | None
    created_by: str | None
    created_at: str
    age_days: int | None
    expires_at: str | None
    status: str
    last_used: str | None

    @property
    def data(self) -> JSON:
        return {name: getattr(self, name) for name in FIELDS}


@dataclass(frozen=True, slots=True)
class KeysReport:
    window: Window
    rows: tuple[KeyRow, ...]


def keys_report(
    window: Window,
    keys: Iterable[ApiKey],
    members: Iterable[Member],
    workspaces: Iterable[Workspace],
    last_used: Mapping[str, str],
) -> KeysReport:
    """Every key: active ones first, then inactive, expired, archived; the oldest first."""
    emails = {m.id: m.email for m in members}
    names = {w.id: DEFAULT_WORKSPACE if w.is_default else w.name for w in workspaces}
    rows = (_row(k, emails, names, last_used, window) for k in keys)
    return KeysReport(window, tuple(sorted(rows, key=_order)))


def _row(
    key: ApiKey,
    emails: Mapping[str, str],
    workspaces: Mapping[str, str],
    last_used: Mapping[str, str],
    window: Window,
) -> KeyRow:
    email = emails.get(key.created_by or "")
    return KeyRow(
        id=key.id,
        name=key.name,
        workspace_id=key.workspace_id,
        workspace=workspace_label(key.workspace_id, workspaces),
        owner=email or (NO_OWNER if key.created_by is None else FORMER_MEMBER),
        owner_email=email,
        created_by=key.created_by,
        created_at=key.created_at,
        age_days=days_from(key.created_at, window.today) if key.created_at else None,
        expires_at=key.expires_at or None,
        status=key.status,
        last_used=last_used.get(key.id),
    )


def workspace_label(workspace_id: str | None, names: Mapping[str, str]) -> str:
    """The workspace's name; ``Default`` for the default one (the API's null, in the older
    shape); the id itself for a workspace not listed."""
    if workspace_id is None:
        return DEFAULT_WORKSPACE
    return names.get(workspace_id, workspace_id)


def _order(row: KeyRow) -> tuple[int, str, str, str]:
    rank = STATUSES.index(row.status) if row.status in STATUSES else len(STATUSES)
    return rank, row.created_at, row.name, row.id


# --- table ------------------------------------------------------------------------------------


def keys_table(report: KeysReport, width: int | None = WIDTH) -> str:
    """A row per key under a row per status, as the keys are sorted."""
    if not report.rows:
        return "The organization has no API keys.\n"
    columns = [
        Column("STATUS / NAME", shrink=2),
        Column("WORKSPACE", shrink=3),
        Column("OWNER", shrink=1),
        Column("AGE", "right"),
        Column("EXPIRES"),
        Column("LAST USED"),
    ]
    cells: list[list[str]] = []
    for status, rows in groupby(report.rows, key=lambda row: row.status):
        cells.append([status, *[""] * (len(columns) - 1)])
        cells += [_cells(row) for row in rows]
    return render_table(columns, cells, width) + "\n" + _footer(report.window, width)


def _cells(row: KeyRow) -> list[str]:
    return [
        f"  {row.name}",
        row.workspace,
        row.owner,
        "-" if row.age_days is None else str(row.age_days),
        (row.expires_at or NEVER)[:10],
        row.last_used or "-",
    ]


def _footer(window: Window, width: int | None) -> str:
    return notes(
        [
            f"Window: {window.label}.",
            "LAST USED: the last day in the window with API usage by the key; -: none.",
            f"AGE: days from the key's creation to {window.today}; dates: --format json or csv.",
        ],
        width,
    )


# --- json and csv -----------------------------------------------------------------------------


def keys_data(report: KeysReport) -> JSON:
    return {"window": report.window.data, "keys": [row.data for row in report.rows]}


def keys_csv(report: KeysReport) -> str:
    rows = [["" if row.data[f] is None else row.data[f] for f in FIELDS] for row in report.rows]
    return render_csv(FIELDS, rows)


def render_keys(report: KeysReport, fmt: str, width: int | None = WIDTH) -> str:
    return by_format(
        fmt,
        report,
        {
            "table": lambda r: keys_table(r, width),
            "json": lambda r: render_json(keys_data(r)),
            "csv": keys_csv,
        },
    )
