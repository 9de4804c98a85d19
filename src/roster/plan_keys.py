"""Planning API keys: those of people who are removed, and those the key policy finds old or
unused. Pure: ages are measured against the time the state was read (``Current.read_at``).

A key is listed once. The keys of removed members follow ``api_keys_of_removed_members``; the
others follow ``policy.api_keys``. Keys in the Claude Code workspace are minted per user by
Claude Code: they are reported, never deactivated by age or disuse alone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, timedelta

from roster.changes import Change, ChangeKind, Entry, KeyNotice
from roster.desired import ApiKeyPolicy, Desired
from roster.model import ApiKey, Current
from roster.timestamps import parse_timestamp

KEY_CHANGES: Mapping[str, ChangeKind] = {
    "deactivate": "deactivate_api_key",
    "archive": "archive_api_key",
}
# The workspace Claude Code creates for its per-user keys (admin-api.md §9).
CLAUDE_CODE_WORKSPACE = "Claude Code"


def plan_api_keys(
    desired: Desired, current: Current, removed: set[str], workspace_entries: Iterable[Entry]
) -> list[Entry]:
    """The keys of removed members, then the keys the key policy finds, each listed once."""
    archiving = {
        e.workspace_id
        for e in workspace_entries
        if isinstance(e, Change) and e.kind == "archive_workspace"
    }
    # Keys in a workspace being archived are left out: archiving turns them off already.
    keys = [k for k in current.api_keys if k.workspace_id not in archiving]
    members = {m.id: m.email for m in current.members}
    names = {w.id: w.name for w in current.workspaces}
    leaving = [k for k in keys if _leaves_with_its_creator(k, removed, members)]
    entries = _removed_members_keys(desired, leaving, members, names)
    taken = (
        {k.id for k in leaving} if desired.policy.api_keys_of_removed_members != "keep" else set()
    )
    staying = [k for k in keys if k.id not in taken]
    policy = desired.policy.api_keys
    return [*entries, *_key_policy(policy, current, staying, members, names)]


def _leaves_with_its_creator(
    key: ApiKey, removed: Collection[str], members: Mapping[str, str]
) -> bool:
    creator = key.created_by
    return creator is not None and (creator in removed or creator not in members)


def _removed_members_keys(
    desired: Desired,
    keys: Iterable[ApiKey],
    members: Mapping[str, str],
    names: Mapping[str, str],
) -> list[Entry]:
    """Active keys created by people removed now or before, per
    policy.api_keys_of_removed_members."""
    policy = desired.policy.api_keys_of_removed_members
    if policy == "keep":
        return []
    entries: list[Entry] = []
    for key in keys:
        owner = _owner(key, members)
        workspace = _workspace_name(key, names)
        if policy == "report":
            entries.append(KeyNotice(key.id, key.name, owner, workspace))
        else:
            entries.append(
                Change(
                    KEY_CHANGES[policy],
                    owner,
                    user_id=key.created_by,
                    workspace=workspace,
                    key_id=key.id,
                    key_name=key.name,
                )
            )
    return entries


def _key_policy(
    policy: ApiKeyPolicy,
    current: Current,
    keys: Iterable[ApiKey],
    members: Mapping[str, str],
    names: Mapping[str, str],
) -> list[Entry]:
    """Active keys past ``policy.api_keys``, with why: reported, or deactivated."""
    today = _day(current.read_at)
    if not policy.checks or today is None:
        return []
    entries: list[Entry] = []
    for key in keys:
        reason = _why_listed(key, policy, current, today)
        if reason is None:
            continue
        owner, workspace = _owner(key, members), _workspace_name(key, names)
        minted = workspace == CLAUDE_CODE_WORKSPACE
        if policy.action == "deactivate" and not minted:
            entries.append(
                Change(
                    "deactivate_api_key",
                    owner,
                    user_id=key.created_by,
                    workspace=workspace,
                    key_id=key.id,
                    key_name=key.name,
                    note=reason,
                )
            )
        else:
            why = (
                f"{reason}; minted by Claude Code, never deactivated by roster"
                if minted
                else reason
            )
            entries.append(KeyNotice(key.id, key.name, owner, workspace, why))
    return entries


def _why_listed(key: ApiKey, policy: ApiKeyPolicy, current: Current, today: date) -> str | None:
    created = _day(key.created_at)
    if created is None:
        return None
    age = (today - created).days
    reasons = []
    if policy.max_age_days is not None and age > policy.max_age_days:
        reasons.append(f"created {created}, {age} days old, limit {policy.max_age_days}")
    if policy.unused_days is not None and age > policy.unused_days:
        last = _day(current.key_last_used.get(key.id, ""))
        window = today - timedelta(days=policy.unused_days)
        if last is None or last < window:
            seen = f"last used {last}, none" if last is not None else "no use"
            reasons.append(f"{seen} in the last {policy.unused_days} days")
    return "; ".join(reasons) or None


def _day(moment: str) -> date | None:
    """The UTC day of an RFC 3339 timestamp or a ``YYYY-MM-DD`` date; None for ``""``."""
    if not moment:
        return None
    try:
        return parse_timestamp(moment).date()
    except ValueError:
        return None


def _owner(key: ApiKey, members: Mapping[str, str]) -> str:
    creator = key.created_by
    if creator is None:
        return "none"
    return members.get(creator, f"a former member ({creator})")


def _workspace_name(key: ApiKey, names: Mapping[str, str]) -> str:
    return names.get(key.workspace_id or "", "Default")
