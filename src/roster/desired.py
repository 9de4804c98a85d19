"""The organization as the roster files describe it (``Desired``), and the ``Policy`` they set.

``load_config`` builds these values from YAML; ``compute_plan`` compares them with ``Current``.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from roster.model import SETTABLE_ROLES

# Roles a member may have in a roster file: the settable ones, and admin, which only describes.
FILE_ROLES = SETTABLE_ROLES | {"admin"}

UnmanagedPolicy = Literal["report", "remove", "ignore"]
WorkspacePolicy = Literal["ignore", "report"]
KeyPolicy = Literal["keep", "report", "deactivate", "archive"]
RateLimitPolicy = Literal["report", "remove", "ignore"]
KeyAgeAction = Literal["report", "deactivate"]
# The most days policy.api_keys counts (the schema's maximum): a hundred years.
MAX_KEY_DAYS = 36_500
# Where a roster file names something: (file, line, column).
Location = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class OrganizationRef:
    """The organization the files are for; a ``None`` field is not checked."""

    id: str | None = None
    name: str | None = None

    def describe(self) -> str:
        named = f"'{self.name}'" if self.name is not None else ""
        return f"{named} (id {self.id})".strip() if self.id is not None else named


@dataclass(frozen=True, slots=True)
class RemovalLimit:
    """``policy.max_removals``: a count of members, or a percentage of the current members."""

    amount: float
    percent: bool = False

    @classmethod
    def parse(cls, value: int | float | str) -> RemovalLimit:
        """A count (``5``) or a percentage (``"10%"``); ``ValueError`` for anything else."""
        if isinstance(value, str) and value.endswith("%"):
            limit = cls(float(value.removesuffix("%")), percent=True)
        else:
            limit = cls(int(value))
        ceiling = 100 if limit.percent else math.inf
        if not (math.isfinite(limit.amount) and 0 <= limit.amount <= ceiling):
            raise ValueError(f"not a removal limit: {value!r}")
        return limit

    def allowed(self, member_count: int) -> int:
        if not self.percent:
            return int(self.amount)
        return math.floor(member_count * self.amount / 100)

    def described(self, total: int) -> str:
        """The limit as a refusal names it: ``5``, or ``10% (4)`` of ``total``."""
        return f"{self} ({self.allowed(total)})" if self.percent else str(self)

    def __str__(self) -> str:
        # Exact, never rounded: a saved plan keeps the limit as the file gave it.
        if not self.percent:
            return str(int(self.amount))
        text = repr(self.amount)
        return f"{text.removesuffix('.0')}%"


@dataclass(frozen=True, slots=True)
class ApiKeyPolicy:
    """``policy.api_keys``: active keys older than ``max_age_days`` or unused for
    ``unused_days`` (None: not checked) are reported, or deactivated by apply, at most
    ``max_deactivations`` in one plan (a count or a percentage of the active keys)."""

    max_age_days: int | None = None
    unused_days: int | None = None
    action: KeyAgeAction = "report"
    max_deactivations: RemovalLimit = RemovalLimit(5)

    @classmethod
    def from_data(cls, section: Mapping[str, Any]) -> ApiKeyPolicy:
        defaults = cls()
        return cls(
            max_age_days=section.get("max_age_days"),
            unused_days=section.get("unused_days"),
            action=section.get("action", defaults.action),
            max_deactivations=_removal_limit(
                section.get("max_deactivations", defaults.max_deactivations)
            ),
        )

    @property
    def data(self) -> dict[str, Any]:
        return {
            "max_age_days": self.max_age_days,
            "unused_days": self.unused_days,
            "action": self.action,
            "max_deactivations": str(self.max_deactivations),
        }

    @property
    def checks(self) -> bool:
        return self.max_age_days is not None or self.unused_days is not None


@dataclass(frozen=True, slots=True)
class Policy:
    """How roster treats accounts the files do not list, and what it must never touch.

    ``data`` is its one data form, and ``from_data`` reads it back: the loader reads a file's
    ``policy`` section with it and a saved plan stores and reads it, so the two never differ.
    """

    unmanaged: UnmanagedPolicy = "report"
    ignore: tuple[str, ...] = ()
    protected: frozenset[str] = frozenset()
    max_removals: RemovalLimit = RemovalLimit(5)
    workspaces: WorkspacePolicy = "ignore"
    workspace_members: UnmanagedPolicy | None = None
    api_keys_of_removed_members: KeyPolicy = "report"
    rate_limits: RateLimitPolicy = "report"
    api_keys: ApiKeyPolicy = ApiKeyPolicy()

    @classmethod
    def from_data(cls, section: Mapping[str, Any]) -> Policy:
        """The policy a file's section or a saved plan gives; what it leaves out is the default.

        ``ValueError`` for a removal limit that is neither a count nor a percentage.
        """
        defaults = cls()
        return cls(
            unmanaged=section.get("unmanaged", defaults.unmanaged),
            ignore=tuple(glob.lower() for glob in section.get("ignore", ())),
            protected=frozenset(email.lower() for email in section.get("protected", ())),
            max_removals=_removal_limit(section.get("max_removals", defaults.max_removals)),
            workspaces=section.get("workspaces", defaults.workspaces),
            workspace_members=section.get("workspace_members"),
            api_keys_of_removed_members=section.get(
                "api_keys_of_removed_members", defaults.api_keys_of_removed_members
            ),
            rate_limits=section.get("rate_limits", defaults.rate_limits),
            api_keys=ApiKeyPolicy.from_data(section.get("api_keys") or {}),
        )

    @property
    def data(self) -> dict[str, Any]:
        return {
            "unmanaged": self.unmanaged,
            "ignore": list(self.ignore),
            "protected": sorted(self.protected),
            "max_removals": str(self.max_removals),
            "workspaces": self.workspaces,
            "workspace_members": self.workspace_members,
            "api_keys_of_removed_members": self.api_keys_of_removed_members,
            "rate_limits": self.rate_limits,
            "api_keys": self.api_keys.data,
        }

    @property
    def unmanaged_workspace_members(self) -> UnmanagedPolicy:
        return self.workspace_members or self.unmanaged

    def ignores(self, email: str) -> bool:
        return self.ignoring_glob(email) is not None

    def ignoring_glob(self, email: str) -> str | None:
        return next((glob for glob in self.ignore if fnmatch.fnmatchcase(email, glob)), None)

    def protects(self, email: str) -> bool:
        return email in self.protected


def _removal_limit(value: Any) -> RemovalLimit:
    """A limit as a file gives it (``5``, ``"10%"``) or as ``data`` writes it (``"5"``)."""
    if isinstance(value, RemovalLimit):
        return value
    if isinstance(value, str) and not value.endswith("%"):
        return RemovalLimit.parse(int(value))
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a removal limit: {value!r}")
    return RemovalLimit.parse(value)


@dataclass(frozen=True, slots=True)
class DesiredWorkspace:
    """A workspace the files name: its members (lower-case email -> workspace role).

    ``rate_limits`` maps each rate-limit group the files name (a model, a group type or a
    group id, as written) to its limiter values; None when the files give no ``rate_limits``
    for the workspace, which roster then leaves alone. ``rate_limits_at`` says where each
    group is named, for problems found once the organization's groups are known.
    """

    name: str
    members: Mapping[str, str] = field(default_factory=dict)
    archived: bool = False
    rate_limits: Mapping[str, Mapping[str, int]] | None = None
    rate_limits_at: Mapping[str, Location] = field(default_factory=dict, compare=False)

    @property
    def data(self) -> dict[str, Any]:
        limits = self.rate_limits
        return {
            "members": dict(self.members),
            "archived": self.archived,
            "rate_limits": None if limits is None else {g: dict(v) for g, v in limits.items()},
        }

    @classmethod
    def from_data(cls, name: str, data: Mapping[str, Any]) -> DesiredWorkspace:
        limits = data.get("rate_limits")
        return cls(
            name,
            MappingProxyType(dict(data["members"])),
            data["archived"],
            None
            if limits is None
            else MappingProxyType({g: MappingProxyType(dict(v)) for g, v in limits.items()}),
        )


DEFAULT_RULE_ROLE = "user"
# A broken bind or an emptied group drops most people; ordinary churn drops a few.
DEFAULT_SYNC_REMOVALS = RemovalLimit(25, percent=True)


@dataclass(frozen=True, slots=True)
class GroupRule:
    """``group`` (a name the source knows it by) gives ``role`` and these workspace roles."""

    group: str
    role: str = DEFAULT_RULE_ROLE
    workspaces: Mapping[str, str] = field(default_factory=dict)
    at: Location | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class GroupSync:
    """A roster file's ``groups`` section: the source, the rules, and the file they generate
    (``output``, relative to ``file``, the roster file that gives the section)."""

    source: Mapping[str, Any]
    rules: tuple[GroupRule, ...]
    output: str
    file: str
    max_removals: RemovalLimit = DEFAULT_SYNC_REMOVALS


@dataclass(frozen=True, slots=True)
class GroupOverride:
    """An entry of a generated file that another roster file overrides: the same person (in
    ``workspace``, or in the organization when it is empty), given ``file_role`` at ``file_at``;
    or, with ``file_role`` empty, matched by ``policy.ignore``."""

    email: str
    group_role: str
    group_at: Location
    file_role: str = ""
    file_at: Location | None = None
    workspace: str = ""

    @property
    def data(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "workspace": self.workspace,
            "group_role": self.group_role,
            "group_at": list(self.group_at),
            "file_role": self.file_role,
            "file_at": None if self.file_at is None else list(self.file_at),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> GroupOverride:
        file_at = data["file_at"]
        return cls(
            email=data["email"],
            group_role=data["group_role"],
            group_at=_location(data["group_at"]),
            file_role=data["file_role"],
            file_at=None if file_at is None else _location(file_at),
            workspace=data["workspace"],
        )


def _location(value: Any) -> Location:
    file, line, column = value
    if not (isinstance(file, str) and isinstance(line, int) and isinstance(column, int)):
        raise ValueError(f"not a location: {value!r}")
    return file, line, column


@dataclass(frozen=True, slots=True)
class Desired:
    """Every member the roster files list (lower-case email -> role), and the policy they set."""

    members: Mapping[str, str]
    policy: Policy = Policy()
    organization: OrganizationRef | None = None
    workspaces: Mapping[str, DesiredWorkspace] = field(default_factory=dict)
    # What generated files give that other files override; the group rules (``groups``).
    group_overrides: tuple[GroupOverride, ...] = field(default=(), compare=False)
    groups: GroupSync | None = field(default=None, compare=False)

    @property
    def names_rate_limits(self) -> bool:
        """Whether any workspace gives ``rate_limits``: only then does roster read them."""
        return any(w.rate_limits is not None for w in self.workspaces.values())
