"""``roster activity``: who uses their seat. Each member's attributable activity over a window of
days, from the Claude Code report and the messages usage report, as rows, and those rows as a
table, JSON, CSV or markdown (the body of an issue a scheduled job keeps up to date).

Attributable is what the Admin API ties to a person (``ATTRIBUTABLE``); anything else is unseen,
so an idle row asks a question and decides nothing. Pending invites have no account yet: nothing
is attributed to them and they are never idle.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from roster.model import ApiKey, Invite, Member
from roster.reports.claude_code import activity_of, actor_of
from roster.reports.governance import ApiUse, Window, days_from, markdown_table, notes
from roster.reports.render import by_format
from roster.reports.table import (
    WIDTH,
    Column,
    compact,
    count,
    plural,
    render_csv,
    render_json,
    render_table,
)
from roster.untrusted import markdown_text

JSON = dict[str, Any]
ACTIVITY_FORMATS = ("table", "json", "csv", "markdown")
# The first line of the markdown: how a scheduled job finds the issue it posted before.
MARKER = "<!-- roster-activity -->"
ATTRIBUTABLE = (
    "Activity is what the Admin API attributes to a person: Claude Code use by their email or"
    " by the name of an API key they created, and API usage by their account or by API keys"
    " they created. Console or claude.ai use that the Admin API does not report is not seen,"
    " so an idle seat is a question for a person, not a verdict."
)
API_ACTOR = "api_actor"  # a Claude Code record's actor that is an API key, by name
# In the order rows are shown: the seats to ask about first.
STATES = ("idle", "new", "active", "invited")
FIELDS = (
    "email",
    "role",
    "status",
    "joined_at",
    "state",
    "last_active",
    "days_idle",
    "active_days",
    "claude_code_sessions",
    "api_tokens",
)


# --- what the reports say, and whose it is ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeUse:
    """One Claude Code report record: a day's use by a person (``email``, lower-case) or
    through an API key (``key_name``)."""

    day: str
    email: str | None
    key_name: str | None
    sessions: int


def code_uses(day: str, records: Iterable[JSON]) -> tuple[CodeUse, ...]:
    """The records of one day's Claude Code report (the report asked for, whatever the
    record's own ``date`` spells)."""
    return tuple(_code_use(day, record) for record in records)


def _code_use(day: str, record: JSON) -> CodeUse:
    actor = actor_of(record)
    return CodeUse(
        day,
        actor.name.lower() if actor.is_user else None,
        actor.name if actor.kind == API_ACTOR else None,
        activity_of(record).sessions,
    )


@dataclass(frozen=True, slots=True)
class Owners:
    """Whose a use is, by user id: members by email, API keys by id and by name. A name that
    keys of different creators share (or a key no user created) belongs to no one."""

    by_email: Mapping[str, str]
    by_key: Mapping[str, str]
    by_key_name: Mapping[str, str]

    @classmethod
    def of(cls, members: Iterable[Member], keys: Iterable[ApiKey]) -> Owners:
        keys = tuple(keys)
        return cls(
            by_email={m.email: m.id for m in members},
            by_key={k.id: k.created_by for k in keys if k.created_by is not None},
            by_key_name=_sole_creators(keys),
        )

    def of_code(self, use: CodeUse) -> set[str]:
        if use.email is not None:
            return _known(self.by_email.get(use.email))
        return _known(self.by_key_name.get(use.key_name or ""))

    def of_api(self, use: ApiUse) -> set[str]:
        return _known(use.account_id) | _known(self.by_key.get(use.api_key_id or ""))


def _sole_creators(keys: Iterable[ApiKey]) -> dict[str, str]:
    """Each key name that only keys of one user have, and that user."""
    creators: dict[str, set[str | None]] = {}
    for key in keys:
        creators.setdefault(key.name, set()).add(key.created_by)
    sole = {name: ids.pop() for name, ids in creators.items() if len(ids) == 1}
    return {name: user_id for name, user_id in sole.items() if user_id is not None}


def _known(user_id: str | None) -> set[str]:
    return set() if user_id is None else {user_id}


@dataclass(frozen=True, slots=True)
class Activity:
    """What one person did in the window: the days with any use, Claude Code sessions, tokens."""

    days: frozenset[str] = frozenset()
    sessions: int = 0
    tokens: int = 0

    @property
    def last_day(self) -> str | None:
        return max(self.days, default=None)

    def __add__(self, other: Activity) -> Activity:
        return Activity(
            self.days | other.days, self.sessions + other.sessions, self.tokens + other.tokens
        )


