"""Fetches the organization's current state from the Admin API as frozen ``Current`` values."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from roster.api import AdminClient
from roster.concurrency import gather_or_cancel
from roster.model import (
    ApiKey,
    Current,
    Invite,
    Member,
    Organization,
    Workspace,
    WorkspaceMember,
)

JSON = dict[str, Any]
# Accepted invites became members; deleted ones are never listed.
OPEN_INVITE_STATUSES = ("pending", "expired")


async def fetch_state(
    client: AdminClient, *, workspace_members_of: Collection[str] | None = ()
) -> Current:
    """The organization, its members, open invites (one per email), workspaces and active keys.

    Members are fetched for the active workspaces named in ``workspace_members_of`` (None: all).
    """
    me, (members, invites), spaces, keys = await gather_or_cancel(
        client.me(),
        fetch_people(client),
        fetch_workspaces(client),
        client.list_api_keys(status="active"),
    )
    return Current(
        organization=Organization(id=str(me["id"]), name=str(me.get("name", ""))),
        members=members,
        invites=invites,
        workspaces=spaces,
        workspace_members=await _workspace_members(client, spaces, workspace_members_of),
        api_keys=tuple(sorted((api_key_from(k) for k in keys), key=lambda k: k.id)),
    )


async def fetch_people(client: AdminClient) -> tuple[tuple[Member, ...], tuple[Invite, ...]]:
    """Members by email, and the open invites of people who are not members yet."""
    users, invites = await gather_or_cancel(
        client.list_users(), client.list_invites(statuses=OPEN_INVITE_STATUSES)
    )
    members = tuple(sorted((member_from(u) for u in users), key=lambda m: m.email))
    emails = {m.email for m in members}
    return members, open_invites((invite_from(i) for i in invites), exclude=emails)


async def fetch_workspaces(client: AdminClient) -> tuple[Workspace, ...]:
    """Every workspace, archived ones and the Default workspace included, by name.

    The API lists the Default workspace only when asked to (``include_default``) and marks it no
    other way, so it is the one that a second list without that flag leaves out.
    """
    everything, named = await gather_or_cancel(
        client.list_workspaces(include_archived=True, include_default=True),
        client.list_workspaces(include_archived=True),
    )
    named_ids = {w["id"] for w in named}
    spaces = (workspace_from(w, is_default=w["id"] not in named_ids) for w in everything)
    return tuple(sorted(spaces, key=lambda w: (w.name, w.id)))


async def _workspace_members(
    client: AdminClient, workspaces: Iterable[Workspace], names: Collection[str] | None
) -> tuple[WorkspaceMember, ...]:
    wanted = [w for w in workspaces if not w.archived and (names is None or w.name in names)]
    pages = await gather_or_cancel(*(client.list_workspace_members(w.id) for w in wanted))
    return tuple(workspace_member_from(m) for page in pages for m in page)


def member_from(user: JSON) -> Member:
    return Member(
        id=user["id"],
        email=str(user["email"]).lower(),
        name=str(user.get("name") or ""),
        role=user["role"],
        added_at=str(user.get("added_at") or ""),
    )


def invite_from(invite: JSON) -> Invite:
    return Invite(
        id=invite["id"],
        email=str(invite["email"]).lower(),
        role=invite["role"],
        status=invite["status"],
        invited_at=str(invite.get("invited_at") or ""),
        expires_at=str(invite.get("expires_at") or ""),
    )


def workspace_from(workspace: JSON, *, is_default: bool = False) -> Workspace:
    return Workspace(
        id=workspace["id"],
        name=str(workspace.get("name", "")),
        archived=workspace.get("archived_at") is not None,
        created_at=str(workspace.get("created_at") or ""),
        is_default=is_default,
    )


def workspace_member_from(member: JSON) -> WorkspaceMember:
    return WorkspaceMember(
        workspace_id=member["workspace_id"],
        user_id=member["user_id"],
        role=member["workspace_role"],
    )


def api_key_from(key: JSON) -> ApiKey:
    """Both API shapes: ``workspace_id`` (2023-06-01) or ``scope.workspace_id`` (later)."""
    creator = key.get("created_by") or {}
    scope = key.get("scope") or {}
    return ApiKey(
        id=key["id"],
        name=str(key.get("name") or ""),
        status=str(key.get("status") or ""),
        workspace_id=key.get("workspace_id") or scope.get("workspace_id"),
        created_by=creator.get("id") if creator.get("type") == "user" else None,
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
