"""The organization as the roster files describe it (``Desired``), and the ``Policy`` they set.

``load_config`` builds these values from YAML; ``compute_plan`` compares them with ``Current``.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from roster.model import SETTABLE_ROLES

# Roles a member may have in a roster file: the settable ones, and admin, which only describes.
FILE_ROLES = SETTABLE_ROLES | {"admin"}

UnmanagedPolicy = Literal["report", "remove", "ignore"]
WorkspacePolicy = Literal["ignore", "report"]
KeyPolicy = Literal["keep", "report", "deactivate", "archive"]


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

    def __str__(self) -> str:
        # Exact, never rounded: a saved plan keeps the limit as the file gave it.
        if not self.percent:
            return str(int(self.amount))
        text = repr(self.amount)
        return f"{text.removesuffix('.0')}%"


@dataclass(frozen=True, slots=True)
class Policy:
    """How roster treats accounts the files do not list, and what it must never touch."""

    unmanaged: UnmanagedPolicy = "report"
    ignore: tuple[str, ...] = ()
    protected: frozenset[str] = frozenset()
    max_removals: RemovalLimit = RemovalLimit(5)
    workspaces: WorkspacePolicy = "ignore"
    workspace_members: UnmanagedPolicy | None = None
    api_keys_of_removed_members: KeyPolicy = "report"

    @property
    def unmanaged_workspace_members(self) -> UnmanagedPolicy:
        return self.workspace_members or self.unmanaged

    def ignores(self, email: str) -> bool:
        return self.ignoring_glob(email) is not None

    def ignoring_glob(self, email: str) -> str | None:
        return next((glob for glob in self.ignore if fnmatch.fnmatchcase(email, glob)), None)

    def protects(self, email: str) -> bool:
        return email in self.protected


@dataclass(frozen=True, slots=True)
class DesiredWorkspace:
    """A workspace the files name: its members (lower-case email -> workspace role)."""

    name: str
    members: Mapping[str, str] = field(default_factory=dict)
    archived: bool = False


@dataclass(frozen=True, slots=True)
class Desired:
    """Every member the roster files list (lower-case email -> role), and the policy they set."""

    members: Mapping[str, str]
    policy: Policy = Policy()
    organization: OrganizationRef | None = None
    workspaces: Mapping[str, DesiredWorkspace] = field(default_factory=dict)
