"""Reads what the reports need from the Admin API: the fetch step of the reports pipeline.

Report ranges go out as several requests the API accepts, concurrently (the client bounds how
many at once): a phase told to the client's observer, counting finished requests. The
organization may come from a cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from roster.api import AdminClient
from roster.cache import MeCache
from roster.concurrency import gather_or_cancel
from roster.model import ApiKey, Invite, Member, Organization, RateLimitGroup, Workspace
from roster.progress import Tally, phase
from roster.reports.activity import ActivityReport, CodeUse, activity_report, code_uses
from roster.reports.claude_code import ClaudeCodeReport, claude_code_days, claude_code_report
from roster.reports.cost import CostQuery, CostReport, cost_report
from roster.reports.dashboard import Dashboard, dashboard
from roster.reports.dates import Chunk, Period, rfc3339
from roster.reports.forecast import MonthToDate
from roster.reports.forecast import month_to_date as month_so_far
from roster.reports.governance import ApiUse, Window, api_uses, last_used, window_since
from roster.reports.governance_summary import KEY_AGE_LIMIT, governance_section
from roster.reports.keys import KeysReport, keys_report
from roster.reports.members import OrgSummary, WorkspaceInfo, org_summary
from roster.reports.rate_limits import RateLimits, chosen_workspaces, rate_limits_shown
from roster.reports.usage import UsageQuery, UsageReport, usage_report
from roster.state import (
    api_key_from,
    fetch_people,
    fetch_rate_limits,
    fetch_workspaces,
    member_from,
    organization_from,
    rate_limit_group_from,
    read_phase,
    workspace_from,
)

JSON = dict[str, Any]
# The window the report's governance summary looks at, in days, as `roster activity` does.
GOVERNANCE_DAYS = 30


@dataclass(frozen=True, slots=True)
class People:
    """Members, and open invites (pending or expired, one per email not a member)."""

    members: tuple[Member, ...]
    invites: tuple[Invite, ...]


async def organization(client: AdminClient, cache: MeCache | None = None) -> Organization:
    """``/me``, from ``cache`` while it is fresh."""
    me = cache.get() if cache is not None else None
    if me is None:
        me = await client.me()
        if cache is not None:
            cache.put(me)
    return organization_from(me)


async def people(client: AdminClient) -> People:
    return People(*await fetch_people(client))


async def workspaces(client: AdminClient, *, everything: bool = False) -> list[JSON]:
    """Active named workspaces; with ``everything``, archived ones and the default one too."""
    with phase(client.observer, "workspaces") as tally:
        found = await client.list_workspaces(
            include_archived=everything, include_default=everything
        )
        tally.add(len(found))
    return found


async def workspace_names(client: AdminClient) -> dict[str, str]:
    return {str(w["id"]): str(w["name"]) for w in await workspaces(client, everything=True)}


async def org(client: AdminClient, cache: MeCache | None = None) -> OrgSummary:
    found, folks, active = await gather_or_cancel(
        organization(client, cache), people(client), workspaces(client)
    )
    infos = [WorkspaceInfo(str(w["id"]), str(w["name"]), str(w["created_at"])) for w in active]
    return org_summary(found, folks.members, folks.invites, infos)


async def _buckets(
    client: AdminClient,
    label: str,
    chunks: Sequence[Chunk],
    fetch: Callable[[Chunk], Awaitable[list[JSON]]],
) -> list[JSON]:
    """Every chunk's buckets, as the phase ``label`` counting finished requests."""
    with phase(client.observer, label, total=len(chunks)) as tally:
        pages = await gather_or_cancel(*(_counted(fetch(chunk), tally) for chunk in chunks))
    return [bucket for page in pages for bucket in page]


async def _counted(request: Awaitable[list[JSON]], tally: Tally) -> list[JSON]:
    buckets = await request
    tally.add(1)
    return buckets


async def usage(client: AdminClient, query: UsageQuery) -> UsageReport:
    def fetch(chunk: Chunk) -> Awaitable[list[JSON]]:
        return client.usage_report(
            starting_at=rfc3339(chunk.starting_at),
            ending_at=rfc3339(chunk.ending_at),
            bucket_width=query.bucket,
            group_by=query.api_group_by,
            limit=chunk.limit,
        )

    names = workspace_names(client) if "workspace" in query.group_by else _no_names()
    buckets, known = await gather_or_cancel(
        _buckets(client, "usage report", query.chunks, fetch), names
    )
    return usage_report(query.period, query.bucket, query.group_by, buckets, known)


