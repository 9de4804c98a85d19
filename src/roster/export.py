"""Writes the organization as it stands as a roster file: members and pending invites, sorted.

Planning the exported file against the same organization shows no changes: every member and
pending invite is listed with the role it has (an owner as ``admin``, which the file means as
"has admin rights"). Roles, addresses and workspace names a file cannot state are kept as comments
and left unmanaged. Every value, in comments too, is written by the YAML writer: names come from
the API, and a name that could end a comment or start a key must not set the next file's policy.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping

from roster.desired import FILE_ROLES
from roster.model import (
    CONSOLE_ONLY_ROLES,
    LIMITER_TYPES,
    Current,
    Workspace,
    WorkspaceMember,
)
from roster.plan_rate_limits import GroupNames
from roster.plan_workspaces import is_inherited
from roster.yaml_writer import (
    SCHEMA_MODELINE,
    entry_lines,
    flow,
    schema_validator,
    stateable_email,
    yaml_lines,
)
from roster.yaml_writer import comment_line as _comment


def render_roster_file(current: Current) -> str:
    """A valid roster file (YAML text) describing ``current``."""
    organization = current.organization
    identity = {"id": organization.id, "name": organization.name}
    if not organization.name:  # a file cannot state an empty name; the id says enough
        del identity["name"]
    lines = [
        SCHEMA_MODELINE,
        _comment(f"Exported by roster from {flow(organization.name)} ({flow(organization.id)})."),
        "",
        *yaml_lines({"organization": identity}),
        "",
        "members:",
        *_member_lines(current),
        *_workspace_lines(current),
    ]
    return "\n".join(lines) + "\n"


def _workspace_lines(current: Current) -> list[str]:
    """Active workspaces and their members, without the roles org admins and billing inherit.

    The Default workspace is always there: it is written only when it has members of its own.
    """
    emails = {m.id: (m.email, m.role) for m in current.members}
    held: dict[str, list[WorkspaceMember]] = defaultdict(list)
    for membership in current.workspace_members:
        held[membership.workspace_id].append(membership)
    active = sorted(
        (
            w
            for w in current.workspaces
            if not w.archived and not (w.is_default and not _explicit(held[w.id], emails))
        ),
        key=lambda w: (w.name, w.id),
    )
    if not active:
        return []
    lines, seen = ["", "workspaces:"], set()
    default_names = {w.name for w in current.workspaces if w.is_default}
    rate_limits = _RateLimits(current)
    for workspace in active:
        named = f"{flow(workspace.name)} ({flow(workspace.id)})"
        if not _stateable_workspace(workspace.name):
            lines.append(_comment(f"{named}: a name roster files cannot state; left unmanaged", 2))
        elif workspace.name in default_names and not workspace.is_default:
            why = "named like the Default workspace, which that name means in a file"
            lines.append(_comment(f"{named}: {why}; left unmanaged", 2))
        elif workspace.name in seen:
            lines.append(_comment(f"{named}: a second workspace of that name", 2))
        else:
            seen.add(workspace.name)
            limits = rate_limits.lines(workspace)
            lines += _one_workspace(workspace.name, held[workspace.id], emails, limits)
    # With nothing but comments under it, "workspaces:" would read as empty rather than as {}.
    return lines if seen else [*lines[:2], "  {}", *lines[2:]]


def _one_workspace(
    name: str,
    held: Iterable[WorkspaceMember],
    emails: Mapping[str, tuple[str, str]],
    rate_limits: list[str],
) -> list[str]:
    explicit = _explicit(held, emails)
    [empty] = yaml_lines({name: {}}, indent=2)
    if not explicit and not any(not line.lstrip().startswith("#") for line in rate_limits):
        return [empty, *rate_limits]
    # The name through the writer, the members line by line as the members section writes them.
    lines = [empty.removesuffix(" {}")]
    if explicit:
        lines.append("    members:")
        lines += [
            line for email, role in explicit.items() for line in entry_lines(email, role, "", 6)
        ]
    return lines + rate_limits


class _RateLimits:
    """The workspaces' rate-limit overrides as roster files give them: each group by the name
    plans resolve back to it, and what a file cannot state as a comment, left unmanaged."""

    def __init__(self, current: Current) -> None:
        self.names = GroupNames(current.rate_limits)
        self.by_entry = {g.id: g for g in current.rate_limits}
        self.of: dict[str, dict[str, Mapping[str, int]]] = defaultdict(dict)
        for override in current.workspace_rate_limits:
            self.of[override.workspace_id][override.rate_limit_id] = override.overrides

    def lines(self, workspace: Workspace) -> list[str]:
        given: dict[str, dict[str, int]] = {}
        comments: list[str] = []
        for entry_id, overrides in sorted(self.of.get(workspace.id, {}).items()):
            group = self.by_entry.get(entry_id)
            name = self.names.name_of(group) if group is not None else entry_id
            values, odd = _stateable_limits(overrides)
            if group is None or workspace.is_default or not _stateable_group(name):
                values, odd = {}, dict(overrides)
            if values:
                given[name] = values
            comments += [
                _comment(f"{flow(name)} {flow(k)}: {v}  (roster files cannot state it here)", 4)
                for k, v in odd.items()
            ]
        if not given and not comments:
            return []
        if not given:
            return ["    # rate limits a file cannot state, left unmanaged:", *comments]
        return [*yaml_lines({"rate_limits": given}, indent=4), *comments]


def _stateable_limits(overrides: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """The overrides a file can give (known types, positive values), and the others."""
    known = [k for k in LIMITER_TYPES if k in overrides]
    values = {k: overrides[k] for k in known if overrides[k] >= 1}
    return values, {k: v for k, v in overrides.items() if k not in values}


def _explicit(
    held: Iterable[WorkspaceMember], emails: Mapping[str, tuple[str, str]]
) -> dict[str, str]:
    """The members a file lists for a workspace (email -> role), sorted: not inherited ones."""
    return dict(
        sorted(
            (emails[m.user_id][0], m.role)
            for m in held
            if m.user_id in emails
            and not is_inherited(emails[m.user_id][1], m.role)
            and _listed(*emails[m.user_id])
        )
    )


def _member_lines(current: Current) -> list[str]:
    entries = [(m.email, m.role, "") for m in current.members]
    entries += [(i.email, i.role, "invited") for i in current.invites if i.status == "pending"]
    lines = [line for email, role, note in sorted(entries) for line in _member(email, role, note)]
    # With nothing but comments under it, "members:" would read as empty rather than as {}.
    listed = any(not line.lstrip().startswith("#") for line in lines)
    return lines if listed else ["  {}", *lines]


def _listed(email: str, role: str) -> bool:
    """Whether the members section lists ``email`` (rather than a comment about it)."""
    file_role = "admin" if role in CONSOLE_ONLY_ROLES else role
    return file_role in FILE_ROLES and stateable_email(email)


def _member(email: str, role: str, note: str) -> list[str]:
    file_role = "admin" if role in CONSOLE_ONLY_ROLES else role
    if file_role not in FILE_ROLES:
        why = "a role roster files cannot state"
        return [_comment(f"{flow(email)}: {flow(role)}  ({why}; left unmanaged)", 2)]
    if not stateable_email(email):
        why = "an address roster files cannot state"
        return [_comment(f"{flow(email)}: {flow(role)}  ({why}; left unmanaged)", 2)]
    comment = "invited, not yet accepted" if note else ""
    if role != file_role:
        comment = f"{flow(role)} in the Console"
    return entry_lines(email, file_role, comment)


@functools.cache
def _stateable_group(name: str) -> bool:
    """Whether the schema accepts ``name`` as a rate-limit group's name."""
    where = ("properties", "workspaces", "additionalProperties", "properties", "rate_limits")
    return bool(schema_validator(*where, "propertyNames").is_valid(name))


def _stateable_workspace(name: str) -> bool:
    """Whether the schema accepts ``name`` as a workspace name."""
    return bool(schema_validator("properties", "workspaces", "propertyNames").is_valid(name))
