"""Fetches the organization's current state from the Admin API as frozen ``Current`` values.

Each kind of object is a phase told to the client's observer, with the count so far after each
page (``roster.progress``).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Collection, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from roster.api import AdminClient
from roster.concurrency import gather_or_cancel
from roster.errors import UnexpectedAnswerError
from roster.model import (
    RATE_LIMIT_GROUP_TYPES,
    ApiKey,
    Current,
    Invite,
    Member,
    Organization,
    RateLimitGroup,
    Workspace,
    WorkspaceMember,
    WorkspaceRateLimit,
)
from roster.progress import Tally, phase
from roster.reports.governance import api_uses, last_used
from roster.timestamps import parse_timestamp

JSON = dict[str, Any]
T = TypeVar("T")
# Accepted invites became members; deleted ones are never listed.
OPEN_INVITE_STATUSES = ("pending", "expired")


async def fetch_state(
    client: AdminClient,
    *,
    workspace_members_of: Collection[str] | None = (),
    with_api_keys: bool = True,
    rate_limits_of: Collection[str] | None = (),
    read_at: str = "",
    key_use_days: int | None = None,
) -> Current:
    """The organization, its members, open invites (one per email), workspaces and active keys.

    Members are fetched for the active workspaces named in ``workspace_members_of`` (None: all);
    keys only ``with_api_keys`` (export writes none); rate-limit overrides for the active
    workspaces named in ``rate_limits_of`` (None: all), with the organization's limits beside
    them when any workspace is asked for. The state keeps when it was read (``read_at``): the
    API's clock by its answers' Date header, else ``read_at`` as given, else this machine's.
    With ``key_use_days``, the last day each key was used in that many days is read too, the
    days counted back from the API's now, as the plan counts them.
    """
    me, (members, invites), spaces, api_keys = await gather_or_cancel(
        client.me(),
        fetch_people(client),
        fetch_workspaces(client),
        _api_keys(client) if with_api_keys else _nothing(),
    )
    workspace_members, (rate_limits, overrides), key_use = await gather_or_cancel(
        _workspace_members(client, spaces, workspace_members_of),
        fetch_rate_limits(client, spaces, rate_limits_of),
        _key_use(client, key_use_days, read_at),
    )
    return Current(
        organization=organization_from(me),
        members=members,
        invites=invites,
        workspaces=spaces,
        workspace_members=workspace_members,
        api_keys=tuple(sorted(api_keys, key=lambda k: k.id)),
        rate_limits=rate_limits,
        workspace_rate_limits=overrides,
        read_at=_read_at(client, read_at),
        key_last_used=key_use,
    )


async def _key_use(client: AdminClient, days: int | None, given: str) -> dict[str, str]:
    if days is None:
        return {}
    now = parse_timestamp(_read_at(client, given))
    return await fetch_key_use(client, (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _read_at(client: AdminClient, given: str) -> str:
    moment = client.server_date
    if moment is None and given:
        return given
    moment = moment or datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def fetch_key_use(client: AdminClient, since: str) -> dict[str, str]:
    """The last day (``YYYY-MM-DD``) each API key was used since ``since``, from the messages
    usage report by day and key: a phase of its own."""
    with phase(client.observer, "API key usage") as tally:
        buckets = await client.usage_report(
            starting_at=since, bucket_width="1d", group_by=["api_key_id"], limit=31
        )
        tally.add(len(buckets))
    return last_used(api_uses(buckets))


async def fetch_people(client: AdminClient) -> tuple[tuple[Member, ...], tuple[Invite, ...]]:
    """Members by email, and the open invites of people who are not members yet."""
    users, invites = await gather_or_cancel(
        read_phase(client, "users", client.user_pages(), member_from),
        read_phase(
            client, "invites", client.invite_pages(statuses=OPEN_INVITE_STATUSES), invite_from
        ),
    )
    members = tuple(sorted(users, key=lambda m: m.email))
    emails = {m.email for m in members}
    return members, open_invites(invites, exclude=emails)


async def read_phase(
    client: AdminClient, label: str, pages: AsyncIterator[list[JSON]], value: Callable[[JSON], T]
) -> list[T]:
    """Every item of ``pages`` made a value, as the phase ``label``."""
    with phase(client.observer, label) as tally:
        return await _values(pages, value, tally)


async def _values(
    pages: AsyncIterator[list[JSON]], value: Callable[[JSON], T], tally: Tally | None = None
) -> list[T]:
    # Each page is made values as it comes: the API's objects are never all held at once.
    values: list[T] = []
    async for page in pages:
        values += map(value, page)
        if tally is not None:
            tally.add(len(page))
    return values


async def _api_keys(client: AdminClient) -> list[ApiKey]:
    return await read_phase(client, "API keys", client.api_key_pages(status="active"), api_key_from)


async def _nothing() -> list[ApiKey]:
    return []


async def fetch_workspaces(client: AdminClient) -> tuple[Workspace, ...]:
    """Every workspace, archived ones and the Default workspace included, by name.

    The API lists the Default workspace only when asked to (``include_default``) and marks it no
    other way, so it is the one that a second list without that flag leaves out.
    """
    with phase(client.observer, "workspaces") as tally:
        everything, named = await gather_or_cancel(
            client.list_workspaces(include_archived=True, include_default=True),
            client.list_workspaces(include_archived=True),
        )
        tally.add(len(everything))
    named_ids = {w["id"] for w in named}
    spaces = (workspace_from(w, is_default=w["id"] not in named_ids) for w in everything)
    return tuple(sorted(spaces, key=lambda w: (w.name, w.id)))


async def _workspace_members(
    client: AdminClient, workspaces: Iterable[Workspace], names: Collection[str] | None
) -> tuple[WorkspaceMember, ...]:
    """The members of the active workspaces named (None: all): a phase counting workspaces."""
    wanted = [w for w in workspaces if not w.archived and (names is None or w.name in names)]
    if not wanted:
        return ()
    with phase(client.observer, "workspace members", total=len(wanted)) as tally:
        lists = await gather_or_cancel(*(_members_of(client, w, tally) for w in wanted))
    return tuple(member for members in lists for member in members)


async def _members_of(
    client: AdminClient, workspace: Workspace, tally: Tally
) -> list[WorkspaceMember]:
    pages = client.workspace_member_pages(workspace.id)
    members = await _values(pages, workspace_member_from)
    tally.add(1)
    return members


async def fetch_rate_limits(
    client: AdminClient, workspaces: Iterable[Workspace], names: Collection[str] | None
) -> tuple[tuple[RateLimitGroup, ...], tuple[WorkspaceRateLimit, ...]]:
    """The organization's rate limits and the overrides of the active workspaces named (None:
    all); nothing at all, and no request, when none is named. The Default workspace is never
    read: it has the organization's limits, and roster never sets any for it."""
    wanted = [
        w
        for w in workspaces
        if not w.archived and not w.is_default and (names is None or w.name in names)
    ]
    if not wanted:
        return (), ()
    with phase(client.observer, "rate limits", total=len(wanted) + 1) as tally:
        groups, *lists = await gather_or_cancel(
            _organization_rate_limits(client, tally),
            *(_overrides_of(client, w, tally) for w in wanted),
        )
    overrides = (entry for entries in lists for entry in entries)
    return tuple(sorted(groups, key=_group_order)), tuple(
        sorted(overrides, key=lambda o: (o.workspace_id, o.rate_limit_id))
    )