async def cost(client: AdminClient, query: CostQuery) -> CostReport:
    def fetch(chunk: Chunk) -> Awaitable[list[JSON]]:
        return client.cost_report(
            starting_at=rfc3339(chunk.starting_at),
            ending_at=rfc3339(chunk.ending_at),
            group_by=query.api_group_by,
            limit=chunk.limit,
        )

    names = workspace_names(client) if "workspace" in query.group_by else _no_names()
    buckets, known = await gather_or_cancel(
        _buckets(client, "cost report", query.chunks, fetch), names
    )
    return cost_report(query.period, query.group_by, buckets, known)


async def _no_names() -> dict[str, str]:
    return {}


def dashboard_queries(period: Period) -> tuple[UsageQuery, CostQuery]:
    """The dashboard's reports: daily usage by model, and daily cost."""
    return UsageQuery(period, "1d", ("model",)), CostQuery(period)


async def report(
    client: AdminClient,
    period: Period,
    now: datetime,
    cache: MeCache | None = None,
    *,
    key_age_limit: int = KEY_AGE_LIMIT,
) -> Dashboard:
    """The dashboard of ``period``, its Claude Code use, the forecast of the month of ``now``,
    and the governance summary: idle seats over the last ``GOVERNANCE_DAYS`` and active keys
    older than ``key_age_limit`` days."""
    usage_query, cost_query = dashboard_queries(period)
    window = window_since(f"{GOVERNANCE_DAYS}d", now)
    # The period's Claude Code days and the governance window's are read once, together.
    period_days = claude_code_days(period)
    days = sorted({*period_days, *window.days})
    found, folks, used, spent, month, records, keys, spaces, api = await gather_or_cancel(
        organization(client, cache),
        people(client),
        usage(client, usage_query),
        cost(client, cost_query),
        month_to_date(client, now),
        claude_code_records(client, days),
        all_api_keys(client),
        fetch_workspaces(client),
        api_usage(client, window, ("api_key_id", "account_id")),
    )
    coded = claude_code_report(period, {day: records[day] for day in period_days})
    board = dashboard(
        found, folks.members, folks.invites, used, spent, month=month, claude_code=coded
    )
    code = _uses({day: records[day] for day in window.days})
    seats = activity_report(window, folks.members, folks.invites, keys, code=code, api=api)
    listed = keys_report(window, keys, folks.members, spaces, last_used(api))
    return replace(board, governance=governance_section(seats, listed, key_age_limit))


async def month_to_date(client: AdminClient, now: datetime) -> MonthToDate:
    """The month's daily usage and cost until ``now``: one request each (a month is at most 31
    daily buckets), none in the first second of a month."""
    period = month_so_far(now)
    if period is None:
        return MonthToDate(now)
    used, spent = await gather_or_cancel(
        _buckets(client, "month-to-date usage", UsageQuery(period).chunks, _daily_usage(client)),
        _buckets(client, "month-to-date cost", CostQuery(period).chunks, _daily_cost(client)),
    )
    return MonthToDate(now, usage_report(period, "1d", (), used), cost_report(period, (), spent))


def _daily_usage(client: AdminClient) -> Callable[[Chunk], Awaitable[list[JSON]]]:
    def fetch(chunk: Chunk) -> Awaitable[list[JSON]]:
        return client.usage_report(
            starting_at=rfc3339(chunk.starting_at),
            ending_at=rfc3339(chunk.ending_at),
            bucket_width="1d",
            limit=chunk.limit,
        )

    return fetch


def _daily_cost(client: AdminClient) -> Callable[[Chunk], Awaitable[list[JSON]]]:
    def fetch(chunk: Chunk) -> Awaitable[list[JSON]]:
        return client.cost_report(
            starting_at=rfc3339(chunk.starting_at),
            ending_at=rfc3339(chunk.ending_at),
            limit=chunk.limit,
        )

    return fetch


async def claude_code(client: AdminClient, period: Period) -> ClaudeCodeReport:
    """Claude Code use over ``period``: one report per UTC day."""
    days = claude_code_days(period)
    return claude_code_report(period, await claude_code_records(client, days))


