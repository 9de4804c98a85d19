"""What the emulated organization holds, change by change, read from its state directly.

The truth that tests and benchmarks check apply's reports against: it shares no code with
``roster.readback``, which asks the API. ``rate_limit_problems`` checks the rate limits'
invariants.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from roster.changes import Change
from roster.emulator.rate_limits import LIMITER_TYPES
from roster.emulator.store import Store


def made(store: Store, change: Change) -> bool:
    """Whether the emulator holds what ``change`` asks for, read from its state directly."""
    state = store.to_json()
    users = {u["id"]: u for u in state["users"]}
    explicit = {(m["workspace_id"], m["user_id"]): m for m in state["workspace_members"]}
    named = sorted(
        (w["created_at"], w["id"])
        for w in state["workspaces"]
        if w["name"] == change.workspace and w["archived_at"] is None
    )
    workspace_id = change.workspace_id or (named[0][1] if named else "")
    where = (workspace_id, str(change.user_id))
    checks: dict[str, Callable[[], object]] = {
        "create_workspace": lambda: bool(named),
        "invite": lambda: _invited(store, change),
        "reinvite": lambda: _invited(store, change),
        "update_role": lambda: users[str(change.user_id)]["role"] == change.to_role,
        "remove_member": lambda: change.user_id not in users,
        "delete_invite": lambda: _by_id(state["invites"], change.invite_id)["deleted"],
        "add_workspace_member": lambda: explicit[where]["workspace_role"] == change.to_role,
        "update_workspace_member": lambda: explicit[where]["workspace_role"] == change.to_role,
        "remove_workspace_member": lambda: where not in explicit,
        "deactivate_api_key": lambda: (
            _by_id(state["api_keys"], change.key_id)["status"] == "inactive"
        ),
        "archive_api_key": lambda: _by_id(state["api_keys"], change.key_id)["status"] == "archived",
        "archive_workspace": lambda: (
            _by_id(state["workspaces"], change.workspace_id)["archived_at"] is not None
        ),
    }
    check = checks[change.kind]
    try:
        return bool(check())
    except KeyError:  # a membership that is not there
        return False


def _invited(store: Store, change: Change) -> bool:
    pending = store.pending_invite_for(change.email)
    joined = store.user_by_email(change.email)
    return (pending is not None and pending.role == change.to_role) or (
        joined is not None and joined.role == change.to_role
    )


def _by_id(items: list[dict[str, Any]], item_id: str | None) -> dict[str, Any]:
    return next(item for item in items if item["id"] == item_id)


def rate_limit_problems(store: Store) -> list[str]:
    """What breaks the rate limits' invariants: entry and group ids unique, and every override
    a positive value of a known limiter type, in a known group of an existing workspace other
    than the Default one. Empty when all hold."""
    state = store.to_json()
    entries = store.rate_limits.entries()
    problems = [
        f"{len(ids) - len(set(ids))} duplicate {what} ids"
        for what, ids in (
            ("entry", [e["id"] for e in entries]),
            ("group", [e["group"]["id"] for e in entries]),
        )
        if len(ids) != len(set(ids))
    ]
    workspaces = {w["id"]: w for w in state["workspaces"]}
    groups = {e["group"]["id"] for e in entries}
    for item in state["workspace_rate_limits"]:
        problems += _override_problems(item, workspaces, groups)
    return problems


def _override_problems(
    item: dict[str, Any], workspaces: dict[str, dict[str, Any]], groups: set[str]
) -> list[str]:
    where = f"override of {item['group_id']} in {item['workspace_id']}"
    workspace = workspaces.get(item["workspace_id"])
    problems = [f"{where}: no such workspace"] if workspace is None else []
    if workspace is not None and workspace["is_default"]:
        problems.append(f"{where}: the Default workspace cannot have overrides")
    if item["group_id"] not in groups:
        problems.append(f"{where}: no such group")
    if not item["limits"]:
        problems.append(f"{where}: empty")
    for limiter, value in item["limits"].items():
        if limiter not in LIMITER_TYPES:
            problems.append(f"{where}: {limiter!r} is not a limiter type")
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"{where}: {limiter} is {value!r}, not a positive integer")
    return problems


def pending_invites_per_email(store: Store) -> Counter[str]:
    now = store.now_text()
    return Counter(
        i["email"]
        for i in store.to_json()["invites"]
        if not i["deleted"] and i["accepted_at"] is None and i["expires_at"] > now
    )
