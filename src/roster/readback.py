"""Reading back whether a change's end state holds, after its request failed.

A request can fail after the API acted on it (the answer was lost, a 5xx after the write) or
because someone else did the same thing first (another apply, a person in the Console). Before
apply calls a change failed it asks here, so that what it reports is what is true.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from roster.api import AdminClient
from roster.changes import Change, ChangeKind
from roster.errors import NotFoundError
from roster.state import workspace_rate_limit_from

WorkspaceOf = Callable[[Change], str]
Check = Callable[[AdminClient, Change, WorkspaceOf], Awaitable[bool]]
# A key deactivated or archived stops working either way; archiving is the stronger of the two.
KEY_STATUSES_THAT_HOLD = {
    "deactivate_api_key": frozenset({"inactive", "archived"}),
    "archive_api_key": frozenset({"archived"}),
}


async def holds(client: AdminClient, change: Change, workspace_of: WorkspaceOf) -> bool:
    """Whether the organization is as ``change`` would leave it; raises ``ApiError`` if it
    cannot tell. ``workspace_of`` gives the id of the change's workspace."""
    return await _CHECKS[change.kind](client, change, workspace_of)


async def _invited(client: AdminClient, change: Change, _: WorkspaceOf) -> bool:
    pending = await client.list_invites(email=change.email, statuses=["pending"])
    if any(invite.get("role") == change.to_role for invite in pending):
        return True
    # Accepted in the meantime: the person is a member with the role the invite gave.
    members = await client.list_users(email=change.email)
    return any(member.get("role") == change.to_role for member in members)


async def _has_role(client: AdminClient, change: Change, _: WorkspaceOf) -> bool:
    try:
        user = await client.get_user(_id(change.user_id))
    except NotFoundError:
        return False
    return user.get("role") == change.to_role


async def _workspace_exists(client: AdminClient, change: Change, _: WorkspaceOf) -> bool:
    return any(w.get("name") == change.workspace for w in await client.list_workspaces())


async def _archived(client: AdminClient, change: Change, workspace_of: WorkspaceOf) -> bool:
    workspace = await client.get_workspace(workspace_of(change))
    return workspace.get("archived_at") is not None


async def _workspace_role(client: AdminClient, change: Change, workspace_of: WorkspaceOf) -> bool:
    try:
        member = await client.get_workspace_member(workspace_of(change), _id(change.user_id))
    except NotFoundError:
        return False
    return member.get("workspace_role") == change.to_role


async def _not_in_workspace(client: AdminClient, change: Change, workspace_of: WorkspaceOf) -> bool:
    try:
        await client.get_workspace_member(workspace_of(change), _id(change.user_id))
    except NotFoundError:
        return True
    return False


async def _invite_gone(client: AdminClient, change: Change, _: WorkspaceOf) -> bool:
    try:
        invite = await client.get_invite(_id(change.invite_id))
    except NotFoundError:
        return True
    # An accepted invite let the person in: that is not what deleting it was for.
    return invite.get("status") == "expired"


async def _not_a_member(client: AdminClient, change: Change, _: WorkspaceOf) -> bool:
    try:
        await client.get_user(_id(change.user_id))
    except NotFoundError:
        return True
    return False


async def _key_stopped(client: AdminClient, change: Change, _: WorkspaceOf) -> bool:
    key = await client.get_api_key(_id(change.key_id))
    return key.get("status") in KEY_STATUSES_THAT_HOLD[change.kind]


async def _limits_set(client: AdminClient, change: Change, workspace_of: WorkspaceOf) -> bool:
    entries = await client.list_workspace_rate_limits(workspace_of(change))
    found = next((e for e in entries if e.get("rate_limit_id") == change.rate_limit_id), {})
    own = workspace_rate_limit_from(found).overrides if found else {}
    return all(own.get(step.limiter) == step.to_value for step in change.limits)


async def _never(client: AdminClient, change: Change, _: WorkspaceOf) -> bool:
    return False  # manual changes are never made by roster


def _id(value: str | None) -> str:
    if value is None:
        raise AssertionError("a planned change lacks the id its read-back needs")
    return value


_CHECKS: dict[ChangeKind, Check] = {
    "invite": _invited,
    "reinvite": _invited,
    "update_role": _has_role,
    "create_workspace": _workspace_exists,
    "add_workspace_member": _workspace_role,
    "update_workspace_member": _workspace_role,
    "set_rate_limits": _limits_set,
    "remove_workspace_member": _not_in_workspace,
    "archive_workspace": _archived,
    "delete_invite": _invite_gone,
    "remove_member": _not_a_member,
    "deactivate_api_key": _key_stopped,
    "archive_api_key": _key_stopped,
    "manual": _never,
}
