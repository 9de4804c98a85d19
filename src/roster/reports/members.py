"""Who is in the organization: members and open invites as rows, and the organization summary.

Built from the pipeline's ``Member`` and ``Invite`` values; filtering happens here, not in the
API query, so every view of the same fetch agrees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from roster.model import Invite, Member, Organization

STATUSES = ("member", "pending", "expired")


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member (status ``member``) or an open invite (``pending``, ``expired``)."""

    email: str
    name: str
    role: str
    status: str
    joined_at: str
    expires_at: str

    @property
    def date(self) -> str:
        """When the member joined, or when the invite expires(d)."""
        return (self.joined_at or self.expires_at)[:10]


@dataclass(frozen=True, slots=True)
class WorkspaceInfo:
    id: str
    name: str
    created_at: str


@dataclass(frozen=True, slots=True)
class OrgSummary:
    """The organization at a glance."""

    organization: Organization
    roles: tuple[tuple[str, int], ...]
    members: int
    pending_invites: int
    expired_invites: int
    workspaces: tuple[WorkspaceInfo, ...]


def member_rows(
    members: Iterable[Member],
    invites: Iterable[Invite],
    *,
    roles: Collection[str] = (),
    statuses: Collection[str] = (),
) -> tuple[MemberRow, ...]:
    """Members and open invites, filtered (an empty filter keeps all), sorted by email."""
    rows = [*(_member_row(m) for m in members), *(_invite_row(i) for i in invites)]
    kept = (
        row
        for row in rows
        if (not roles or row.role in roles) and (not statuses or row.status in statuses)
    )
    return tuple(sorted(kept, key=lambda row: (row.email, row.status)))


def _member_row(member: Member) -> MemberRow:
    return MemberRow(member.email, member.name, member.role, "member", member.added_at, "")


def _invite_row(invite: Invite) -> MemberRow:
    return MemberRow(invite.email, "", invite.role, invite.status, "", invite.expires_at)


def role_counts(members: Iterable[Member]) -> tuple[tuple[str, int], ...]:
    """Members per role, the most common first."""
    counts = Counter(member.role for member in members)
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def org_summary(
    organization: Organization,
    members: Sequence[Member],
    invites: Sequence[Invite],
    workspaces: Iterable[WorkspaceInfo],
) -> OrgSummary:
    statuses = Counter(invite.status for invite in invites)
    return OrgSummary(
        organization=organization,
        roles=role_counts(members),
        members=len(members),
        pending_invites=statuses["pending"],
        expired_invites=statuses["expired"],
        workspaces=tuple(sorted(workspaces, key=lambda w: (w.name.lower(), w.id))),
    )
