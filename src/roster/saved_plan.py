"""Saved plans: what ``roster plan --out`` writes and ``roster apply plan.json`` applies.

The file holds the plan, the desired state it was computed from, a snapshot of the state it saw
and digests of both, never the key. Before applying, the organization is read again: the saved
plan is applied only if it is still exactly the plan that state gives; otherwise the drift is
explained in words (deepdiff of the two snapshots) and nothing is applied.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args

from deepdiff import DeepDiff

from roster import __version__
from roster.changes import (
    PHASES,
    AccountKind,
    Change,
    HeldBack,
    KeyNotice,
    LimitStep,
    RateLimitNotice,
    RateLimitReason,
    Unmanaged,
    Waiting,
)
from roster.config import MAX_FILE_BYTES
from roster.credentials import Secret
from roster.desired import (
    FILE_ROLES,
    MAX_KEY_DAYS,
    Desired,
    DesiredWorkspace,
    GroupOverride,
    KeyAgeAction,
    KeyPolicy,
    OrganizationRef,
    Policy,
    RateLimitPolicy,
    UnmanagedPolicy,
    WorkspacePolicy,
)
from roster.errors import ConfigError, RosterError, StalePlanError, UnsafePlanError
from roster.files import path_problem, read_regular, write_regular
from roster.model import ASSIGNABLE_WORKSPACE_ROLES, LIMITER_TYPES, Current, Organization
from roster.plan import Plan, compute_plan
from roster.plan_keys import KEY_CHANGES
from roster.plan_trust import DIFF_OPTIONS, canonical, check_signature, signature

FORMAT_VERSION = 1
_CHANGE_IDS = (
    "from_role",
    "to_role",
    "user_id",
    "invite_id",
    "workspace",
    "workspace_id",
    "key_id",
    "key_name",
    "group",
    "rate_limit_id",
)
# A plan of a 100,000-member organization, its state included, is some tens of MiB.
MAX_PLAN_BYTES = 256 * 2**20
MAX_DRIFT_LINES = 20
MAX_DRIFT_LINE = 200


class PlanFileError(RosterError):
    """A saved plan file that cannot be used: unreadable, modified, or from another version."""


@dataclass(frozen=True, slots=True)
class SavedPlan:
    plan: Plan
    desired: Desired
    state: Mapping[str, Any]
    config_digest: str
    created_at: str
    digest: str = ""
    roster_version: str = ""
    signed: bool = False

    @property
    def state_fingerprint(self) -> str:
        return fingerprint(self.state)


def write_saved_plan(
    path: Path,
    plan: Plan,
    desired: Desired,
    current: Current,
    *,
    files: Sequence[Path],
    now: str,
    key: Secret | None = None,
) -> None:
    """Save the plan; with ``key`` (``ROSTER_PLAN_KEY``) also signed, for apply to check."""
    body = {
        "format_version": FORMAT_VERSION,
        "roster_version": __version__,
        "created_at": now,
        "organization": {"id": plan.organization.id, "name": plan.organization.name},
        "config_digest": config_digest(files),
        "state_fingerprint": fingerprint(snapshot(current)),
        "plan": plan.data,
        "desired": desired_data(desired),
        "state": snapshot(current),
    }
    if key is not None:
        body["signature"] = signature(body, key)
    document = {**body, "digest": fingerprint(body)}
    write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, or fail with one line naming the file."""
    try:
        write_regular(path, text)
    except OSError as error:
        raise RosterError(f"{path}: cannot write: {error.strerror or error}") from None


