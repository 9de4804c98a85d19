"""The plan: what roster would change so that the organization matches the roster files.

``compute_plan`` is pure: it compares ``Desired`` with ``Current`` by email and returns a ``Plan``
of frozen ``Change`` values. The guards refuse plans that look like mistakes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

from roster.changes import (
    CHANGE_KINDS,
    SUMMARY_GROUPS,
    AccountKind,
    Change,
    ChangeKind,
    HeldBack,
    KeyNotice,
    RateLimitNotice,
    Unmanaged,
    Waiting,
)
from roster.desired import Desired, GroupOverride, OrganizationRef, Policy
from roster.errors import UnsafePlanError
from roster.model import CONSOLE_ONLY_ROLES, SETTABLE_ROLES, Current, Invite, Member, Organization
from roster.plan_keys import plan_api_keys
from roster.plan_rate_limits import plan_rate_limits
from roster.plan_workspaces import is_inherited, plan_workspaces

__all__ = [
    "CHANGE_KINDS",
    "AccountKind",
    "Change",
    "ChangeKind",
    "HeldBack",
    "KeyNotice",
    "Plan",
    "RateLimitNotice",
    "Unmanaged",
    "Waiting",
    "check_archive_guard",
    "check_key_guard",
    "check_organization",
    "check_removal_guard",
    "compute_plan",
    "is_demotion",
]

# What each role may do (admin-api.md §5). Moving to a role that lacks one of these is a demotion.
ROLE_RIGHTS: Mapping[str, frozenset[str]] = {
    "user": frozenset({"workbench"}),
    "claude_code_user": frozenset({"workbench", "claude_code"}),
    "developer": frozenset({"workbench", "api_keys"}),
    "billing": frozenset({"workbench", "billing"}),
    "membership_admin": frozenset({"workbench", "members"}),
    "admin": frozenset({"workbench", "claude_code", "api_keys", "billing", "members"}),
    "owner": frozenset({"workbench", "claude_code", "api_keys", "billing", "members", "admins"}),
    "primary_owner": frozenset(
        {"workbench", "claude_code", "api_keys", "billing", "members", "admins", "ownership"}
    ),
}


Outcome: TypeAlias = (
    Change | Unmanaged | HeldBack | Waiting | KeyNotice | RateLimitNotice | GroupOverride | None
)


@dataclass(frozen=True, slots=True, repr=False)
class Plan:
    """Every change for one organization, sorted by (phase, kind, email); empty is a value too."""

    organization: Organization
    changes: tuple[Change, ...] = ()
    unmanaged: tuple[Unmanaged, ...] = ()
    held_back: tuple[HeldBack, ...] = ()
    waiting: tuple[Waiting, ...] = ()
    api_keys: tuple[KeyNotice, ...] = ()
    rate_limits: tuple[RateLimitNotice, ...] = ()
    # Entries of generated files that other roster files override (explicit entries win).
    group_overrides: tuple[GroupOverride, ...] = ()

    def __post_init__(self) -> None:
        # Sorting here makes equal inputs give equal plans, whatever order they arrived in.
        object.__setattr__(self, "changes", tuple(sorted(self.changes, key=lambda c: c.sort_key)))
        object.__setattr__(self, "unmanaged", tuple(sorted(self.unmanaged, key=_account_key)))
        object.__setattr__(self, "held_back", tuple(sorted(self.held_back, key=_account_key)))
        object.__setattr__(self, "waiting", tuple(sorted(self.waiting, key=_waiting_key)))
        object.__setattr__(self, "api_keys", tuple(sorted(self.api_keys, key=_key_key)))
        object.__setattr__(self, "rate_limits", tuple(sorted(self.rate_limits, key=_notice_key)))
        overrides = tuple(sorted(self.group_overrides, key=_override_key))
        object.__setattr__(self, "group_overrides", overrides)

    @classmethod
    def of(cls, organization: Organization, outcomes: Iterable[Outcome]) -> Plan:
        found = [outcome for outcome in outcomes if outcome is not None]
        return cls(
            organization,
            changes=tuple(o for o in found if isinstance(o, Change)),
            unmanaged=tuple(o for o in found if isinstance(o, Unmanaged)),
            held_back=tuple(o for o in found if isinstance(o, HeldBack)),
            waiting=tuple(o for o in found if isinstance(o, Waiting)),
            api_keys=tuple(o for o in found if isinstance(o, KeyNotice)),
            rate_limits=tuple(o for o in found if isinstance(o, RateLimitNotice)),
            group_overrides=tuple(o for o in found if isinstance(o, GroupOverride)),
        )

    def __repr__(self) -> str:
        # Counts, not contents: a plan for a large organization has thousands of changes.
        return f"Plan({self.organization.name!r}, {dict(self.summary)})"

    @property
    def is_empty(self) -> bool:
        return not self.changes

    @property
    def api_changes(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if not change.is_manual)

    @property
    def manual_changes(self) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.is_manual)

    @property
    def counts(self) -> Mapping[ChangeKind, int]:
        found = Counter(change.kind for change in self.changes)
        return {kind: found[kind] for kind in CHANGE_KINDS}

    @property
    def summary(self) -> Mapping[str, int]:
        groups = Counter(SUMMARY_GROUPS[change.kind] for change in self.changes)
        totals = {group: groups[group] for group in dict.fromkeys(SUMMARY_GROUPS.values())}
        return {**totals, "unmanaged": len(self.unmanaged), "held_back": len(self.held_back)}

    @property
    def data(self) -> dict[str, Any]:
        return {
            "format_version": 1,
            "organization": {"id": self.organization.id, "name": self.organization.name},
            "changes": [change.data for change in self.api_changes],
            "manual": [change.data for change in self.manual_changes],
            "unmanaged": [account.data for account in self.unmanaged],
            "held_back": [account.data for account in self.held_back],
            "waiting": [entry.data for entry in self.waiting],
            "api_keys": [notice.data for notice in self.api_keys],
            "rate_limits": [notice.data for notice in self.rate_limits],
            "group_overrides": [override.data for override in self.group_overrides],
            "summary": dict(self.summary),
        }


def _account_key(account: Unmanaged | HeldBack) -> tuple[str, str, str]:
    return account.workspace, account.email, account.kind


def _waiting_key(entry: Waiting) -> tuple[str, str]:
    return entry.workspace, entry.email


def _key_key(notice: KeyNotice) -> tuple[str, str]:
    return notice.owner, notice.key_id


def _override_key(override: GroupOverride) -> tuple[str, str]:
    return override.workspace, override.email


def _notice_key(notice: RateLimitNotice) -> tuple[str, str, str, str]:
    return notice.reason, notice.workspace, notice.group, notice.limiter


# --- computing the plan ---------------------------------------------------------------------------


def compute_plan(desired: Desired, current: Current) -> Plan:
    """The changes that make ``current`` match ``desired``; refuses another organization."""
    check_organization(desired, current)
    policy = desired.policy
    wanted = {email: role for email, role in desired.members.items() if not policy.ignores(email)}
    members = {m.email: m for m in current.members if not policy.ignores(m.email)}
    invites = {i.email: i for i in current.invites if not policy.ignores(i.email)}
    listed = [_plan_listed(e, r, members.get(e), invites.get(e), policy) for e, r in wanted.items()]
    unlisted_members = [
        _plan_unlisted_member(m, policy) for e, m in members.items() if e not in wanted
    ]
    unlisted_invites = [
        _plan_unlisted_invite(i, policy) for e, i in invites.items() if e not in wanted
    ]
    organization = [*listed, *unlisted_members, *unlisted_invites]
    removed = {
        o.user_id
        for o in organization
        if isinstance(o, Change) and o.user_id and o.kind == "remove_member"
    }
    workspaces = plan_workspaces(desired, current, removed)
    keys = plan_api_keys(desired, current, removed, workspaces)
    rate_limits = plan_rate_limits(desired, current)
    leaving = [_leaving_workspaces(o, current) for o in organization]
    overrides = desired.group_overrides
    return Plan.of(current.organization, [*leaving, *workspaces, *keys, *rate_limits, *overrides])


def _leaving_workspaces(outcome: Outcome, current: Current) -> Outcome:
    """A removal, saying which of the workspaces read it also takes them out of.

    The API drops a removed member's workspace memberships with them, so those are not
    planned as changes of their own.
    """
    if not isinstance(outcome, Change) or outcome.kind != "remove_member":
        return outcome
    names = {w.id: w.name for w in current.workspaces}
    held = sorted(
        names.get(m.workspace_id, m.workspace_id)
        for m in current.workspace_members
        if m.user_id == outcome.user_id and not is_inherited(outcome.from_role or "", m.role)
    )
    if not held:
        return outcome
    spaces = ", ".join(held)
    return replace(outcome, note=f"leaving workspace{'s' if len(held) > 1 else ''} {spaces} too")


def _plan_listed(
    email: str, role: str, member: Member | None, invite: Invite | None, policy: Policy
) -> Outcome:
    # A pending invite for someone who already is a member is stale; the member is what counts.
    if member is not None:
        return _plan_member(member, role, policy)
    return _plan_invite(email, role, invite, policy)


def _plan_member(member: Member, role: str, policy: Policy) -> Outcome:
    if _satisfies(member.role, role):
        return None
    if policy.protects(member.email) and is_demotion(member.role, role):
        return HeldBack("member", member.email, member.role, role)
    if member.role in SETTABLE_ROLES and role in SETTABLE_ROLES:
        return Change("update_role", member.email, member.role, role, user_id=member.id)
    note = _console_role_change(member, role)
    return Change("manual", member.email, member.role, role, user_id=member.id, note=note)


def _plan_invite(email: str, role: str, invite: Invite | None, policy: Policy) -> Outcome:
    pending = invite if invite is not None and invite.status == "pending" else None
    if pending is None:
        return _new_invite(email, role, invite)
    if _satisfies(pending.role, role):
        return None
    if policy.protects(email) and is_demotion(pending.role, role):
        return HeldBack("invite", email, pending.role, role)
    if pending.role in SETTABLE_ROLES and role in SETTABLE_ROLES:
        return Change("reinvite", email, pending.role, role, invite_id=pending.id)
    note = _console_reinvite(pending, role)
    return Change("manual", email, pending.role, role, invite_id=pending.id, note=note)


def _new_invite(email: str, role: str, earlier: Invite | None) -> Change:
    # Expired invites cannot be deleted and do not block a new one.
    note = f"the previous invite expired on {earlier.expires_at[:10]}" if earlier else ""
    if role in SETTABLE_ROLES:
        return Change("invite", email, None, role, note=note)
    console = f"In the Console, invite {email} as {role}; only the Console grants {role}."
    return Change("manual", email, None, role, note=console)


def _plan_unlisted_member(member: Member, policy: Policy) -> Outcome:
    if policy.unmanaged == "ignore":
        return None
    if policy.unmanaged == "report":
        return Unmanaged("member", member.email, member.role, member.id)
    if policy.protects(member.email):
        return HeldBack("member", member.email, member.role, None)
    if member.role in SETTABLE_ROLES:
        return Change("remove_member", member.email, member.role, None, user_id=member.id)
    note = _console_removal(member)
    return Change("manual", member.email, member.role, None, user_id=member.id, note=note)


def _plan_unlisted_invite(invite: Invite, policy: Policy) -> Outcome:
    if invite.status != "pending" or policy.unmanaged == "ignore":
        return None
    if policy.unmanaged == "report":
        return Unmanaged("invite", invite.email, invite.role, invite.id)
    if policy.protects(invite.email):
        return HeldBack("invite", invite.email, invite.role, None)
    if invite.role in SETTABLE_ROLES:
        return Change("delete_invite", invite.email, invite.role, None, invite_id=invite.id)
    note = f"In the Console, delete the pending {invite.role} invite for {invite.email}."
    return Change("manual", invite.email, invite.role, None, invite_id=invite.id, note=note)


def _satisfies(current_role: str, desired_role: str) -> bool:
    # A file cannot spell owner or membership_admin; "admin" there means "has admin rights".
    if desired_role == "admin":
        return current_role in CONSOLE_ONLY_ROLES
    return current_role == desired_role


def is_demotion(from_role: str, to_role: str) -> bool:
    """True when ``to_role`` lacks a right of ``from_role`` (an unknown role is a right itself)."""
    had = ROLE_RIGHTS.get(from_role, frozenset({from_role}))
    return not had <= ROLE_RIGHTS.get(to_role, frozenset({to_role}))


def _console_role_change(member: Member, role: str) -> str:
    change = f"change {member.email}'s role from {member.role} to {role}"
    if role in CONSOLE_ONLY_ROLES:
        return f"In the Console, {change}; only the Console grants {role}."
    if member.role in CONSOLE_ONLY_ROLES:
        return f"In the Console, {change}; the API cannot take away {member.role}."
    # Enterprise "managed" members get their role from the identity provider's groups.
    return f"In the Console or the identity provider's groups, {change}."


def _console_reinvite(pending: Invite, role: str) -> str:
    return (
        f"In the Console, delete the pending {pending.role} invite for {pending.email}"
        f" and invite them as {role}."
    )


def _console_removal(member: Member) -> str:
    return (
        f"In the Console, remove {member.email} ({member.role}) from the organization,"
        f" or list them in the roster files; the API cannot remove a member with the"
        f" {member.role} role."
    )


# --- guards -------------------------------------------------------------------------------------


def check_organization(desired: Desired, current: Current) -> None:
    """Refuse to plan when the files name an organization other than the key's."""
    wanted = desired.organization
    if wanted is None or _same_organization(wanted, current.organization):
        return
    actual = OrganizationRef(current.organization.id, current.organization.name)
    raise UnsafePlanError(
        f"the roster files are for {wanted.describe()} but the admin key belongs to"
        f" {actual.describe()}; check the key or the files' organization"
    )