async def _organization_rate_limits(client: AdminClient, tally: Tally) -> list[RateLimitGroup]:
    groups = [rate_limit_group_from(entry) for entry in await client.list_rate_limits()]
    tally.add(1)
    return groups


async def _overrides_of(
    client: AdminClient, workspace: Workspace, tally: Tally
) -> list[WorkspaceRateLimit]:
    entries = await client.list_workspace_rate_limits(workspace.id)
    tally.add(1)
    return [o for o in map(workspace_rate_limit_from, entries) if o.overrides]


def _group_order(group: RateLimitGroup) -> int:
    """Model groups first, then the others by type; the API's own order within a type."""
    kinds = RATE_LIMIT_GROUP_TYPES
    return kinds.index(group.group_type) if group.group_type in kinds else len(kinds)


def member_from(user: JSON) -> Member:
    return Member(
        id=_text(user, "id", "a user"),
        email=_text(user, "email", "a user").lower(),
        name=_optional_text(user, "name", "a user") or "",
        role=sys.intern(_text(user, "role", "a user")),  # a few roles, held once each
        added_at=_optional_text(user, "added_at", "a user") or "",
    )


def invite_from(invite: JSON) -> Invite:
    return Invite(
        id=_text(invite, "id", "an invite"),
        email=_text(invite, "email", "an invite").lower(),
        role=_text(invite, "role", "an invite"),
        status=_text(invite, "status", "an invite"),
        invited_at=_optional_text(invite, "invited_at", "an invite") or "",
        expires_at=_optional_text(invite, "expires_at", "an invite") or "",
    )


def workspace_from(workspace: JSON, *, is_default: bool = False) -> Workspace:
    return Workspace(
        id=_text(workspace, "id", "a workspace"),
        name=_optional_text(workspace, "name", "a workspace") or "",
        archived=workspace.get("archived_at") is not None,
        created_at=_optional_text(workspace, "created_at", "a workspace") or "",
        is_default=is_default,
    )


def workspace_member_from(member: JSON) -> WorkspaceMember:
    return WorkspaceMember(
        workspace_id=_text(member, "workspace_id", "a workspace member"),
        user_id=_text(member, "user_id", "a workspace member"),
        role=sys.intern(_text(member, "workspace_role", "a workspace member")),
    )


