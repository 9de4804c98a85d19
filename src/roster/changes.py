"""The values a plan is made of: ``Change`` (something apply does, or a manual action) and the
accounts a plan shows but leaves alone (unmanaged, held back, waiting, keys to look at).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeAlias

ChangeKind = Literal[
    "invite",
    "reinvite",
    "update_role",
    "create_workspace",
    "add_workspace_member",
    "update_workspace_member",
    "set_rate_limits",
    "remove_workspace_member",
    "archive_workspace",
    "delete_invite",
    "remove_member",
    "deactivate_api_key",
    "archive_api_key",
    "manual",
]
AccountKind = Literal["member", "invite", "workspace", "workspace_member"]
RateLimitReason = Literal["not_in_files", "above_organization_limit", "over_organization_total"]

# Kinds in plan order. Grants come before removals, so a run cut short leaves extra access behind
# rather than missing access, and the next run finishes it: invites and role changes, then
# workspaces, their members and rate limits, then removals from workspaces before removals from the
# organization, and last the keys of people removed. Manual actions are never applied.
PHASES: Mapping[ChangeKind, int] = {
    "invite": 1,
    "reinvite": 1,
    "update_role": 1,
    "create_workspace": 2,
    "add_workspace_member": 3,
    "update_workspace_member": 3,
    "set_rate_limits": 3,
    "remove_workspace_member": 4,
    "archive_workspace": 5,
    "delete_invite": 6,
    "remove_member": 6,
    "deactivate_api_key": 7,
    "archive_api_key": 7,
    "manual": 8,
}
CHANGE_KINDS: tuple[ChangeKind, ...] = tuple(PHASES)
SUMMARY_GROUPS: Mapping[ChangeKind, str] = {
    "invite": "invite",
    "reinvite": "change",
    "update_role": "change",
    "create_workspace": "add",
    "add_workspace_member": "add",
    "update_workspace_member": "change",
    "set_rate_limits": "change",
    "remove_workspace_member": "remove",
    "archive_workspace": "remove",
    "delete_invite": "remove",
    "remove_member": "remove",
    "deactivate_api_key": "remove",
    "archive_api_key": "remove",
    "manual": "manual",
}


class _AsData:
    """``data``: the value as JSON-ready data, field by field (an empty workspace as null)."""

    __slots__ = ()

    @property
    def data(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]
        if "workspace" in values:
            values["workspace"] = values["workspace"] or None
        if "limits" in values:
            values["limits"] = [step.data for step in values["limits"]]
        return values


@dataclass(frozen=True, slots=True)
class LimitStep(_AsData):
    """One limiter type of a rate-limit change: its override before and after (None: none, the
    organization's limit applies), and the organization's limit (None: it has none)."""

    limiter: str
    from_value: int | None
    to_value: int | None
    org_limit: int | None = None


@dataclass(frozen=True, slots=True)
class Change(_AsData):
    """One step of a plan, carrying everything ``apply_plan`` needs (ids, email, roles).

    ``from_role`` is the role before (None for a new invite), ``to_role`` the role after (None for
    a removal). ``note`` says why or, for a ``manual`` change, exactly what to do in the Console.
    A ``set_rate_limits`` change names the group as the files do (``group``), the organization's
    entry for it (``rate_limit_id``) and each limiter type it sets or clears (``limits``).
    """

    kind: ChangeKind
    email: str
    from_role: str | None = None
    to_role: str | None = None
    user_id: str | None = None
    invite_id: str | None = None
    note: str = ""
    workspace: str = ""
    workspace_id: str | None = None
    key_id: str | None = None
    key_name: str = ""
    group: str = ""
    rate_limit_id: str | None = None
    limits: tuple[LimitStep, ...] = ()

    @property
    def phase(self) -> int:
        return PHASES[self.kind]

    @property
    def sort_key(self) -> tuple[int, int, str, str, str, str]:
        return (
            self.phase,
            CHANGE_KINDS.index(self.kind),
            self.workspace,
            self.email,
            self.key_id or "",
            self.group,
        )

    @property
    def is_manual(self) -> bool:
        return self.kind == "manual"


@dataclass(frozen=True, slots=True)
class Unmanaged(_AsData):
    """A member or pending invite the files do not list, reported and left alone."""

    kind: AccountKind
    email: str
    role: str
    id: str
    workspace: str = ""


@dataclass(frozen=True, slots=True)
class HeldBack(_AsData):
    """A removal or demotion of a protected account that the plan leaves out on purpose.

    ``wanted_role`` is what the files say (None: the files do not list the account).
    """

    kind: AccountKind
    email: str
    role: str
    wanted_role: str | None
    workspace: str = ""


@dataclass(frozen=True, slots=True)
class Waiting(_AsData):
    """A workspace member who cannot be added yet: they have not accepted their invite."""

    email: str
    workspace: str
    role: str


@dataclass(frozen=True, slots=True)
class KeyNotice(_AsData):
    """An active API key listed for review: of someone removed (``reason`` is ``""``), or one
    ``policy.api_keys`` finds old or unused (``reason`` says why)."""

    key_id: str
    name: str
    owner: str
    workspace: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RateLimitNotice(_AsData):
    """A rate limit worth a reviewer's eye, which the plan leaves as it is.

    ``not_in_files``: an override the files do not give (policy.rate_limits: report).
    ``above_organization_limit``: a value the plan sets above the organization's limit (stored,
    but the lower applies). ``over_organization_total``: the workspaces' overrides of one type
    add up to more than the organization's limit (legal); ``value`` is the total then,
    ``workspace`` the workspaces it adds up, and ``group`` the group's display name.
    """

    reason: RateLimitReason
    workspace: str
    group: str
    limiter: str
    value: int
    org_limit: int | None = None


# Anything planning can find about one account, workspace, key or rate limit.
Entry: TypeAlias = Change | Unmanaged | HeldBack | Waiting | KeyNotice | RateLimitNotice
