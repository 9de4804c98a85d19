"""The organization as roster sees it: frozen values fetched from the Admin API (``Current``).

These are the words of the whole pipeline: ``fetch_state`` builds a ``Current``, ``compute_plan``
compares it with the ``Desired`` state loaded from the roster files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Every role the API may *return* on a user or an invite (admin-api.md §5).
ORG_ROLES = frozenset(
    {
        "admin",
        "billing",
        "claude_code_user",
        "developer",
        "managed",
        "membership_admin",
        "owner",
        "primary_owner",
        "user",
    }
)
# Roles a Console organization accepts on POST /users/{id} and POST /invites.
SETTABLE_ROLES = frozenset({"billing", "claude_code_user", "developer", "user"})
# Roles that only an owner can grant or take away, in the Console: never through the API.
CONSOLE_ONLY_ROLES = frozenset({"admin", "owner", "primary_owner", "membership_admin"})

WORKSPACE_ROLES = frozenset(
    {
        "workspace_user",
        "workspace_developer",
        "workspace_restricted_developer",
        "workspace_admin",
        "workspace_billing",
    }
)
ASSIGNABLE_WORKSPACE_ROLES = WORKSPACE_ROLES - {"workspace_billing"}

# The rate-limit groups (admin-api.md §15a): model families, and one group of each other kind.
RATE_LIMIT_GROUP_TYPES = ("model_group", "batch", "token_count", "files", "skills", "web_search")
# The limiter types a workspace override may set, in the order roster shows them.
LIMITER_TYPES = (
    "requests_per_minute",
    "input_tokens_per_minute",
    "input_tokens_per_minute_cache_aware",
    "output_tokens_per_minute",
    "tokens_per_minute",
    "tokens_per_day",
    "tool_uses_per_second",
    "fast_itpmca",
    "fast_otpm",
)


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Member:
    """An organization member (an API ``user``); ``email`` is always lower-case."""

    id: str
    email: str
    name: str
    role: str
    added_at: str


@dataclass(frozen=True, slots=True)
class Invite:
    """An invite; ``status`` is ``pending``, ``accepted`` or ``expired``; ``email`` lower-case."""

    id: str
    email: str
    role: str
    status: str
    invited_at: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class Workspace:
    """A workspace; ``is_default`` marks the organization's Default workspace, which the API
    lists only when asked and which can be neither created, renamed nor archived."""

    id: str
    name: str
    archived: bool = False
    created_at: str = ""
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class WorkspaceMember:
    """A user's role in a workspace, as the API lists it (inherited roles included)."""

    workspace_id: str
    user_id: str
    role: str


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key; ``created_by`` is the creating user's id (None: a service or system key).

    ``created_at`` and ``expires_at`` are RFC 3339 timestamps (``""``: not given; an
    ``expires_at`` of ``""`` also means the key never expires).
    """

    id: str
    name: str
    status: str
    workspace_id: str | None
    created_by: str | None
    created_at: str = ""
    expires_at: str = ""


@dataclass(frozen=True, slots=True)
class RateLimitGroup:
    """One of the organization's rate-limit entries: a group and its limits.

    ``id`` is the entry's id, which differs between organizations (the ``rate_limit_id`` of a
    workspace override); ``group_id`` (``rlg_...``) is the same in every organization.
    ``models`` lists the model names and aliases of a model group (empty for the others).
    """

    id: str
    group_type: str
    group_id: str
    display_name: str = ""
    models: tuple[str, ...] = ()
    limits: Mapping[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How people name the group: its display name, or its type for the other groups."""
        return self.display_name or self.group_type


@dataclass(frozen=True, slots=True)
class WorkspaceRateLimit:
    """A workspace's overrides of one group's limits (limiter type -> the workspace's value)."""

    workspace_id: str
    rate_limit_id: str
    overrides: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, repr=False)
class Current:
    """The organization's state as fetched: members and the invites that still matter.

    ``invites`` holds pending and expired invites only (accepted ones became members),
    at most one per email: the most recent. ``workspaces`` holds every workspace, archived
    ones and the Default one included; ``workspace_members`` the members of the workspaces that were
    asked for; ``api_keys`` the active keys; ``rate_limits`` the organization's rate-limit
    entries and ``workspace_rate_limits`` the overrides of the workspaces asked for (both empty
    when no workspace's rate limits were asked for). ``read_at`` is when the API was read, by
    the API's clock (RFC 3339; ``""``: not known): planning measures ages against it, so that
    the core needs no clock. ``key_last_used`` maps an API key's id to the last day
    (``YYYY-MM-DD``) the messages usage report saw it used, over the window asked for.
    """

    organization: Organization
    members: tuple[Member, ...]
    invites: tuple[Invite, ...]
    workspaces: tuple[Workspace, ...] = ()
    workspace_members: tuple[WorkspaceMember, ...] = ()
    api_keys: tuple[ApiKey, ...] = ()
    rate_limits: tuple[RateLimitGroup, ...] = ()
    workspace_rate_limits: tuple[WorkspaceRateLimit, ...] = ()
    read_at: str = ""
    key_last_used: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Counts, not contents: a large organization's full repr takes a noticeable time.
        return (
            f"Current({self.organization.name!r}, {len(self.members)} members,"
            f" {len(self.invites)} invites, {len(self.workspaces)} workspaces,"
            f" {len(self.workspace_members)} workspace members, {len(self.api_keys)} API keys)"
        )
