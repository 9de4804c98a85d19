"""Fetches the organization's current state from the Admin API as frozen ``Current`` values."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from roster.api import AdminClient
from roster.model import Current, Invite, Member, Organization

JSON = dict[str, Any]
# Accepted invites became members; deleted ones are never listed.
OPEN_INVITE_STATUSES = ("pending", "expired")


async def fetch_state(client: AdminClient) -> Current:
    """The organization, its members, and the invites that still matter (one per email)."""
    me, users, invites = await asyncio.gather(
        client.me(),
        client.list_users(),
        client.list_invites(statuses=OPEN_INVITE_STATUSES),
    )
    members = tuple(sorted((member_from(u) for u in users), key=lambda m: m.email))
    member_emails = {m.email for m in members}
    return Current(
        organization=Organization(id=str(me["id"]), name=str(me.get("name", ""))),
        members=members,
        invites=open_invites((invite_from(i) for i in invites), exclude=member_emails),
    )


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