async def claude_code_records(client: AdminClient, days: Sequence[str]) -> dict[str, list[JSON]]:
    """Each day's Claude Code records (``YYYY-MM-DD`` -> records): one report per UTC day (a
    request per page), the days concurrently (the client bounds how many at once and paces
    them)."""

    def fetch(day: str) -> Awaitable[list[JSON]]:
        params = [("starting_at", day), ("limit", str(CLAUDE_CODE_LIMIT))]
        return client.report(CLAUDE_CODE_REPORT, params)

    with phase(client.observer, "Claude Code report", total=len(days)) as tally:
        pages = await gather_or_cancel(*(_counted(fetch(day), tally) for day in days))
    return dict(zip(days, pages, strict=True))


async def rate_limits(client: AdminClient, workspace: str | None = None) -> RateLimits:
    """The organization's rate limits, beside the overrides of the active workspace(s) named
    ``workspace``, or of every active one (then only those that override something are shown).

    ``UnknownWorkspaceError`` (after one request) when ``workspace`` names no active workspace.
    """
    chosen = chosen_workspaces(await named_workspaces(client), workspace)
    if chosen:
        groups, overrides = await fetch_rate_limits(client, chosen, None)
    else:  # no workspace to read: fetch_rate_limits would not read the organization's either
        groups, overrides = await _organization_rate_limits(client), ()
    return rate_limits_shown(groups, chosen, overrides, every_workspace=workspace is not None)


async def named_workspaces(client: AdminClient) -> tuple[Workspace, ...]:
    """Every workspace but the Default one, archived ones included, by name: one list."""
    with phase(client.observer, "workspaces") as tally:
        found = await client.list_workspaces(include_archived=True)
        tally.add(len(found))
    return tuple(sorted(map(workspace_from, found), key=lambda w: (w.name, w.id)))


async def _organization_rate_limits(client: AdminClient) -> tuple[RateLimitGroup, ...]:
    with phase(client.observer, "rate limits", total=1) as tally:
        entries = await client.list_rate_limits()
        tally.add(1)
    return tuple(map(rate_limit_group_from, entries))


# --- governance: roster activity and roster keys ----------------------------------------------

CLAUDE_CODE_REPORT = "/v1/organizations/usage_report/claude_code"
CLAUDE_CODE_LIMIT = 1000  # records per page, the API's most (admin-api.md §13)


async def activity(client: AdminClient, window: Window) -> ActivityReport:
    """Members, pending invites and every API key, beside the window's Claude Code report (a
    request per day) and its messages usage by API key and account, all at once."""
    folks, keys, code, used = await gather_or_cancel(
        people(client),
        all_api_keys(client),
        claude_code_uses(client, window),
        api_usage(client, window, ("api_key_id", "account_id")),
    )
    return activity_report(window, folks.members, folks.invites, keys, code=code, api=used)


async def keys(client: AdminClient, window: Window) -> KeysReport:
    """Every API key, its creator among the members, its workspace, its last use in ``window``."""
    found, members, spaces, used = await gather_or_cancel(
        all_api_keys(client),
        read_phase(client, "users", client.user_pages(), member_from),
        fetch_workspaces(client),
        api_usage(client, window, ("api_key_id",)),
    )
    return keys_report(window, found, members, spaces, last_used(used))


async def all_api_keys(client: AdminClient) -> list[ApiKey]:
    """Every API key, whatever its status."""
    return await read_phase(client, "API keys", client.api_key_pages(), api_key_from)


async def claude_code_uses(client: AdminClient, window: Window) -> list[CodeUse]:
    """Each day's Claude Code records, as that day's uses: a report per day, concurrently."""
    return _uses(await claude_code_records(client, window.days))


def _uses(records: Mapping[str, Iterable[JSON]]) -> list[CodeUse]:
    return [use for day, page in records.items() for use in code_uses(day, page)]


async def api_usage(
    client: AdminClient, window: Window, group_by: Sequence[str]
) -> tuple[ApiUse, ...]:
    """The window's daily messages usage, grouped by ``group_by`` (the API's names)."""

    def fetch(chunk: Chunk) -> Awaitable[list[JSON]]:
        return client.usage_report(
            starting_at=rfc3339(chunk.starting_at),
            ending_at=rfc3339(chunk.ending_at),
            bucket_width="1d",
            group_by=group_by,
            limit=chunk.limit,
        )

    return api_uses(await _buckets(client, "usage report", window.usage_chunks(), fetch))
