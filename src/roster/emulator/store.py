"""The emulated organization: in-memory state, indexes and every business rule. No HTTP here.

Methods raise ``ApiProblem`` for anything the real API would refuse; the app turns that into
the error envelope. ``version`` counts mutations so a saver can tell when state is dirty.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from roster.emulator.activity import MemberOrigin, member_origins
from roster.emulator.clock import Clock, format_time, parse_time
from roster.emulator.ids import IdFactory
from roster.emulator.pagination import Cursor, Page, SortedIds, paginate
from roster.emulator.problems import ApiProblem, invalid, not_found
from roster.emulator.rate_limits import RateLimits, limit_changes
from roster.emulator.records import (
    ApiKey,
    Invite,
    JsonDict,
    User,
    Workspace,
    api_key_from_json,
    api_key_to_json,
    invite_from_json,
    invite_to_json,
    user_from_json,
    user_to_json,
    workspace_from_json,
    workspace_to_json,
)
from roster.emulator.reports import KeyOrigin, OrgView, key_origins
from roster.emulator.rules import (
    API_KEY_NAME_MAX,
    name_from_email,
    normalize_email,
    require_assignable_workspace_role,
    require_color,
    require_no_cmek_or_profile,
    require_settable_role,
    require_workspace_name,
    residency_on_create,
    residency_on_update,
    updated_tags,
)
from roster.model import WORKSPACE_ROLES

STATE_FORMAT = "roster-emulator-state"
STATE_VERSION = 1
INVITE_LIFETIME = timedelta(days=21)
MAX_ACTIVE_WORKSPACES = 100
INVITE_STATUSES = frozenset({"pending", "accepted", "expired"})
API_KEY_STATUSES = frozenset({"active", "inactive", "archived", "expired"})
SETTABLE_KEY_STATUSES = frozenset({"active", "inactive", "archived"})
# Org roles that hold workspace_admin in every workspace and cannot be changed by an admin key.
ADMIN_ROLES = frozenset({"admin", "owner", "primary_owner"})
PALETTE = ("#6C5BB9", "#2F80ED", "#27AE60", "#EB5757", "#F2994A", "#9B51E0", "#56CCF2", "#BB6BD9")


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Membership:
    """A workspace member as the API shows it; ``explicit`` is false for inherited roles."""

    workspace_id: str
    user_id: str
    workspace_role: str
    explicit: bool

    def to_api(self) -> JsonDict:
        return {
            "type": "workspace_member",
            "user_id": self.user_id,
            "workspace_id": self.workspace_id,
            "workspace_role": self.workspace_role,
        }


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class Store:
    """One organization's members, invites, workspaces, memberships, API keys and the
    workspaces' rate-limit overrides (``rate_limits``)."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        organization_id: str | None = None,
        organization_name: str = "Example Org",
        bootstrap: bool = True,
    ) -> None:
        self.clock = clock or Clock()
        self.organization = Organization(organization_id or str(uuid.uuid4()), organization_name)
        self.version = 0
        self.admin_key_hashes: frozenset[str] | None = None
        self._ids = IdFactory(self.organization.id)
        self.rate_limits = RateLimits(lambda: self.organization.id, self.touch)
        self._reset_collections()
        if bootstrap:
            self._bootstrap()

    def _reset_collections(self) -> None:
        self._users: dict[str, User] = {}
        self._user_ids = SortedIds()
        self._user_by_email: dict[str, str] = {}
        self._privileged = SortedIds()
        self._invites: dict[str, Invite] = {}
        self._invite_ids = SortedIds()
        self._invites_by_email: dict[str, SortedIds] = {}
        self._workspaces: dict[str, Workspace] = {}
        self._workspace_ids = SortedIds()
        self.default_workspace_id = ""
        self._members: dict[str, dict[str, str]] = {}
        self._member_ids: dict[str, SortedIds] = {}
        self._user_workspaces: dict[str, set[str]] = {}
        self._keys: dict[str, ApiKey] = {}
        self._key_ids = SortedIds()
        self._key_origins: list[KeyOrigin] | None = None
        self._member_origins: list[MemberOrigin] | None = None
        self.rate_limits.clear()

    def _bootstrap(self) -> None:
        now = self.clock.now()
        default = Workspace(self.new_id("wrkspc_", now), "Default", format_time(now), PALETTE[0])
        self.insert_workspace(replace(default, is_default=True))
        admin = User(self.new_id("user_", now), "admin@example.com", "Org Admin", "admin", "")
        self.insert_user(replace(admin, added_at=format_time(now)))

    # --- plumbing -------------------------------------------------------------------------

    def now_text(self) -> str:
        return format_time(self.clock.now())

    def new_id(self, prefix: str, moment: datetime | None = None) -> str:
        return self._ids.new(prefix, epoch_ms(moment or self.clock.now()))

    def touch(self) -> None:
        """Record a mutation (the state-file saver flushes when this number moves)."""
        self.version += 1

    def set_admin_keys(self, keys: Iterable[str] | None) -> None:
        """Accept only these admin keys from now on (None: any admin-looking key). Keeps hashes."""
        self.admin_key_hashes = None if keys is None else frozenset(key_hash(k) for k in keys)
        self.touch()

    def accepts_admin_key(self, key: str) -> bool:
        return self.admin_key_hashes is None or key_hash(key) in self.admin_key_hashes

    # --- raw inserts (seeding, loading, bootstrap): no business rules -------------------------

    def insert_user(self, user: User) -> None:
        self._users[user.id] = user
        self._member_origins = None
        self._user_ids.add(user.id)
        self._user_by_email[user.email] = user.id
        if user.role in ADMIN_ROLES or user.role == "billing":
            self._privileged.add(user.id)
        self.touch()

    def insert_invite(self, invite: Invite) -> None:
        self._invites[invite.id] = invite
        if not invite.deleted:
            self._invite_ids.add(invite.id)
            if invite.email not in self._invites_by_email:
                self._invites_by_email[invite.email] = SortedIds()
            self._invites_by_email[invite.email].add(invite.id)
        self.touch()

    def insert_workspace(self, workspace: Workspace) -> None:
        self._workspaces[workspace.id] = workspace
        self._workspace_ids.add(workspace.id)
        self._members.setdefault(workspace.id, {})
        self._member_ids.setdefault(workspace.id, SortedIds())
        if workspace.is_default:
            self.default_workspace_id = workspace.id
        self.touch()

    def insert_member(self, workspace_id: str, user_id: str, role: str) -> None:
        if user_id not in self._members[workspace_id]:
            self._member_ids[workspace_id].add(user_id)
        self._members[workspace_id][user_id] = role
        self._user_workspaces.setdefault(user_id, set()).add(workspace_id)
        self.touch()

    def insert_api_key(self, key: ApiKey) -> None:
        self._keys[key.id] = key
        self._key_origins = None
        self._key_ids.add(key.id)
        self.touch()

    def _replace_user(self, user: User) -> None:
        self._users[user.id] = user
        self._member_origins = None
        self._privileged.remove(user.id)
        if user.role in ADMIN_ROLES or user.role == "billing":
            self._privileged.add(user.id)
        self.touch()

    # --- organization and users -------------------------------------------------------------

    def organization_json(self) -> JsonDict:
        return {"id": self.organization.id, "type": "organization", "name": self.organization.name}

    @property
    def user_count(self) -> int:
        return len(self._users)

    def get_user(self, user_id: str) -> User:
        user = self._users.get(user_id)
        if user is None:
            raise not_found("user", user_id)
        return user

    def user_by_email(self, email: str) -> User | None:
        user_id = self._user_by_email.get(email.strip().lower())
        return None if user_id is None else self._users[user_id]

    def list_users(
        self, cursor: Cursor, email: str | None = None, roles: frozenset[str] | None = None
    ) -> tuple[list[User], Page]:
        candidates = self._user_ids.items
        if email is not None:
            match = self._user_by_email.get(email.strip().lower())
            candidates = [] if match is None else [match]
        keep = None if not roles else (lambda uid: self._users[uid].role in roles)
        page = paginate(candidates, cursor, keep)
        return [self._users[uid] for uid in page.ids], page

    def update_user_role(self, user_id: str, role: object) -> User:
        user = self.get_user(user_id)
        require_settable_role(role)
        if user.role in ADMIN_ROLES:
            raise invalid(f"the role of a {user.role} cannot be changed", "cannot_modify_admin")
        updated = replace(user, role=str(role))
        self._replace_user(updated)
        return updated

    def remove_user(self, user_id: str) -> None:
        user = self.get_user(user_id)
        refusal = self._removal_refusal(user)
        if refusal is not None:
            raise refusal
        self._drop_user(user)

    def begin_user_removal(self, user_id: str) -> None:
        """What a removal cut short leaves (SDK 2.15's ``api_key_requester_unconfirmed``): the
        user is still a member, but their active API keys are inactive already."""
        user = self._users.get(user_id)
        if user is None or self._removal_refusal(user) is not None:
            return
        for key in list(self._keys.values()):
            if key.created_by == user.id and key.status == "active":
                self._keys[key.id] = replace(key, status="inactive")
        self.touch()

    def _removal_refusal(self, user: User) -> ApiProblem | None:
        if len(self._users) == 1:
            return invalid(
                "cannot remove the organization's last member", "cannot_remove_last_member"
            )
        if user.role in ADMIN_ROLES:
            return invalid(
                f"a member with role {user.role} cannot be removed", "cannot_remove_admin"
            )
        return None

    def _drop_user(self, user: User) -> None:
        del self._users[user.id]
        self._member_origins = None
        self._user_ids.remove(user.id)
        self._privileged.remove(user.id)
        self._user_by_email.pop(user.email, None)
        for workspace_id in self._user_workspaces.pop(user.id, set()):
            del self._members[workspace_id][user.id]
            self._member_ids[workspace_id].remove(user.id)
        self.touch()

    # --- invites ------------------------------------------------------------------------------

    def get_invite(self, invite_id: str) -> Invite:
        invite = self._invites.get(invite_id)
        if invite is None or invite.deleted:
            raise not_found("invite", invite_id)
        return invite

    def list_invites(
        self,
        cursor: Cursor,
        email: str | None = None,
        roles: frozenset[str] | None = None,
        statuses: frozenset[str] = INVITE_STATUSES,
    ) -> tuple[list[Invite], Page]:
        candidates = self._invite_ids.items
        if email is not None:
            by_email = self._invites_by_email.get(email.strip().lower())
            candidates = [] if by_email is None else by_email.items
        now = self.now_text()

        def keep(invite_id: str) -> bool:
            invite = self._invites[invite_id]
            return (not roles or invite.role in roles) and invite.status(now) in statuses

        every_status = statuses >= INVITE_STATUSES
        page = paginate(candidates, cursor, None if every_status and not roles else keep)
        return [self._invites[iid] for iid in page.ids], page

    def create_invite(self, email: object, role: object) -> Invite:
        address = normalize_email(email)
        require_settable_role(role)
        if address in self._user_by_email:
            raise invalid(f"{address} is already a member of the organization", "already_member")
        if self.pending_invite_for(address) is not None:
            raise invalid(f"a pending invite for {address} already exists", "invite_already_exists")
        now = self.clock.now()
        invite = Invite(
            id=self.new_id("invite_", now),
            email=address,
            role=str(role),
            invited_at=format_time(now),
            expires_at=format_time(now + INVITE_LIFETIME),
        )
        self.insert_invite(invite)
        return invite

    def pending_invite_for(self, email: str) -> Invite | None:
        now = self.now_text()
        for invite_id in self._invites_by_email.get(email, SortedIds()).items:
            if self._invites[invite_id].status(now) == "pending":
                return self._invites[invite_id]
        return None

    def delete_invite(self, invite_id: str) -> None:
        invite = self.get_invite(invite_id)
        status = invite.status(self.now_text())
        if status != "pending":
            raise invalid(
                f"only pending invites can be deleted; this one is {status}", "invite_not_pending"
            )
        self._invites[invite.id] = replace(invite, deleted=True)
        self._invite_ids.remove(invite.id)
        self._invites_by_email[invite.email].remove(invite.id)
        self.touch()

    def accept_invite(self, invite_id: str, name: str | None = None) -> User:
        """What the invitee clicking the link does: the invite is accepted and a member appears."""
        invite = self.get_invite(invite_id)
        status = invite.status(self.now_text())
        if status != "pending":
            raise invalid(
                f"only pending invites can be accepted; this one is {status}", "invite_not_pending"
            )
        if invite.email in self._user_by_email:
            raise invalid(
                f"{invite.email} is already a member of the organization", "already_member"
            )
        now = self.clock.now()
        user = User(
            self.new_id("user_", now),
            invite.email,
            name or name_from_email(invite.email),
            invite.role,
            format_time(now),
        )
        self._invites[invite.id] = replace(invite, accepted_at=user.added_at)
        self.insert_user(user)
        return user

    # --- workspaces ---------------------------------------------------------------------------

    def get_workspace(self, workspace_id: str) -> Workspace:
        workspace = self._workspaces.get(workspace_id)
        if workspace is None:
            raise not_found("workspace", workspace_id)
        return workspace

    def list_workspaces(
        self,
        cursor: Cursor,
        include_archived: bool = False,
        include_default: bool = False,
        ids: frozenset[str] | None = None,
    ) -> tuple[list[Workspace], Page]:
        candidates = self._workspace_ids.items
        if ids is not None:
            candidates = sorted(ids & self._workspaces.keys())

        def keep(workspace_id: str) -> bool:
            workspace = self._workspaces[workspace_id]
            if workspace.is_default and not include_default:
                return False
            return include_archived or workspace.archived_at is None

        page = paginate(candidates, cursor, keep)
        return [self._workspaces[wid] for wid in page.ids], page

    def workspace_ids(self) -> list[str]:
        return list(self._workspace_ids.items)

    def active_workspace_count(self) -> int:
        return sum(
            1 for w in self._workspaces.values() if w.archived_at is None and not w.is_default
        )

    def create_workspace(self, body: JsonDict) -> Workspace:
        name = require_workspace_name(body.get("name"))
        require_no_cmek_or_profile(body)
        if self.active_workspace_count() >= MAX_ACTIVE_WORKSPACES:
            raise invalid(
                f"an organization can have at most {MAX_ACTIVE_WORKSPACES} active workspaces",
                "workspace_limit_exceeded",
            )
        now = self.clock.now()
        workspace = Workspace(
            id=self.new_id("wrkspc_", now),
            name=name,
            created_at=format_time(now),
            display_color=require_color(
                body.get("display_color"), PALETTE[len(self._workspaces) % len(PALETTE)]
            ),
            data_residency=residency_on_create(body.get("data_residency")),
            tags=updated_tags({}, body.get("tags")),
        )
        self.insert_workspace(workspace)
        return workspace

    def update_workspace(self, workspace_id: str, body: JsonDict) -> Workspace:
        workspace = self._mutable_workspace(workspace_id)
        if workspace.is_default and "name" in body and body["name"] != workspace.name:
            raise invalid(
                "the default workspace cannot be renamed", "cannot_modify_default_workspace"
            )
        require_no_cmek_or_profile(body)
        updated = replace(
            workspace,
            name=workspace.name
            if body.get("name") is None
            else require_workspace_name(body["name"]),
            display_color=require_color(body.get("display_color"), workspace.display_color),
            tags=updated_tags(workspace.tags, body.get("tags")),
            data_residency=residency_on_update(
                workspace.data_residency, body.get("data_residency")
            ),
        )
        self._workspaces[workspace.id] = updated
        self.touch()
        return updated

    def archive_workspace(self, workspace_id: str) -> Workspace:
        workspace = self.get_workspace(workspace_id)
        if workspace.is_default:
            raise invalid(
                "the default workspace cannot be archived", "cannot_archive_default_workspace"
            )
        if workspace.archived_at is not None:
            raise invalid("the workspace is already archived", "workspace_archived")
        archived = replace(workspace, archived_at=self.now_text())
        self._workspaces[workspace.id] = archived
        self._archive_keys_of(workspace.id)
        self.touch()
        return archived

    def _archive_keys_of(self, workspace_id: str) -> None:
        for key in list(self._keys.values()):
            if key.workspace_id == workspace_id and key.status != "archived":
                self._keys[key.id] = replace(key, status="archived")

    def _mutable_workspace(self, workspace_id: str) -> Workspace:
        workspace = self.get_workspace(workspace_id)
        if workspace.archived_at is not None:
            raise invalid("an archived workspace cannot be changed", "workspace_archived")
        return workspace

    # --- workspace members ----------------------------------------------------------------------

    def _membership(self, workspace_id: str, user_id: str) -> Membership | None:
        user = self._users.get(user_id)
        if user is None:
            return None
        explicit = self._members[workspace_id].get(user_id)
        if user.role in ADMIN_ROLES:
            return Membership(workspace_id, user_id, "workspace_admin", explicit is not None)
        if explicit is not None:
            return Membership(workspace_id, user_id, explicit, True)
        if user.role == "billing":
            return Membership(workspace_id, user_id, "workspace_billing", False)
        return None

    def get_member(self, workspace_id: str, user_id: str) -> Membership:
        self.get_workspace(workspace_id)
        member = self._membership(workspace_id, user_id)
        if member is None:
            raise not_found("workspace member", user_id)
        return member

    def list_members(self, workspace_id: str, cursor: Cursor) -> tuple[list[Membership], Page]:
        """Explicit members plus the org admins and billing members who inherit a role."""
        self.get_workspace(workspace_id)
        explicit = self._member_ids[workspace_id].items
        candidates = (
            sorted({*explicit, *self._privileged.items}) if len(self._privileged) else explicit
        )
        page = paginate(candidates, cursor)
        members = [self._membership(workspace_id, uid) for uid in page.ids]
        return [m for m in members if m is not None], page

    def add_member(self, workspace_id: str, user_id: object, role: object) -> Membership:
        self._mutable_workspace(workspace_id)
        if not isinstance(user_id, str) or user_id not in self._users:
            raise ApiProblem(404, f"user {user_id!r} is not a member of the organization")
        require_assignable_workspace_role(role)
        current = self._membership(workspace_id, user_id)
        self._refuse_privileged_change(current, str(role))
        if current is not None and (current.explicit or self._users[user_id].role != "billing"):
            raise ApiProblem(
                409,
                "the user is already a member of this workspace",
                "workspace_member_already_exists",
                should_retry=False,
            )
        self.insert_member(workspace_id, user_id, str(role))
        return self.get_member(workspace_id, user_id)

    def update_member(self, workspace_id: str, user_id: str, role: object) -> Membership:
        self._mutable_workspace(workspace_id)
        current = self.get_member(workspace_id, user_id)
        if not isinstance(role, str) or role not in WORKSPACE_ROLES:
            raise invalid(f"workspace_role: {role!r} is not a workspace role")
        if role == current.workspace_role:
            return current
        self._refuse_privileged_change(current, role)
        require_assignable_workspace_role(role)
        self.insert_member(workspace_id, user_id, role)
        return self.get_member(workspace_id, user_id)

    def remove_member(self, workspace_id: str, user_id: str) -> None:
        self._mutable_workspace(workspace_id)
        current = self.get_member(workspace_id, user_id)
        if self._users[user_id].role in ADMIN_ROLES or self._users[user_id].role == "billing":
            raise invalid(
                "org admins and billing members cannot be removed from a workspace",
                "workspace_role_inherited",
            )
        del self._members[workspace_id][current.user_id]
        self._member_ids[workspace_id].remove(current.user_id)
        self._user_workspaces[current.user_id].discard(workspace_id)
        self.touch()

    def _refuse_privileged_change(self, current: Membership | None, role: str) -> None:
        """Inherited roles only move one way: a billing member may be made workspace admin."""
        org_role = None if current is None else self._users[current.user_id].role
        if org_role in ADMIN_ROLES or (org_role == "billing" and role != "workspace_admin"):
            raise invalid(
                f"the workspace role of an org {org_role} member cannot be set to {role}",
                "workspace_role_inherited",
            )

    # --- API keys ---------------------------------------------------------------------------

    def get_api_key(self, key_id: str) -> ApiKey:
        key = self._keys.get(key_id)
        if key is None:
            raise not_found("API key", key_id)
        return key

    def api_keys(self) -> list[ApiKey]:
        """Every key, oldest first (the usage reports draw their traffic from these)."""
        return [self._keys[kid] for kid in self._key_ids.items]

    def report_view(self) -> OrgView:
        """The inputs of the synthetic reports, at the clock's now."""
        if self._key_origins is None:
            self._key_origins = key_origins(self._keys.values(), self.default_workspace_id)
        if self._member_origins is None:
            users = ((u.id, u.email, u.role, u.added_at) for u in self._users.values())
            self._member_origins = member_origins(self.organization.id, users)
        return OrgView(
            self.organization.id,
            self.clock.now(),
            self.default_workspace_id,
            self._key_origins,
            self._member_origins,
            retiring=any(k.traffic_until is not None for k in self._key_origins),
        )

    def list_api_keys(
        self,
        cursor: Cursor,
        status: str | None = None,
        workspace_id: str | None = None,
        created_by: str | None = None,
    ) -> tuple[list[ApiKey], Page]:
        if status is not None and status not in API_KEY_STATUSES:
            raise invalid(f"status: {status!r} is not one of {sorted(API_KEY_STATUSES)}")
        keep = self._key_filter(status, workspace_id, created_by)
        page = paginate(self._key_ids.items, cursor, keep)
        return [self._keys[kid] for kid in page.ids], page

    def _key_filter(
        self, status: str | None, workspace_id: str | None, created_by: str | None
    ) -> Callable[[str], bool] | None:
        if status is None and workspace_id is None and created_by is None:
            return None
        now = self.now_text()

        def keep(key_id: str) -> bool:
            key = self._keys[key_id]
            return (
                (status is None or key.current_status(now) == status)
                and (workspace_id is None or key.workspace_id == workspace_id)
                and (created_by is None or key.created_by == created_by)
            )

        return keep

    def update_api_key(self, key_id: str, body: JsonDict) -> ApiKey:
        key = self.get_api_key(key_id)
        if key.status == "archived":
            raise invalid("an archived API key cannot be changed", "api_key_archived")
        name, status = body.get("name"), body.get("status")
        if name is not None and (
            not isinstance(name, str) or not 1 <= len(name) <= API_KEY_NAME_MAX
        ):
            raise invalid(f"name: must be a string of 1 to {API_KEY_NAME_MAX} characters")
        if status is not None and status not in SETTABLE_KEY_STATUSES:
            raise invalid(f"status: {status!r} is not one of {sorted(SETTABLE_KEY_STATUSES)}")
        updated = replace(key, name=name or key.name, status=status or key.status)
        self._keys[key.id] = updated
        self._key_origins = None  # the Claude Code report names keys
        self.touch()
        return updated

    # --- rate limits (admin-api.md §15) ----------------------------------------------------------

    def update_workspace_rate_limits(
        self, workspace_id: str, rate_limit_id: str, body: object
    ) -> JsonDict:
        """Set or clear the named limiter types of one group's overrides; the others stay.
        Returns the group's workspace entry, overrides only."""
        workspace = self.get_workspace(workspace_id)
        group = self.rate_limits.group_of_entry(rate_limit_id)
        self._mutable_workspace(workspace_id)
        if workspace.is_default:
            raise invalid(
                "the Default workspace has the organization's limits; it cannot have overrides",
                "default_workspace_rate_limits",
            )
        self.rate_limits.set_overrides(workspace.id, group.id, limit_changes(body))
        return self.rate_limits.workspace_entry(workspace.id, group)

    # --- persistence --------------------------------------------------------------------------

    def to_json(self) -> JsonDict:
        """The whole state, deterministic for a given state (lists ascending by id)."""
        hashes = None if self.admin_key_hashes is None else sorted(self.admin_key_hashes)
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "organization": {"id": self.organization.id, "name": self.organization.name},
            "clock": {"now": self.now_text()},
            "id_high_water": str(self._ids.high_water),
            "admin_key_sha256": hashes,
            "users": [user_to_json(self._users[i]) for i in self._user_ids.items],
            "invites": [invite_to_json(self._invites[i]) for i in sorted(self._invites)],
            "workspaces": [
                workspace_to_json(self._workspaces[i]) for i in self._workspace_ids.items
            ],
            "workspace_members": self._members_json(),
            "api_keys": [api_key_to_json(self._keys[i]) for i in self._key_ids.items],
            "workspace_rate_limits": self.rate_limits.to_json(),
        }

    def _members_json(self) -> list[JsonDict]:
        return [
            {"workspace_id": wid, "user_id": uid, "workspace_role": self._members[wid][uid]}
            for wid in self._workspace_ids.items
            for uid in self._member_ids[wid].items
        ]

    @classmethod
    def from_json(cls, data: JsonDict, clock: Clock | None = None) -> Store:
        """Rebuild a store from ``to_json`` output; the clock resumes at the saved instant."""
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"not an emulator state (format {data.get('format')!r})")
        org = data["organization"]
        store = cls(
            clock, organization_id=org["id"], organization_name=org["name"], bootstrap=False
        )
        store.load_json(data)
        return store

    def load_json(self, data: JsonDict) -> None:
        """Replace this store's whole state (organization, clock and objects) with ``data``."""
        org = data["organization"]
        self.organization = Organization(org["id"], org["name"])
        self._ids = IdFactory(org["id"], int(data.get("id_high_water", "0")))
        if data.get("clock", {}).get("now"):
            self.clock.set_now(parse_time(data["clock"]["now"]))
        hashes = data.get("admin_key_sha256")
        self.admin_key_hashes = None if hashes is None else frozenset(hashes)
        self._reset_collections()
        self._load_objects(data)
        self.touch()

    def _load_objects(self, data: JsonDict) -> None:
        for item in data.get("workspaces", []):
            self.insert_workspace(workspace_from_json(item))
        for item in data.get("users", []):
            self.insert_user(user_from_json(item))
        for item in data.get("invites", []):
            self.insert_invite(invite_from_json(item))
        for item in data.get("workspace_members", []):
            self.insert_member(item["workspace_id"], item["user_id"], item["workspace_role"])
        for item in data.get("api_keys", []):
            self.insert_api_key(api_key_from_json(item))
        self.rate_limits.load_json(data.get("workspace_rate_limits", []))

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False) + "\n"

    def save(self, path: str | os.PathLike[str]) -> None:
        write_atomic(Path(path), self.dumps())

    @classmethod
    def load(cls, path: str | os.PathLike[str], clock: Clock | None = None) -> Store:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_json(data, clock)


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    handle, temp_name = tempfile.mkstemp(
        dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