def member_activity(
    owners: Owners, code: Iterable[CodeUse], api: Iterable[ApiUse]
) -> dict[str, Activity]:
    """Each user id's activity; a use that is two people's (an account using another's key)
    counts for both, and once for one person who is both."""
    found: dict[str, Activity] = {}
    seen = [
        *((owners.of_code(u), Activity(frozenset({u.day}), sessions=u.sessions)) for u in code),
        *((owners.of_api(u), Activity(frozenset({u.day}), tokens=u.tokens)) for u in api),
    ]
    for user_ids, activity in seen:
        for user_id in user_ids:
            found[user_id] = found.get(user_id, Activity()) + activity
    return found


# --- rows -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActivityRow:
    """A member (``status`` member) or pending invite (``pending``) and what they did.

    ``state``: ``active`` (some use in the window), ``idle`` (none, and a member since before
    it), ``new`` (none, but joined in it), ``invited``. ``days_idle`` counts from the last
    active day to today, or for a new member from joining; None when that is before the window.
    """

    email: str
    role: str
    status: str
    joined_at: str
    state: str
    last_active: str | None = None
    days_idle: int | None = None
    active_days: int = 0
    claude_code_sessions: int = 0
    api_tokens: int = 0

    @property
    def data(self) -> JSON:
        return {name: getattr(self, name) for name in FIELDS}


@dataclass(frozen=True, slots=True)
class ActivityReport:
    """Every member and pending invite over ``window``; ``idle_only`` shows just the idle."""

    window: Window
    rows: tuple[ActivityRow, ...]
    idle_only: bool = False

    @property
    def shown(self) -> tuple[ActivityRow, ...]:
        return tuple(r for r in self.rows if not self.idle_only or r.state == "idle")

    @property
    def states(self) -> Counter[str]:
        return Counter(row.state for row in self.rows)

    def only_idle(self) -> ActivityReport:
        return replace(self, idle_only=True)


def activity_report(
    window: Window,
    members: Iterable[Member],
    invites: Iterable[Invite],
    keys: Iterable[ApiKey],
    *,
    code: Iterable[CodeUse],
    api: Iterable[ApiUse],
) -> ActivityReport:
    """Members and pending invites (expired ones hold no seat), the seats to ask about first."""
    members = tuple(members)
    found = member_activity(Owners.of(members, keys), code, api)
    rows = [
        *(member_row(m, found.get(m.id, Activity()), window) for m in members),
        *(invite_row(i) for i in invites if i.status == "pending"),
    ]
    return ActivityReport(window, tuple(sorted(rows, key=_order)))


def member_row(member: Member, activity: Activity, window: Window) -> ActivityRow:
    last = activity.last_day
    row = ActivityRow(member.email, member.role, "member", member.added_at, "active", last)
    if last is not None:
        return replace(
            row,
            days_idle=days_from(last, window.today),
            active_days=len(activity.days),
            claude_code_sessions=activity.sessions,
            api_tokens=activity.tokens,
        )
    if member.added_at and member.added_at[:10] >= window.first_day:
        return replace(row, state="new", days_idle=days_from(member.added_at, window.today))
    return replace(row, state="idle")


def invite_row(invite: Invite) -> ActivityRow:
    return ActivityRow(invite.email, invite.role, "pending", invite.invited_at, "invited")


def _order(row: ActivityRow) -> tuple[int, int, str]:
    """Idle, new, active (the longest idle first), invited; then by email."""
    return STATES.index(row.state), -(row.days_idle or 0), row.email


# --- table ------------------------------------------------------------------------------------


def activity_table(report: ActivityReport, width: int | None = WIDTH) -> str:
    shown = report.shown
    members = [r for r in shown if r.status == "member"]
    invites = [r for r in shown if r.status == "pending"]
    parts = [f"{_title(report)}, {report.window.label}\n{_summary(report)}\n"]
    parts.append(_members_table(members, report.window, width) if members else _none(report))
    if invites:
        parts.append(_invites_table(invites, width))
    return "\n".join([*parts, _legend(report.window, width)])


def _title(report: ActivityReport) -> str:
    return "Idle seats" if report.idle_only else "Seat activity"


def _summary(report: ActivityReport) -> str:
    states = report.states
    members = sum(states[s] for s in ("idle", "new", "active"))
    parts = [f"{count(states['idle'])} of {plural(members, 'member')} idle"]
    parts += [f"{count(states[s])} {s}" for s in ("new", "active") if states[s]]
    if states["invited"]:
        parts.append(plural(states["invited"], "pending invite"))
    return ", ".join(parts)


