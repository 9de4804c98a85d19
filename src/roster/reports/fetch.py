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
from roster.model import Invite, Member, Organization
from roster.progress import Tally, phase
from roster.reports.cost import CostQuery, CostReport, cost_report
from roster.reports.dashboard import Dashboard, dashboard
from roster.reports.dates import Chunk, Period, rfc3339
from roster.reports.members import OrgSummary, WorkspaceInfo, org_summary
from roster.reports.usage import UsageQuery, UsageReport, usage_report
from roster.state import fetch_people, organization_from

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
