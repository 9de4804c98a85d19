"""Turn a ``Plan`` into what people and programs read: Terraform-like text, or JSON.

The JSON form (``render_json``) is ``Plan.data`` with sorted keys, and never holds a secret::

    {
      "format_version": 1,
      "organization": {"id": str, "name": str},
      "changes":   [Change],   # what apply does, in order: invites and role changes, then removals
      "manual":    [Change],   # what only a person in the Console can do; apply never tries
      "unmanaged": [{"kind": "member" | "invite", "email", "role", "id"}],  # reported, left alone
      "held_back": [{"kind", "email", "role", "wanted_role"}],  # protected: not removed or demoted
      "summary":   {"invite", "change", "remove", "manual", "unmanaged", "held_back": int}
    }

A ``Change`` is ``{"kind", "email", "from_role", "to_role", "user_id", "invite_id", "note"}``, every
key always present (null when it does not apply); ``kind`` is one of ``invite``, ``reinvite``,
``update_role``, ``delete_invite``, ``remove_member``, ``manual``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from roster.plan import Change, ChangeKind, HeldBack, Plan, Unmanaged

SIGNS: dict[ChangeKind, str] = {
    "invite": "+",
    "reinvite": "~",
    "update_role": "~",
    "delete_invite": "-",
    "remove_member": "-",
    "manual": "!",
}
_COLORS = {"+": "32", "~": "33", "-": "31", "!": "1;35", "bold": "1"}
DESCRIPTIONS: dict[ChangeKind, str] = {
    "invite": "invite {email} as {to_role}{because}",
    "reinvite": "reinvite {email} as {to_role} (the pending invite is for {from_role})",
    "update_role": "change {email} from {from_role} to {to_role}",
    "delete_invite": "delete the pending invite of {email} (as {from_role})",
    "remove_member": "remove {email} ({from_role})",
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
    what = "member" if account.kind == "member" else "pending invite"
    if account.wanted_role is None:
        return f"{account.email} is kept ({what} as {account.role}) though the files omit it"
    return (
        f"{account.email} stays {account.role} ({what}) though the files say {account.wanted_role}"
    )


def _unmanaged_section(unmanaged: tuple[Unmanaged, ...]) -> list[str]:
    if not unmanaged:
        return []
    return ["Not in the roster files, left as they are (policy.unmanaged: report):"] + [
        f"  ? {_unmanaged_line(account)}" for account in unmanaged
    ]


def _unmanaged_line(account: Unmanaged) -> str:
    what = "member" if account.kind == "member" else "pending invite"
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
        f"Plan: {summary['invite']} to invite, {summary['change']} to change,"
        f" {summary['remove']} to remove, {manual}."
    )
