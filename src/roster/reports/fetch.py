"""Reads what the reports need from the Admin API: the fetch step of the reports pipeline.

Report ranges go out as several requests the API accepts, concurrently (the client bounds how
many at once): a phase told to the client's observer, counting finished requests. The
organization may come from a cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from roster.api import AdminClient
from roster.cache import MeCache
from roster.concurrency import gather_or_cancel
from roster.model import Invite, Member, Organization, RateLimitGroup, Workspace
from roster.progress import Tally, phase
from roster.reports.cost import CostQuery, CostReport, cost_report
from roster.reports.dashboard import Dashboard, dashboard
from roster.reports.dates import Chunk, Period, rfc3339
from roster.reports.members import OrgSummary, WorkspaceInfo, org_summary
from roster.reports.rate_limits import RateLimits, chosen_workspaces, rate_limits_shown
from roster.reports.usage import UsageQuery, UsageReport, usage_report
from roster.state import (
    fetch_people,
    fetch_rate_limits,
    organization_from,
    rate_limit_group_from,
    workspace_from,
)

JSON = dict[str, Any]


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


async def report(client: AdminClient, period: Period, cache: MeCache | None = None) -> Dashboard:
    usage_query, cost_query = dashboard_queries(period)
    found, folks, used, spent = await gather_or_cancel(
        organization(client, cache),
        people(client),
        usage(client, usage_query),
        cost(client, cost_query),
    )
    return dashboard(found, folks.members, folks.invites, used, spent)


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