def read_saved_plan(path: Path, key: Secret | None = None, *, to_apply: bool = True) -> SavedPlan:
    """The saved plan at ``path``; refused if modified, from another format, or (with ``key``,
    or when the file is signed) not signed with ``ROSTER_PLAN_KEY``.

    ``to_apply=False`` reads a plan only to show it: a signed plan is read without a key then
    (its ``signed`` says so, unchecked), and an unsigned one with a key; with a key, a signature
    is checked all the same.
    """
    document = _load(path)
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"{path}: plan format {version!r} is not one this roster ({__version__}) reads"
            f" (format {FORMAT_VERSION}); make the plan again with this roster"
        )
    body = {k: v for k, v in document.items() if k != "digest"}
    if document.get("digest") != fingerprint(body):
        raise PlanFileError(f"{path}: the plan file was modified after roster wrote it; plan again")
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    if to_apply or (key is not None and body.get("signature") is not None):
        check_signature(str(path), unsigned, body.get("signature"), key)
    try:
        return SavedPlan(
            plan=plan_from_data(body["plan"]),
            desired=desired_from_data(body["desired"]),
            state=dict(body["state"]),
            config_digest=str(body["config_digest"]),
            created_at=str(body["created_at"]),
            digest=str(document["digest"]),
            roster_version=str(body.get("roster_version", "")),
            signed=body.get("signature") is not None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PlanFileError(f"{path}: not a usable roster plan file ({error!r})") from None


def _load(path: Path) -> dict[str, Any]:
    document = _parse(path, _read_plan_text(path))
    if not isinstance(document, dict) or "plan" not in document:
        raise PlanFileError(f"{path}: not a roster plan file (no plan in it)")
    return document


def _read_plan_text(path: Path) -> str:
    try:
        raw = read_regular(path, MAX_PLAN_BYTES)
    except OSError as error:
        raise PlanFileError(f"{path}: {path_problem(path, error)}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PlanFileError(f"{path}: not a roster plan file ({error})") from None


def _parse(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanFileError(f"{path}: not a roster plan file ({error})") from None
    except RecursionError:
        # json recurses once per [ or {; roster writes a plan a few levels deep.
        raise PlanFileError(f"{path}: not a roster plan file (nested too deeply)") from None


def still_valid(saved: SavedPlan, current: Current, fresh: Plan | None = None) -> Plan:
    """The plan to apply, if ``current`` still gives exactly the saved plan's changes; else
    ``StalePlanError``. What it returns is the plan computed afresh, with those very changes:
    what it only reports (unmanaged accounts, keys to look at...) is today's, not the file's.

    ``fresh`` is the plan ``current`` gives for the saved desired state, if already computed.
    """
    if current.organization.id != saved.plan.organization.id:
        raise UnsafePlanError(
            f"the plan is for organization {saved.plan.organization.name}"
            f" ({saved.plan.organization.id}) but the key belongs to {current.organization.name}"
            f" ({current.organization.id})"
        )
    # Recomputed even when the state is unchanged: the file's digest proves it is whole, not who
    # wrote it, so what it would apply must also be what its own desired state gives.
    try:
        fresh = fresh if fresh is not None else compute_plan(saved.desired, current)
    except ConfigError as error:  # a group its files named is gone from the organization
        drift = [*describe_drift(saved.state, snapshot(current)), *map(str, error.problems)]
        raise _stale(saved, drift) from None
    if _actions(fresh) == _actions(saved.plan):
        return fresh
    raise _stale(saved, describe_drift(saved.state, snapshot(current)))


def _stale(saved: SavedPlan, drift: list[str]) -> StalePlanError:
    return StalePlanError(
        f"the organization changed since the plan was made ({saved.created_at}) in ways that"
        " change the plan; nothing was applied: run roster plan again",
        drift,
    )


def _actions(plan: Plan) -> list[dict[str, Any]]:
    # What apply would do; what a plan only reports may drift without making it stale. A key
    # the key policy turns off says why, and its age in days grows by the day: the decision
    # (which key, and that it goes) is what must hold, not the day it was counted.
    return [
        {**change.data, "note": ""} if change.kind in _KEY_KINDS else change.data
        for change in plan.api_changes
    ]


_KEY_KINDS = frozenset(KEY_CHANGES.values())


# --- digests and snapshots -------------------------------------------------------------------


def fingerprint(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical(value)).hexdigest()


def config_digest(files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(os.fsencode(path.name) + b"\0" + read_regular(path, MAX_FILE_BYTES) + b"\0")
    return "sha256:" + digest.hexdigest()


def snapshot(current: Current) -> dict[str, Any]:
    """The state as plain data keyed the way people name things, for digests and diffs."""
    emails = {m.id: m.email for m in current.members}
    names = {w.id: w.name for w in current.workspaces}
    groups = {o.rate_limit_id: o.rate_limit_id for o in current.workspace_rate_limits}
    groups |= {g.id: g.label for g in current.rate_limits}
    return {
        "organization": {"id": current.organization.id, "name": current.organization.name},
        "members": {m.email: {"id": m.id, "role": m.role} for m in current.members},
        "invites": {
            i.email: {"id": i.id, "role": i.role, "status": i.status} for i in current.invites
        },
        "workspaces": {w.id: {"name": w.name, "archived": w.archived} for w in current.workspaces},
        "workspace_members": {
            f"{names.get(m.workspace_id, m.workspace_id)} / {emails.get(m.user_id, m.user_id)}": (
                m.role
            )
            for m in current.workspace_members
        },
        "api_keys": {
            k.id: {
                "name": k.name,
                "status": k.status,
                "created_by": emails.get(k.created_by or "", k.created_by),
            }
            for k in current.api_keys
        },
        "rate_limits": {
            f"{g.label} ({g.id})": {"models": list(g.models), "limits": dict(g.limits)}
            for g in current.rate_limits
        },
        "workspace_rate_limits": {
            f"{names.get(o.workspace_id, o.workspace_id)} / {groups[o.rate_limit_id]}": (
                dict(o.overrides)
            )
            for o in current.workspace_rate_limits
        },
    }


_SECTION_WORDS = {
    "members": "member",
    "invites": "invite for",
    "workspaces": "workspace",
    "workspace_members": "workspace membership",
    "api_keys": "API key",
    "organization": "organization",
    "rate_limits": "organization rate limit",
    "workspace_rate_limits": "workspace rate limit",
}


def describe_drift(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What changed between two snapshots, one line each, in plain words."""
    diff = DeepDiff(dict(before), dict(after), view="tree", **DIFF_OPTIONS)
    lines = [
        *(_changed(level) for level in diff.get("values_changed", [])),
        *(_changed(level) for level in diff.get("type_changes", [])),
        *(_appeared(level, "appeared") for level in diff.get("dictionary_item_added", [])),
        *(_appeared(level, "is gone") for level in diff.get("dictionary_item_removed", [])),
    ]
    lines = sorted(_shortened(line) for line in lines)
    if len(lines) > MAX_DRIFT_LINES:
        hidden = len(lines) - MAX_DRIFT_LINES
        lines = [*lines[:MAX_DRIFT_LINES], f"... and {hidden} more differences"]
    return lines


def _shortened(line: str) -> str:
    return line if len(line) <= MAX_DRIFT_LINE else line[: MAX_DRIFT_LINE - 1] + "…"


def _changed(level: Any) -> str:
    section, *rest = level.path(output_format="list")
    what = " ".join(str(part) for part in rest)
    return f"{_SECTION_WORDS.get(section, section)} {what}: {level.t1} -> {level.t2}"


def _appeared(level: Any, verb: str) -> str:
    section, *rest = level.path(output_format="list")
    return f"{_SECTION_WORDS.get(section, section)} {' '.join(map(str, rest))} {verb}"


# --- values to data and back ------------------------------------------------------------------


def desired_data(desired: Desired) -> dict[str, Any]:
    organization = desired.organization
    return {
        "members": dict(desired.members),
        "organization": None
        if organization is None
        else {"id": organization.id, "name": organization.name},
        "policy": desired.policy.data,
        "workspaces": {name: w.data for name, w in desired.workspaces.items()},
    }


def desired_from_data(data: Mapping[str, Any]) -> Desired:
    """The desired state a plan file holds; ``ValueError`` unless every value is one a roster
    file could give (a file whose digest was recomputed may hold anything)."""
    desired = _desired(data)
    _check_values(desired)
    return desired


def _desired(data: Mapping[str, Any]) -> Desired:
    organization = data.get("organization")
    return Desired(
        members=MappingProxyType(dict(data["members"])),
        policy=Policy.from_data(data["policy"]),
        organization=None if organization is None else OrganizationRef(**organization),
        workspaces=MappingProxyType(
            {name: DesiredWorkspace.from_data(name, w) for name, w in data["workspaces"].items()}
        ),
    )


def _check_values(desired: Desired) -> None:
    policy = desired.policy
    texts = [*desired.members, *policy.ignore, *policy.protected, *desired.workspaces]
    texts += [email for w in desired.workspaces.values() for email in w.members]
    if desired.organization is not None:
        texts += [v for v in (desired.organization.id, desired.organization.name) if v is not None]
    workspace_roles = {r for w in desired.workspaces.values() for r in w.members.values()}
    choices: list[tuple[set[object], Collection[object]]] = [
        (set(desired.members.values()), FILE_ROLES),
        (set(workspace_roles), ASSIGNABLE_WORKSPACE_ROLES),
        ({policy.unmanaged}, get_args(UnmanagedPolicy)),
        ({policy.workspace_members}, {None, *get_args(UnmanagedPolicy)}),
        ({policy.workspaces}, get_args(WorkspacePolicy)),
        ({policy.api_keys_of_removed_members}, get_args(KeyPolicy)),
        ({policy.rate_limits}, get_args(RateLimitPolicy)),
        ({policy.api_keys.action}, get_args(KeyAgeAction)),
        (
            {type(d) for d in (policy.api_keys.max_age_days, policy.api_keys.unused_days)},
            {int, type(None)},
        ),
        (
            {
                isinstance(d, int) and 1 <= d <= MAX_KEY_DAYS
                for d in (policy.api_keys.max_age_days, policy.api_keys.unused_days)
                if d is not None
            },
            {True},
        ),
        ({type(w.archived) for w in desired.workspaces.values()}, {bool}),
        *_rate_limit_choices(desired),
    ]
    if not all(isinstance(text, str) for text in texts) or any(
        not values <= set(allowed) for values, allowed in choices
    ):
        raise ValueError("the desired state holds a value no roster file can give")


def _rate_limit_choices(desired: Desired) -> list[tuple[set[object], Collection[object]]]:
    limits = [w.rate_limits for w in desired.workspaces.values() if w.rate_limits is not None]
    groups: set[object] = {type(group) for limit in limits for group in limit}
    values = [values for limit in limits for values in limit.values()]
    numbers = {v for value in values for v in value.values()}
    return [
        (groups, {str}),
        ({name for value in values for name in value}, LIMITER_TYPES),
        ({type(n) for n in numbers}, {int}),
        ({isinstance(n, int) and n > 0 for n in numbers}, {True}),
    ]


def plan_from_data(data: Mapping[str, Any]) -> Plan:
    """The plan a file holds; ``ValueError`` for a value of a type or kind roster never writes."""
    _check_texts(data["organization"], ("id", "name"))
    return Plan(
        Organization(**data["organization"]),
        changes=tuple(_change(c) for c in [*data["changes"], *data["manual"]]),
        unmanaged=tuple(_account(Unmanaged, u) for u in data["unmanaged"]),
        held_back=tuple(_account(HeldBack, h) for h in data["held_back"]),
        waiting=tuple(Waiting(**w) for w in data["waiting"]),
        api_keys=tuple(_key_notice(k) for k in data["api_keys"]),
        rate_limits=tuple(_rate_limit_notice(n) for n in data.get("rate_limits", ())),
        group_overrides=tuple(_group_override(o) for o in data.get("group_overrides", ())),
    )


def _group_override(data: Mapping[str, Any]) -> GroupOverride:
    override = GroupOverride.from_data(data)
    _check_texts(override.data, ("email", "workspace", "group_role", "file_role"))
    return override


def _change(data: Mapping[str, Any]) -> Change:
    fields = _workspace_text(data)
    steps = tuple(_limit_step(step) for step in fields.pop("limits", ()))
    change = Change(**{"group": "", **fields, "limits": steps})
    if change.kind not in PHASES:
        raise ValueError(f"unknown change kind {change.kind!r}")
    _check_texts(change.data, ("kind", "email", "note"), optional=_CHANGE_IDS)
    return change


def _key_notice(data: Mapping[str, Any]) -> KeyNotice:
    notice = KeyNotice(**data)
    _check_texts(notice.data, ("key_id", "name", "owner", "workspace", "reason"))
    return notice


def _limit_step(data: Mapping[str, Any]) -> LimitStep:
    step = LimitStep(**data)
    _check_texts(step.data, ("limiter",))
    _check_numbers(step.data, ("from_value", "to_value", "org_limit"))
    # What a plan sets comes from a roster file: a limiter type it can give, a positive value.
    if step.to_value is not None and (step.to_value < 1 or step.limiter not in LIMITER_TYPES):
        raise ValueError(f"{step.limiter} cannot be set to {step.to_value}")
    return step


def _rate_limit_notice(data: Mapping[str, Any]) -> RateLimitNotice:
    notice = RateLimitNotice(**data)
    if notice.reason not in get_args(RateLimitReason):
        raise ValueError(f"unknown rate limit notice {notice.reason!r}")
    _check_texts(notice.data, ("workspace", "group", "limiter"))
    _check_numbers(notice.data, ("value", "org_limit"))
    return notice


def _check_numbers(data: Mapping[str, Any], names: Sequence[str]) -> None:
    """Every field named is a whole number or null."""
    wrong = [k for k in names if data.get(k) is not None and type(data.get(k)) is not int]
    if wrong:
        raise ValueError(f"{', '.join(wrong)} must be whole numbers")


def _account(cls: type[Unmanaged] | type[HeldBack], data: Mapping[str, Any]) -> Any:
    account = cls(**_workspace_text(data))
    if account.kind not in get_args(AccountKind):
        raise ValueError(f"unknown account kind {account.kind!r}")
    _check_texts(account.data, (), optional=tuple(account.data))
    return account


def _check_texts(
    data: Mapping[str, Any], required: Sequence[str], optional: Sequence[str] = ()
) -> None:
    """Every field named is text (``optional`` ones may be null too)."""
    wrong = [k for k in required if not isinstance(data.get(k), str)]
    wrong += [k for k in optional if data.get(k) is not None and not isinstance(data.get(k), str)]
    if wrong:
        raise ValueError(f"{', '.join(wrong)} must be text")


def _workspace_text(data: Mapping[str, Any]) -> dict[str, Any]:
    # The JSON form writes an empty workspace as null; the values keep it as "".
    return {**data, "workspace": data.get("workspace") or ""}
