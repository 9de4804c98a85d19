"""Writes the organization as it stands as a roster file: members and pending invites, sorted.

Planning the exported file against the same organization shows no changes: every member and
pending invite is listed with the role it has (an owner as ``admin``, which the file means as
"has admin rights"). Roles a file cannot state are kept as comments and left unmanaged.
"""

from __future__ import annotations

import functools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

from roster.config import inline_refs, roster_schema
from roster.desired import FILE_ROLES
from roster.model import CONSOLE_ONLY_ROLES, Current, WorkspaceMember
from roster.plan_workspaces import is_inherited

_PLAIN_EMAIL = re.compile(r"^[a-z0-9][a-z0-9._%+\-]*@[a-z0-9.\-]+$")


def render_roster_file(current: Current) -> str:
    """A valid roster file (YAML text) describing ``current``."""
    organization = current.organization
    lines = [
        f"# Exported by roster from {organization.name} ({organization.id}).",
        "",
        "organization:",
        f"  id: {_scalar(organization.id)}",
        f"  name: {_scalar(organization.name)}",
        "",
        "members:",
        *_member_lines(current),
        *_workspace_lines(current),
    ]
    return "\n".join(lines) + "\n"


def _workspace_lines(current: Current) -> list[str]:
    """Active workspaces and their members, without the roles org admins and billing inherit."""
    active = sorted((w for w in current.workspaces if not w.archived), key=lambda w: (w.name, w.id))
    if not active:
        return []
    emails = {m.id: (m.email, m.role) for m in current.members}
    held: dict[str, list[WorkspaceMember]] = defaultdict(list)
    for membership in current.workspace_members:
        held[membership.workspace_id].append(membership)
    lines, seen = ["", "workspaces:"], set()
    for workspace in active:
        if workspace.name in seen:
            lines.append(
                f"  # {_scalar(workspace.name)} ({workspace.id}): a second workspace of that name"
            )
            continue
        seen.add(workspace.name)
        lines += _one_workspace(workspace.name, held[workspace.id], emails)
    return lines


def _one_workspace(
    name: str, held: Iterable[WorkspaceMember], emails: Mapping[str, tuple[str, str]]
) -> list[str]:
    explicit = sorted(
        (emails[m.user_id][0], m.role)
        for m in held
        if m.user_id in emails
        and not is_inherited(emails[m.user_id][1], m.role)
        and _listed(*emails[m.user_id])
    )
    if not explicit:
        return [f"  {_scalar(name)}: {{}}"]
    return [f"  {_scalar(name)}:", "    members:"] + [
        f"      {_scalar(email)}: {role}" for email, role in explicit
    ]


def _member_lines(current: Current) -> list[str]:
    entries = [(m.email, m.role, "") for m in current.members]
    entries += [(i.email, i.role, "invited") for i in current.invites if i.status == "pending"]
    lines = [_member_line(email, role, note) for email, role, note in sorted(entries)]
    # With nothing but comments under it, "members:" would read as empty rather than as {}.
    listed = any(not line.lstrip().startswith("#") for line in lines)
    return lines if listed else ["  {}", *lines]


def _listed(email: str, role: str) -> bool:
    """Whether the members section lists ``email`` (rather than a comment about it)."""
    file_role = "admin" if role in CONSOLE_ONLY_ROLES else role
    return file_role in FILE_ROLES and _stateable(email)


def _member_line(email: str, role: str, note: str) -> str:
    file_role = "admin" if role in CONSOLE_ONLY_ROLES else role
    if file_role not in FILE_ROLES:
        return f"  # {_scalar(email)}: {role}  (a role roster files cannot state; left unmanaged)"
    if not _stateable(email):
        return (
            f"  # {_scalar(email)}: {role}  (an address roster files cannot state; left unmanaged)"
        )
    comment = f"  # {note}, not yet accepted" if note else ""
    if role != file_role:
        comment = f"  # {role} in the Console"
    return f"  {_scalar(email)}: {file_role}{comment}"


@functools.cache
def _email_validator() -> Draft202012Validator:
    return Draft202012Validator(
        inline_refs(roster_schema())["properties"]["members"]["propertyNames"]
    )


@functools.cache
def _stateable(email: str) -> bool:
    """Whether the schema accepts ``email`` (the API holds some addresses it does not)."""
    return bool(_email_validator().is_valid(email))


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar that reads back as the same string (JSON strings are YAML)."""
    if _PLAIN_EMAIL.match(text):
        return text
    try:
        plain = yaml.safe_load(text) == text and "#" not in text and ":" not in text
    except yaml.YAMLError:
        plain = False
    return text if plain else json.dumps(text, ensure_ascii=False)
