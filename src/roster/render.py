"""Turn a ``Plan`` into what people and programs read: Terraform-like text, or JSON.

The JSON form (``render_json``) is ``Plan.data`` with sorted keys, and never holds a secret; every
field is documented in ``docs/plan-format.md`` under its ``format_version``. The markdown form for
pull-request comments is in ``render_markdown``. In text, every name from the API or the files
passes through ``printable`` before colour is added, so no name can print a line of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from roster.plan import Change, ChangeKind, HeldBack, KeyNotice, Plan, Unmanaged, Waiting
from roster.untrusted import json_text, printable

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
    "remove_member": "remove {email} ({from_role}){because}",
    "deactivate_api_key": "deactivate API key '{note}' ({key_id}) of {email}, in {workspace}",
    "archive_api_key": "archive API key '{note}' ({key_id}) of {email}, in {workspace}",
    "manual": "manual: {note}",
}
EMPTY_MESSAGE = "No changes. The organization matches the roster files."

Paint = Callable[[str, str], str]


def render_json(plan: Plan) -> str:
    return json_text(plan.data)


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
    name, ids = printable(organization.name), printable(organization.id)
    return paint("bold", f"Organization: {name} ({ids})")


def _change_line(change: Change, paint: Paint) -> str:
    sign = SIGNS[change.kind]
    return f"  {paint(sign, sign)} {describe(change)}"


def describe(change: Change) -> str:
    """One change in words, as the plan shows it (without its sign); every field made printable."""
    fields = safe_fields(change.data)
    because = f" ({fields['note']})" if change.note else ""
    return DESCRIPTIONS[change.kind].format(**fields, because=because)


def safe_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A value's fields with every text made ``printable``, ready to be put into a sentence."""
    return {
        key: printable(value) if isinstance(value, str) else value for key, value in data.items()
    }


def _held_back_section(held_back: tuple[HeldBack, ...]) -> list[str]:
    if not held_back:
        return []
    return ["Held back (protected accounts are never removed or demoted):"] + [
        f"  = {_held_back_line(account)}" for account in held_back
    ]


def _held_back_line(account: HeldBack) -> str:
    shown = safe_fields(account.data)
    what = _ACCOUNT_WORDS[account.kind].format(workspace=shown["workspace"])
    email, role = shown["email"], shown["role"]
    if account.wanted_role is None:
        return f"{email} is kept ({what} as {role}) though the files omit it"
    return f"{email} stays {role} ({what}) though the files say {shown['wanted_role']}"


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
        "  … {email} joins {workspace} as {role}".format(**safe_fields(entry.data))
        for entry in waiting
    ]


def _key_section(notices: tuple[KeyNotice, ...]) -> list[str]:
    if not notices:
        return []
    heading = (
        "API keys of removed members that keep working"
        " (policy.api_keys_of_removed_members: report):"
    )
    return [heading] + [
        "  ? '{name}' ({key_id}) of {owner}, in {workspace}".format(**safe_fields(key.data))
        for key in notices
    ]


def _unmanaged_section(unmanaged: tuple[Unmanaged, ...]) -> list[str]:
    if not unmanaged:
        return []
    return ["Not in the roster files, left as they are (policy):"] + [
        f"  ? {_unmanaged_line(account)}" for account in unmanaged
    ]


def _unmanaged_line(account: Unmanaged) -> str:
    shown = safe_fields(account.data)
    if account.kind == "workspace":
        return f"workspace {shown['workspace']} ({shown['id']})"
    what = _ACCOUNT_WORDS[account.kind].format(workspace=shown["workspace"])
    return f"{shown['email']} ({what} as {shown['role']})"


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
