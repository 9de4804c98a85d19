"""Planning workspaces and their members. Pure.

Org admins are workspace admins everywhere and billing members workspace billing, by the API's
rules: those inherited memberships are never added, changed or removed here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping

from roster.changes import Change, Entry, HeldBack, Unmanaged, Waiting
from roster.desired import Desired, DesiredWorkspace, Policy
from roster.model import SETTABLE_ROLES, Current, Member, Workspace, WorkspaceMember

# Org roles that make someone workspace_admin in every workspace.
ADMIN_LIKE = frozenset({"admin", "owner", "primary_owner"})
INHERITING_ROLES = ADMIN_LIKE | {"billing"}
WORKSPACE_RANK = {
    "workspace_user": 0,
    "workspace_restricted_developer": 1,
    "workspace_developer": 2,
    "workspace_billing": 2,
    "workspace_admin": 3,
}
# The name the API gives the organization's default workspace.
DEFAULT_WORKSPACE = "Default"


def plan_workspaces(
    desired: Desired, current: Current, removed: Collection[str] = ()
) -> list[Entry]:
    """Create, fill and archive the workspaces the files name; report the others if asked.

    A name that several active workspaces share (a race, or the Console allows it) cannot say
    which one the files mean: it becomes a manual action, and the rest is planned as usual.
    """
    active = _active_by_name(current.workspaces)
    context = _Context(desired, current, frozenset(removed))
    entries: list[Entry] = []
    for name, wanted in desired.workspaces.items():
        found = active.get(name, [])
        # "Default" in a file means the organization's Default workspace, whatever shares its name.
        found = [w for w in found if w.is_default] or found
        if len(found) > 1:
            entries.append(context.ambiguous(name, found))
        else:
            entries += context.plan(wanted, found[0] if found else None)
    if desired.policy.workspaces == "report":
        entries += _unlisted_workspaces(active, desired.workspaces)
    return entries


def _active_by_name(workspaces: Iterable[Workspace]) -> dict[str, list[Workspace]]:
    named: dict[str, list[Workspace]] = defaultdict(list)
    for workspace in workspaces:
        if not workspace.archived:
            named[workspace.name].append(workspace)
    return named


def _unlisted_workspaces(
    active: Mapping[str, list[Workspace]], wanted: Mapping[str, DesiredWorkspace]
) -> list[Entry]:
    return [
        Unmanaged("workspace", "", "", workspace.id, workspace.name)
        for name, workspaces in active.items()
        if name not in wanted
        for workspace in workspaces
        if not workspace.is_default  # always there, and never roster's to archive
    ]


class _Context:
    """What planning one workspace needs to know about the organization."""

    def __init__(self, desired: Desired, current: Current, removed: frozenset[str]) -> None:
        self.desired = desired
        self.removed = removed  # members this plan removes: their memberships go with them
        self.policy: Policy = desired.policy
        self.current = current
        self.by_email = {m.email: m for m in current.members}
        self.by_id = {m.id: m for m in current.members}
        self.memberships = _memberships(current.workspace_members)

    def plan(self, wanted: DesiredWorkspace, workspace: Workspace | None) -> list[Entry]:
        if wanted.name == DEFAULT_WORKSPACE and (workspace is None or workspace.is_default):
            special = self.default_workspace(wanted, workspace)
            if special is not None:
                return [special]
        if wanted.archived:
            return [] if workspace is None else [self.archive(workspace)]
        if workspace is None:
            create = Change("create_workspace", "", workspace=wanted.name)
            return [create, *self.listed(wanted, None, {})]
        held = self.memberships.get(workspace.id, {})
        return [*self.listed(wanted, workspace, held), *self.unlisted(wanted, workspace, held)]

    def default_workspace(
        self, wanted: DesiredWorkspace, workspace: Workspace | None
    ) -> Change | None:
        """What the API forbids for the Default workspace, as a manual action: roster never
        creates nor archives it. Its members are planned like any workspace's (None)."""
        if workspace is None:
            note = (
                "The organization's Default workspace is not listed by the API, and roster never"
                " creates a workspace named Default; check the name in the Console."
            )
        elif wanted.archived:
            note = "The Default workspace can never be archived; drop 'archived: true' for it."
        else:
            return None
        return Change("manual", "", workspace=wanted.name, note=note)

    def ambiguous(self, name: str, twins: list[Workspace]) -> Change:
        """The manual action for a name several active workspaces share, with what each holds."""
        shown = "; ".join(self.describe_twin(w) for w in sorted(twins, key=_age))
        note = (
            f"In the Console, archive or rename all but one of the {len(twins)} active"
            f" workspaces named '{name}', so that the name identifies one; until then roster"
            f" plans nothing for it: {shown}."
        )
        return Change("manual", "", workspace=name, note=note)

    def describe_twin(self, workspace: Workspace) -> str:
        held = self.memberships.get(workspace.id, {})
        emails = sorted(
            self.by_id[user_id].email
            for user_id, role in held.items()
            if user_id in self.by_id and not is_inherited(self.by_id[user_id].role, role)
        )
        keys = sorted(k.name for k in self.current.api_keys if k.workspace_id == workspace.id)
        created = workspace.created_at[:19].replace("T", " ") or "at an unknown time"
        return (
            f"{workspace.id} (created {created}, {_listing(emails, 'member')},"
            f" {_listing([repr(k) for k in keys], 'active API key')})"
        )

    def archive(self, workspace: Workspace) -> Change:
        keys = sum(1 for k in self.current.api_keys if k.workspace_id == workspace.id)
        note = f"final; {keys} active API key{'s' if keys != 1 else ''} in it stop working"
        return Change(
            "archive_workspace", "", workspace=workspace.name, workspace_id=workspace.id, note=note
        )

    def listed(
        self, wanted: DesiredWorkspace, workspace: Workspace | None, held: Mapping[str, str]
    ) -> list[Entry]:
        entries = [
            self.listed_member(wanted.name, workspace, email, role, held)
            for email, role in wanted.members.items()
        ]
        return [entry for entry in entries if entry is not None]

    def listed_member(
        self,
        name: str,
        workspace: Workspace | None,
        email: str,
        role: str,
        held: Mapping[str, str],
    ) -> Entry | None:
        member = self.by_email.get(email)
        if member is None:
            return Waiting(email, name, role)
        org_role = self.effective_role(member)
        if org_role in ADMIN_LIKE:
            return None
        have = self.membership_after_role_changes(member, held.get(member.id))
        workspace_id = workspace.id if workspace else None
        if have is None:
            return Change(
                "add_workspace_member",
                email,
                None,
                role,
                user_id=member.id,
                workspace=name,
                workspace_id=workspace_id,
            )
        if have == role:
            return None
        if self.policy.protects(email) and _demotes(have, role):
            return HeldBack("workspace_member", email, have, role, name)
        return Change(
            "update_workspace_member",
            email,
            have,
            role,
            user_id=member.id,
            workspace=name,
            workspace_id=workspace_id,
        )

    def unlisted(
        self, wanted: DesiredWorkspace, workspace: Workspace, held: Mapping[str, str]
    ) -> list[Entry]:
        entries = [
            self.unlisted_member(workspace, self.by_id[user_id], role)
            for user_id, role in held.items()
            if user_id in self.by_id and self.by_id[user_id].email not in wanted.members
        ]
        return [entry for entry in entries if entry is not None]

    def unlisted_member(self, workspace: Workspace, member: Member, role: str) -> Entry | None:
        policy = self.policy.unmanaged_workspace_members
        if member.id in self.removed or self.membership_after_role_changes(member, role) is None:
            return None
        # While someone is an org admin or billing member, the API keeps their workspace roles.
        if self.effective_role(member) in INHERITING_ROLES or self.policy.ignores(member.email):
            return None
        if policy == "ignore":
            return None
        if policy == "report":
            return Unmanaged("workspace_member", member.email, role, member.id, workspace.name)
        if self.policy.protects(member.email):
            return HeldBack("workspace_member", member.email, role, None, workspace.name)
        return Change(
            "remove_workspace_member",
            member.email,
            role,
            None,
            user_id=member.id,
            workspace=workspace.name,
            workspace_id=workspace.id,
        )

    def membership_after_role_changes(self, member: Member, held: str | None) -> str | None:
        """The workspace role ``member`` will hold once this plan's org role changes are made.

        An inherited role comes and goes with the org role: a billing member made a user loses
        workspace_billing without any workspace change, and a user made billing gains it.
        """
        org_role = self.effective_role(member)
        if held is not None and is_inherited(member.role, held):
            return held if is_inherited(org_role, held) else None
        if held is None and org_role == "billing":
            return "workspace_billing"
        return held

    def effective_role(self, member: Member) -> str:
        """The org role the member will have once this plan's role changes are made."""
        wanted = self.desired.members.get(member.email)
        settable = wanted in SETTABLE_ROLES and member.role in SETTABLE_ROLES
        return wanted if settable and wanted is not None else member.role


def _age(workspace: Workspace) -> tuple[str, str]:
    """Oldest first, as apply decides which of two racing creations to keep."""
    return workspace.created_at, workspace.id


def _listing(items: list[str], noun: str, shown: int = 3) -> str:
    if not items:
        return f"no {noun}s"
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    plural = "s" if len(items) != 1 else ""
    return f"{len(items)} {noun}{plural}: {', '.join(items[:shown])}{more}"


def _memberships(members: Iterable[WorkspaceMember]) -> dict[str, dict[str, str]]:
    held: dict[str, dict[str, str]] = defaultdict(dict)
    for member in members:
        held[member.workspace_id][member.user_id] = member.role
    return held


def is_inherited(org_role: str, workspace_role: str) -> bool:
    """Whether the API gives ``workspace_role`` to everyone with ``org_role``."""
    return org_role in ADMIN_LIKE or (
        org_role == "billing" and workspace_role == "workspace_billing"
    )


def _demotes(have: str, wanted: str) -> bool:
    return WORKSPACE_RANK.get(wanted, 0) < WORKSPACE_RANK.get(have, 0)
