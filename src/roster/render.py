"""Turn a ``Plan`` into what people and programs read: Terraform-like text, or JSON.

The JSON form (``render_json``) is ``Plan.data`` with sorted keys, and never holds a secret; every
field is documented in ``docs/plan-format.md`` under its ``format_version``. The markdown form for
pull-request comments is in ``render_markdown``. In text, every name from the API or the files
passes through ``printable`` before colour is added, so no name can print a line of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from roster.changes import LimitStep
from roster.desired import GroupOverride, Location
from roster.plan import (
    Change,
    ChangeKind,
    HeldBack,
    KeyNotice,
    Plan,
    RateLimitNotice,
    Unmanaged,
    Waiting,
)
from roster.untrusted import json_text, printable

SIGNS: dict[ChangeKind, str] = {
    "invite": "+",
    "reinvite": "~",
    "update_role": "~",
    "create_workspace": "+",
    "add_workspace_member": "+",
    "update_workspace_member": "~",
    "set_rate_limits": "~",
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
    "set_rate_limits": "{workspace} {group}{because} {steps}",
    "remove_workspace_member": "remove {email} from workspace {workspace} ({from_role})",
    "archive_workspace": "archive workspace {workspace} ({note})",
    "delete_invite": "delete the pending invite of {email} (as {from_role})",
    "remove_member": "remove {email} ({from_role}){because}",
    "deactivate_api_key": "deactivate API key '{key_name}' ({key_id}) of {email},"
    " in {workspace}{because}",
    "archive_api_key": "archive API key '{key_name}' ({key_id}) of {email},"
    " in {workspace}{because}",
    "manual": "manual: {note}",
}
EMPTY_MESSAGE = "No changes. The organization matches the roster files."
RATE_LIMITS_DELAY = "Rate limit changes take effect within about an hour of apply."

Paint = Callable[[str, str], str]


def render_json(plan: Plan) -> str:
    return json_text(plan.data)


def render_text(plan: Plan, *, color: bool) -> str:
    paint = _ansi if color else _plain
    sections = [
        [_header(plan, paint)],
        [line for change in plan.changes for line in _change_lines(change, paint)],
        _rate_limit_section(plan.rate_limits),
        group_override_section(plan.group_overrides),
        _held_back_section(plan.held_back),
        _waiting_section(plan.waiting),
        _key_section(plan.api_keys),
        _key_policy_section(plan.api_keys),
        _unmanaged_section(plan.unmanaged),
        [RATE_LIMITS_DELAY] if plan.counts["set_rate_limits"] else [],
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


def _change_lines(change: Change, paint: Paint) -> list[str]:
    """A change as the plan shows it: one line, or one per limiter type of a rate-limit change."""
    if change.kind == "set_rate_limits":
        shown = safe_fields(change.data)
        because = f" ({shown['note']})" if change.note else ""
        where = f"{shown['workspace']} {shown['group']}{because}"
        return [
            _sign_line(_step_sign(step), f"{where} {_step_line(step)}", paint)
            for step in change.limits
        ]
    return [_sign_line(sign_of(change), describe(change), paint)]


def sign_of(change: Change) -> str:
    """The sign a change is shown with: its kind's, or a one-step rate-limit change's step's."""
    if change.kind == "set_rate_limits" and len(change.limits) == 1:
        return _step_sign(change.limits[0])
    return SIGNS[change.kind]


def _sign_line(sign: str, text: str, paint: Paint) -> str:
    return f"  {paint(sign, sign)} {text}"


def describe(change: Change) -> str:
    """One change in words, on one line (without its sign); every field made printable."""
    fields = safe_fields(change.data)
    because = f" ({fields['note']})" if change.note else ""
    steps = "; ".join(_step_line(step) for step in change.limits)
    return DESCRIPTIONS[change.kind].format(**fields, because=because, steps=steps)


def _step_sign(step: LimitStep) -> str:
    if step.from_value is None:
        return "+"
    return "-" if step.to_value is None else "~"


