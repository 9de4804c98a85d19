"""The emulator's stored objects, as frozen values, and their state-file form.

Timestamps are kept as the API's RFC 3339 strings: one fixed format, so string order is
time order and saving or loading a large organization converts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    name: str
    role: str
    added_at: str

    def to_api(self) -> JsonDict:
        return {
            "id": self.id,
            "type": "user",
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "added_at": self.added_at,
        }


@dataclass(frozen=True, slots=True)
class Invite:
    id: str
    email: str
    role: str
    invited_at: str
    expires_at: str
    accepted_at: str | None = None
    deleted: bool = False

    def status(self, now: str) -> str:
        if self.deleted:
            return "deleted"
        if self.accepted_at is not None:
            return "accepted"
        return "expired" if now >= self.expires_at else "pending"

    def to_api(self, now: str) -> JsonDict:
        return {
            "id": self.id,
            "type": "invite",
            "email": self.email,
            "role": self.role,
            "status": self.status(now),
            "invited_at": self.invited_at,
            "expires_at": self.expires_at,
            "accepted_at": self.accepted_at,
            "rbac_group_ids": [],
        }


def default_residency() -> JsonDict:
    return {
        "workspace_geo": "us",
        "allowed_inference_geos": "unrestricted",
        "default_inference_geo": "global",
    }


@dataclass(frozen=True, slots=True)
class Workspace:
    id: str
    name: str
    created_at: str
    display_color: str
    archived_at: str | None = None
    is_default: bool = False
    data_residency: JsonDict = field(default_factory=default_residency)
    tags: dict[str, str] = field(default_factory=dict)

    def to_api(self) -> JsonDict:
        return {
            "id": self.id,
            "type": "workspace",
            "name": self.name,
            "created_at": self.created_at,
            "archived_at": self.archived_at,
            "display_color": self.display_color,
            "data_residency": dict(self.data_residency),
            "tags": dict(self.tags),
            "compartment_id": None,
            "external_key_id": None,
            "user_profile_id": None,
        }


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key. ``traffic_until`` is the emulator's own: the synthetic reports give the key
    no traffic from that instant on (None: as long as it exists). The API never shows it."""

    id: str
    name: str
    workspace_id: str
    created_by: str | None
    created_at: str
    status: str
    partial_key_hint: str
    expires_at: str | None = None
    traffic_until: str | None = None

    def current_status(self, now: str) -> str:
        if self.status == "active" and self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return self.status

    def to_api(self, now: str, version: str, default_workspace_id: str) -> JsonDict:
        """The 2023-06-01 shape has ``workspace_id``; 2026-10-21 has ``scope`` instead."""
        shape: JsonDict = {
            "id": self.id,
            "type": "api_key",
            "name": self.name,
            "created_at": self.created_at,
            "created_by": None
            if self.created_by is None
            else {"id": self.created_by, "type": "user"},
            "expires_at": self.expires_at,
            "partial_key_hint": self.partial_key_hint,
            "status": self.current_status(now),
            "principal": None,
        }
        if version == "2023-06-01":
            is_default = self.workspace_id == default_workspace_id
            shape["workspace_id"] = None if is_default else self.workspace_id
        else:
            shape["scope"] = {"type": "workspace", "workspace_id": self.workspace_id}
        return shape


def user_from_json(data: JsonDict) -> User:
    return User(**data)


def invite_from_json(data: JsonDict) -> Invite:
    return Invite(**data)


def workspace_from_json(data: JsonDict) -> Workspace:
    return Workspace(**data)


def api_key_from_json(data: JsonDict) -> ApiKey:
    return ApiKey(**data)


def user_to_json(user: User) -> JsonDict:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "added_at": user.added_at,
    }


def invite_to_json(invite: Invite) -> JsonDict:
    return {
        "id": invite.id,
        "email": invite.email,
        "role": invite.role,
        "invited_at": invite.invited_at,
        "expires_at": invite.expires_at,
        "accepted_at": invite.accepted_at,
        "deleted": invite.deleted,
    }


def workspace_to_json(workspace: Workspace) -> JsonDict:
    return {
        "id": workspace.id,
        "name": workspace.name,
        "created_at": workspace.created_at,
        "display_color": workspace.display_color,
        "archived_at": workspace.archived_at,
        "is_default": workspace.is_default,
        "data_residency": dict(workspace.data_residency),
        "tags": dict(workspace.tags),
    }


def api_key_to_json(key: ApiKey) -> JsonDict:
    data: JsonDict = {
        "id": key.id,
        "name": key.name,
        "workspace_id": key.workspace_id,
        "created_by": key.created_by,
        "created_at": key.created_at,
        "status": key.status,
        "partial_key_hint": key.partial_key_hint,
        "expires_at": key.expires_at,
    }
    if key.traffic_until is not None:  # rare: state files without it stay as they were
        data["traffic_until"] = key.traffic_until
    return data