def _same_organization(wanted: OrganizationRef, actual: Organization) -> bool:
    same_id = wanted.id is None or wanted.id == actual.id
    return same_id and (wanted.name is None or wanted.name == actual.name)


def check_removal_guard(plan: Plan, current: Current, policy: Policy, force: bool) -> None:
    """Refuse a plan that removes more members than ``policy.max_removals`` allows, unless forced.

    Only member removals count: deleting a pending invite cuts off no one who works there yet.
    """
    removals = plan.counts["remove_member"]
    total = len(current.members)
    allowed = policy.max_removals.allowed(total)
    if force or removals <= allowed:
        return
    raise UnsafePlanError(
        f"plan removes {removals} of {total} members ({100 * removals / max(total, 1):.1f}%),"
        f" over policy.max_removals {policy.max_removals.described(total)};"
        " review the plan or pass --force"
    )


def check_key_guard(plan: Plan, current: Current, policy: Policy, force: bool) -> None:
    """Refuse a plan that turns off more API keys than ``policy.api_keys.max_deactivations``
    allows, unless forced: a deactivated production key is an outage. Keys of the people this
    plan removes do not count, as the removals, which ``max_removals`` bounds, take them;
    those of people removed before, and those the key policy finds, do."""
    removed = {c.user_id for c in plan.changes if c.kind == "remove_member"}
    stopped = ("deactivate_api_key", "archive_api_key")
    retiring = [c for c in plan.changes if c.kind in stopped and c.user_id not in removed]
    total = len(current.api_keys)
    limit = policy.api_keys.max_deactivations
    allowed = limit.allowed(total)
    if force or len(retiring) <= allowed:
        return
    raise UnsafePlanError(
        f"plan turns off {len(retiring)} of {total} active API keys, over"
        f" policy.api_keys.max_deactivations {limit.described(total)};"
        " review the plan or pass --force"
    )


def check_archive_guard(plan: Plan, allow_archive: bool) -> None:
    """Refuse to archive a workspace unless asked: archiving is final and stops its keys."""
    archives = [change for change in plan.changes if change.kind == "archive_workspace"]
    if archives and not allow_archive:
        named = ", ".join(f"'{change.workspace}' ({change.note})" for change in archives)
        raise UnsafePlanError(
            f"the plan archives workspace {named}; archiving cannot be undone:"
            " pass --allow-archive to apply it"
        )