def _step_line(step: LimitStep) -> str:
    """``output_tokens_per_minute 300,000 -> 400,000 (organization limit 800,000)``."""
    name = printable(step.limiter)
    if step.to_value is None:
        return f"{name} {step.from_value:,} -> {_organization_limit(step.org_limit, cleared=True)}"
    before = "" if step.from_value is None else f"{step.from_value:,} -> "
    return f"{name} {before}{step.to_value:,} ({_organization_limit(step.org_limit)})"


def _organization_limit(limit: int | None, *, cleared: bool = False) -> str:
    if limit is None:
        return "no limit (the organization has none)" if cleared else "no organization limit"
    return f"the organization's {limit:,}" if cleared else f"organization limit {limit:,}"


def safe_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A value's fields with every text made ``printable``, ready to be put into a sentence."""
    return {
        key: printable(value) if isinstance(value, str) else value for key, value in data.items()
    }


_NOTICE_WORDS = {
    "above_organization_limit": (
        "{workspace} {group} {limiter} {value:,} is above the organization limit {org_limit:,}:"
        " it is stored, but the lower one applies"
    ),
    "over_organization_total": (
        "{group} {limiter}: the overrides of {workspace} add up to {value:,}, more than the"
        " organization limit {org_limit:,} (allowed: the organization's limit still applies to"
        " them all together)"
    ),
    "not_in_files": (
        "{workspace} {group} {limiter} {value:,} ({limit_words}) is not in the roster files,"
        " left as it is (policy.rate_limits: report)"
    ),
}


def _rate_limit_section(notices: tuple[RateLimitNotice, ...]) -> list[str]:
    if not notices:
        return []
    heading = "Rate limits worth a reviewer's eye, left as they are:"
    return [heading] + [f"  ? {_notice_line(notice)}" for notice in notices]


def _notice_line(notice: RateLimitNotice) -> str:
    shown = safe_fields(notice.data)
    words = _organization_limit(notice.org_limit)
    return _NOTICE_WORDS[notice.reason].format(**shown, limit_words=words)


def group_override_section(overrides: tuple[GroupOverride, ...]) -> list[str]:
    if not overrides:
        return []
    heading = "Group rules overridden by roster files (their entries win, workspaces included):"
    return [heading] + [f"  ! {_override_line(override)}" for override in overrides]


def _override_line(override: GroupOverride) -> str:
    email = printable(override.email)
    given = f"{printable(override.group_role)} from the group rules ({_at(override.group_at)})"
    if override.file_at is None:
        return f"{email}: policy.ignore matches it; {given} left out"
    held = f"{printable(override.file_role)} in {_at(override.file_at)}"
    if override.workspace:
        return f"{email} in {printable(override.workspace)}: {held}, not {given}"
    return f"{email}: {held}, not {given}"


def _at(location: Location) -> str:
    return printable(f"{location[0]}:{location[1]}")


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
    removed = [key for key in notices if not key.reason]
    if not removed:
        return []
    heading = (
        "API keys of removed members that keep working"
        " (policy.api_keys_of_removed_members: report):"
    )
    return [heading] + [f"  ? {_key_line(key)}" for key in removed]


def _key_policy_section(notices: tuple[KeyNotice, ...]) -> list[str]:
    listed = [key for key in notices if key.reason]
    if not listed:
        return []
    heading = "API keys past the key policy, left as they are (policy.api_keys):"
    return [heading] + [f"  ? {_key_line(key)}" for key in listed]


def _key_line(key: KeyNotice) -> str:
    shown = safe_fields(key.data)
    because = f": {shown['reason']}" if key.reason else ""
    return "'{name}' ({key_id}) of {owner}, in {workspace}".format(**shown) + because


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
        shown = plan.unmanaged or plan.held_back or plan.rate_limits or plan.group_overrides
        return EMPTY_MESSAGE if not shown else "No changes."
    summary = plan.summary
    manual = f"{summary['manual']} manual action{'' if summary['manual'] == 1 else 's'}"
    if not plan.api_changes:
        # What roster can do is done; only a person in the Console can close the rest.
        return f"No changes to apply. {manual} left for the Console (above)."
    return (
        f"Plan: {summary['invite']} to invite, {summary['add']} to add, {summary['change']}"
        f" to change, {summary['remove']} to remove, {manual}."
    )