def _none(report: ActivityReport) -> str:
    if report.idle_only:
        return (
            f"No idle seats: every member who joined before {report.window.first_day}\n"
            "has attributable activity since.\n"
        )
    return "No members.\n"


def _members_table(rows: Sequence[ActivityRow], window: Window, width: int | None) -> str:
    columns = [
        Column("EMAIL", shrink=1),
        Column("ROLE", shrink=2),
        Column("JOINED"),
        Column("LAST ACTIVE"),
        Column("IDLE", "right"),
        Column("SESSIONS", "right"),
        Column("TOKENS", "right"),
    ]
    cells = [
        [
            r.email,
            r.role,
            r.joined_at[:10],
            r.last_active or "-",
            idle_text(r, window),
            count(r.claude_code_sessions),
            compact(r.api_tokens),
        ]
        for r in rows
    ]
    return render_table(columns, cells, width)


def idle_text(row: ActivityRow, window: Window) -> str:
    """Days idle, ``>30`` when none of the window's days was active, ``-`` for an invite."""
    if row.state == "idle":
        return f">{window.day_count - 1}"
    return "-" if row.days_idle is None else str(row.days_idle)


def _invites_table(rows: Sequence[ActivityRow], width: int | None) -> str:
    columns = [Column("PENDING INVITE", shrink=1), Column("ROLE", shrink=2), Column("INVITED")]
    return render_table(columns, [[r.email, r.role, r.joined_at[:10]] for r in rows], width)


def _legend(window: Window, width: int | None) -> str:
    legend = (
        f"IDLE: days since the last active day (a new member: since joining); "
        f">{window.day_count - 1}: none in the window. SESSIONS: Claude Code sessions. "
        "TOKENS: API tokens (K thousand, M million). Pending invites are never idle."
    )
    return notes([legend, ATTRIBUTABLE], width)


# --- markdown ---------------------------------------------------------------------------------


def activity_markdown(report: ActivityReport) -> str:
    shown = report.shown
    members = [r for r in shown if r.status == "member"]
    invites = [r for r in shown if r.status == "pending"]
    blocks = [
        MARKER,
        f"## {_title(report)}",
        f"**{report.window.label}**: {_summary(report)}.",
        _md_members(members, report.window) if members else _none(report).replace("\n", " "),
    ]
    if invites:
        blocks += ["### Pending invites", _md_invites(invites)]
    blocks.append(f"_{ATTRIBUTABLE} Pending invites are never idle._")
    return "\n\n".join(block.rstrip() for block in blocks) + "\n"


def _md_members(rows: Sequence[ActivityRow], window: Window) -> str:
    header = ["Email", "Role", "Joined", "Last active", "Days idle", "Claude Code sessions"]
    cells = [
        [
            markdown_text(r.email, in_table=True),
            markdown_text(r.role, in_table=True),
            markdown_text(r.joined_at[:10], in_table=True),  # the API's text, a date or not
            markdown_text(r.last_active or "-", in_table=True),
            idle_text(r, window),
            count(r.claude_code_sessions),
            count(r.api_tokens),
        ]
        for r in rows
    ]
    return markdown_table([*header, "API tokens"], cells, right=3)


def _md_invites(rows: Sequence[ActivityRow]) -> str:
    cells = [
        [
            markdown_text(r.email, in_table=True),
            markdown_text(r.role, in_table=True),
            markdown_text(r.joined_at[:10], in_table=True),
        ]
        for r in rows
    ]
    return markdown_table(["Email", "Role", "Invited"], cells, right=0)


# --- json and csv -----------------------------------------------------------------------------


def activity_data(report: ActivityReport) -> JSON:
    return {
        "window": report.window.data,
        "attributable": ATTRIBUTABLE,
        "idle_only": report.idle_only,
        "counts": {state: report.states[state] for state in STATES},
        "people": [row.data for row in report.shown],
    }


def activity_csv(report: ActivityReport) -> str:
    return render_csv(FIELDS, [[_csv(row.data[f]) for f in FIELDS] for row in report.shown])


def _csv(value: object) -> object:
    return "" if value is None else value


def render_activity(report: ActivityReport, fmt: str, width: int | None = WIDTH) -> str:
    return by_format(
        fmt,
        report,
        {
            "table": lambda r: activity_table(r, width),
            "json": lambda r: render_json(activity_data(r)),
            "csv": activity_csv,
            "markdown": activity_markdown,
        },
    )
