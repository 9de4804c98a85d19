"""Turn a ``Plan`` into what people and programs read: Terraform-like text, or JSON.

The JSON form (``render_json``) is ``Plan.data`` with sorted keys, and never holds a secret; every
field is documented in ``docs/plan-format.md`` under its ``format_version``. The markdown form for
pull-request comments is in ``render_markdown``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from roster.plan import Change, ChangeKind, HeldBack, KeyNotice, Plan, Unmanaged, Waiting

SIGNS: dict[ChangeKind, str] = {
    "invite": "+",
    "reinvite": "~",
    "update_role": "~",
    "create_workspace": "+",
    "add_workspace_member": "+",
    "update_workspace_member": "~",
    "remove_workspace_member": "-",
    "archive_workspace": "-",
    "delete_invite": "-",
    "remove_member": "-",
    "deactivate_api_key": "-",
    "archive_api_key": "-",
    "manual": "!",
}
_COLORS = {"+": "32", "~": "33", "-": "31", "!": "1;35", "bold": "1"}
DESCRIPTIONS: dict[ChangeKind, str] = {
    "invite": "invite {email} as {to_role}{because}",
    "reinvite": "reinvite {email} as {to_role} (the pending invite is for {from_role})",
    "update_role": "change {email} from {from_role} to {to_role}",
    "create_workspace": "create workspace {workspace}",
    "add_workspace_member": "add {email} to workspace {workspace} as {to_role}",
    "update_workspace_member": "change {email} in workspace {workspace}"
    " from {from_role} to {to_role}",
    "remove_workspace_member": "remove {email} from workspace {workspace} ({from_role})",
    "archive_workspace": "archive workspace {workspace} ({note})",
    "delete_invite": "delete the pending invite of {email} (as {from_role})",
    "remove_member": "remove {email} ({from_role})",
    "deactivate_api_key": "deactivate API key '{note}' ({key_id}) of {email}, in {workspace}",
    "archive_api_key": "archive API key '{note}' ({key_id}) of {email}, in {workspace}",
    "manual": "manual: {note}",
}
EMPTY_MESSAGE = "No changes. The organization matches the roster files."

Paint = Callable[[str, str], str]


def render_json(plan: Plan) -> str:
    return json.dumps(plan.data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_text(plan: Plan, *, color: bool) -> str:
    paint = _ansi if color else _plain
    sections = [
        [_header(plan, paint)],
        [_change_line(change, paint) for change in plan.changes],
        _held_back_section(plan.held_back),
        _waiting_section(plan.waiting),
        _key_section(plan.api_keys),
        _unmanaged_section(plan.unmanaged),
        [paint("bold", _summary_line(plan))],
    ]
    return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"


def _ansi(style: str, text: str) -> str:
    return f"\x1b[{_COLORS[style]}m{text}\x1b[0m"


def _plain(style: str, text: str) -> str:
    return text


def _header(plan: Plan, paint: Paint) -> str:
    organization = plan.organization
    return paint("bold", f"Organization: {organization.name} ({organization.id})")


def _change_line(change: Change, paint: Paint) -> str:
    sign = SIGNS[change.kind]
    return f"  {paint(sign, sign)} {describe(change)}"


def describe(change: Change) -> str:
    """One change in words, as the plan shows it (without its sign)."""
    because = f" ({change.note})" if change.note else ""
    return DESCRIPTIONS[change.kind].format(**change.data, because=because)


def _held_back_section(held_back: tuple[HeldBack, ...]) -> list[str]:
    if not held_back:
        return []
    return ["Held back (protected accounts are never removed or demoted):"] + [
        f"  = {_held_back_line(account)}" for account in held_back
    ]


def _held_back_line(account: HeldBack) -> str:
    what = _ACCOUNT_WORDS[account.kind].format(workspace=account.workspace)
    if account.wanted_role is None:
        return f"{account.email} is kept ({what} as {account.role}) though the files omit it"
    return (
        f"{account.email} stays {account.role} ({what}) though the files say {account.wanted_role}"
    )


_ACCOUNT_WORDS = {
    "member": "member",
    "invite": "pending invite",
    "workspace_member": "in workspace {workspace}",
    "workspace": "workspace",
}


def _waiting_section(waiting: tuple[Waiting, ...]) -> list[str]:
    if not waiting:
        return []
    return ["Waiting (workspace members are added once they accept their invite):"] + [
        f"  … {entry.email} joins {entry.workspace} as {entry.role}" for entry in waiting
    ]


def _key_section(notices: tuple[KeyNotice, ...]) -> list[str]:
    if not notices:
        return []
    heading = (
        "API keys of removed members that keep working"
        " (policy.api_keys_of_removed_members: report):"
    )
    return [heading] + [
        f"  ? '{key.name}' ({key.key_id}) of {key.owner}, in {key.workspace}" for key in notices
    ]


def _unmanaged_section(unmanaged: tuple[Unmanaged, ...]) -> list[str]:
    if not unmanaged:
        return []
    return ["Not in the roster files, left as they are (policy):"] + [
        f"  ? {_unmanaged_line(account)}" for account in unmanaged
    ]


def _unmanaged_line(account: Unmanaged) -> str:
    if account.kind == "workspace":
        return f"workspace {account.workspace} ({account.id})"
    what = _ACCOUNT_WORDS[account.kind].format(workspace=account.workspace)
    return f"{account.email} ({what} as {account.role})"


def _summary_line(plan: Plan) -> str:
    if plan.is_empty:
        return EMPTY_MESSAGE if not (plan.unmanaged or plan.held_back) else "No changes."
    summary = plan.summary
    manual = f"{summary['manual']} manual action{'' if summary['manual'] == 1 else 's'}"
    if not plan.api_changes:
        # What roster can do is done; only a person in the Console can close the rest.
        return f"No changes to apply. {manual} left for the Console (above)."
    return (
        f"Plan: {summary['invite']} to invite, {summary['add']} to add, {summary['change']}"
        f" to change, {summary['remove']} to remove, {manual}."
    )