def api_key_from(key: JSON) -> ApiKey:
    """Both API shapes: ``workspace_id`` (2023-06-01) or ``scope.workspace_id`` (later)."""
    creator = _optional_object(key, "created_by", "an API key")
    scope = _optional_object(key, "scope", "an API key")
    return ApiKey(
        id=_text(key, "id", "an API key"),
        name=_optional_text(key, "name", "an API key") or "",
        status=_optional_text(key, "status", "an API key") or "",
        workspace_id=_optional_text(key, "workspace_id", "an API key")
        or _optional_text(scope, "workspace_id", "an API key's scope"),
        created_by=_optional_text(creator, "id", "an API key's creator")
        if creator.get("type") == "user"
        else None,
        created_at=_optional_text(key, "created_at", "an API key") or "",
        expires_at=_optional_text(key, "expires_at", "an API key") or "",
    )


def rate_limit_group_from(entry: JSON) -> RateLimitGroup:
    """An organization entry; both shapes: ``group`` (SDK) or a flat ``group_type`` (docs)."""
    group = _optional_object(entry, "group", "a rate limit")
    group_type = _optional_text(group, "type", "a rate limit's group")
    return RateLimitGroup(
        id=_text(entry, "id", "a rate limit"),
        group_type=group_type or _text(entry, "group_type", "a rate limit"),
        group_id=_optional_text(group, "id", "a rate limit's group") or "",
        display_name=_optional_text(group, "display_name", "a rate limit's group") or "",
        models=tuple(_texts(entry, "models", "a rate limit")),
        limits=_limit_values(entry, "a rate limit"),
    )


def workspace_rate_limit_from(entry: JSON) -> WorkspaceRateLimit:
    """A workspace entry's overrides: the values whose source is the workspace itself."""
    what = "a workspace rate limit"
    own = [
        limit
        for limit in _objects_in(entry, "limits", what)
        if _optional_object(limit, "source", what).get("type", "workspace") == "workspace"
    ]
    return WorkspaceRateLimit(
        workspace_id=_text(entry, "workspace_id", what),
        rate_limit_id=_text(entry, "rate_limit_id", what),
        overrides=_limit_values({"limits": own}, what),
    )


def _limit_values(entry: JSON, what: str) -> dict[str, int]:
    values: dict[str, int] = {}
    for limit in _objects_in(entry, "limits", what):
        value = limit.get("value")
        if not isinstance(value, int) or isinstance(value, bool):
            raise _unreadable(limit, "value", f"{what}'s limit", expected="an integer")
        values[sys.intern(_text(limit, "type", f"{what}'s limit"))] = value
    return values


def _objects_in(item: JSON, field: str, what: str) -> list[JSON]:
    values = item.get(field) or []
    if isinstance(values, list) and all(isinstance(v, dict) for v in values):
        return values
    raise _unreadable(item, field, what, expected="a list of objects")


def _texts(item: JSON, field: str, what: str) -> list[str]:
    values = item.get(field) or []
    if isinstance(values, list) and all(isinstance(v, str) for v in values):
        return values
    raise _unreadable(item, field, what, expected="a list of text")


def organization_from(me: JSON) -> Organization:
    return Organization(
        id=_text(me, "id", "the organization"),
        name=_optional_text(me, "name", "the organization") or "",
    )


# --- reading the API's objects: a field of another type is one clear error, not a traceback ----


def _text(item: JSON, field: str, what: str) -> str:
    value = item.get(field)
    if isinstance(value, str) and value:
        return value
    raise _unreadable(item, field, what)


def _optional_text(item: JSON, field: str, what: str) -> str | None:
    value = item.get(field)
    if value is None or isinstance(value, str):
        return value
    raise _unreadable(item, field, what)


def _optional_object(item: JSON, field: str, what: str) -> JSON:
    value = item.get(field)
    if value is None or isinstance(value, dict):
        return value or {}
    raise _unreadable(item, field, what, expected="an object")


def _unreadable(
    item: JSON, field: str, what: str, *, expected: str = "text"
) -> UnexpectedAnswerError:
    found = item.get(field)
    kind = "missing" if found is None else f"a {type(found).__name__}"
    named = item.get("id") if isinstance(item.get("id"), str) else None
    where = f" ({named})" if named else ""
    return UnexpectedAnswerError(
        f"the API answered with {what}{where} whose {field!r} is {kind}, not {expected}"
    )


def open_invites(invites: Iterable[Invite], *, exclude: set[str]) -> tuple[Invite, ...]:
    """One invite per email not already a member: a pending one first, else the newest."""
    chosen: dict[str, Invite] = {}
    for invite in invites:
        if invite.email in exclude:
            continue
        best = chosen.get(invite.email)
        if best is None or _rank(invite) > _rank(best):
            chosen[invite.email] = invite
    return tuple(sorted(chosen.values(), key=lambda i: i.email))


def _rank(invite: Invite) -> tuple[bool, str]:
    return (invite.status == "pending", invite.invited_at)
