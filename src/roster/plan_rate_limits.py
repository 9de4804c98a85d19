"""Planning workspaces' rate-limit overrides. Pure.

A workspace that lists ``rate_limits`` is authoritative for the groups it names: the limiter
types it gives are set, and what else it overrides follows ``policy.rate_limits``. Groups are
named as people name them (a model, a group type, an ``rlg_`` id) and resolved here, once the
organization's groups are known; a name that resolves to no group, or to a group named twice,
is a problem in the files, located where they name it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from roster.changes import Change, Entry, LimitStep, RateLimitNotice
from roster.desired import Desired, DesiredWorkspace, RateLimitPolicy
from roster.errors import ConfigError, Problem
from roster.model import LIMITER_TYPES, RATE_LIMIT_GROUP_TYPES, Current, RateLimitGroup, Workspace

# A model name with a release date (claude-sonnet-4-5-20250929): an alias names the family.
DATED_MODEL = re.compile(r"-\d{8}$")
# The names a roster file can give a group: the schema's $defs.rate_limit_group, which a test
# keeps equal to this.
GROUP_NAME = re.compile(r"^(?:rlg_[A-Za-z0-9]+|[a-z0-9][a-z0-9._-]*)(?![\s\S])")
GROUP_NAME_MAX = 100
ModelGroups = Sequence[RateLimitGroup]
Overrides = Mapping[str, Mapping[str, int]]  # rate_limit_id -> limiter type -> value


def plan_rate_limits(desired: Desired, current: Current) -> list[Entry]:
    """The overrides to set or clear in the workspaces whose ``rate_limits`` the files give,
    and the notices a reviewer should see; ``ConfigError`` for a group the files misname."""
    managed = [w for w in desired.workspaces.values() if w.rate_limits is not None]
    if not managed:
        return []
    groups = GroupNames(current.rate_limits)
    resolved = _resolve_all(managed, groups)
    archiving = {w.name for w in desired.workspaces.values() if w.archived}
    planner = _Planner(desired.policy.rate_limits, current, groups, archiving)
    entries: list[Entry] = []
    for wanted in managed:
        found = _active_named(current.workspaces, wanted.name)
        if len(found) <= 1:
            workspace = found[0] if found else None
            entries += planner.workspace(wanted, workspace, resolved[wanted.name])
    return [*entries, *planner.totals(entries)]


@dataclass(frozen=True, slots=True)
class _Named:
    """A group as the files name it."""

    name: str
    group: RateLimitGroup
    limits: Mapping[str, int]


def _resolve_all(
    managed: Iterable[DesiredWorkspace], groups: GroupNames
) -> dict[str, list[_Named]]:
    problems: list[Problem] = []
    resolved = {w.name: _resolve(w, groups, problems) for w in managed}
    if problems:
        raise ConfigError(None, problems)
    return resolved


def _resolve(wanted: DesiredWorkspace, groups: GroupNames, problems: list[Problem]) -> list[_Named]:
    named: dict[str, str] = {}  # entry id -> the name that gave it first
    found: list[_Named] = []
    for name, limits in (wanted.rate_limits or {}).items():
        group, why = groups.resolve(name)
        if group is not None and group.id in named:
            why = (
                f"'{name}' names the same group as '{named[group.id]}' ({group.label});"
                " give each group once"
            )
        if group is None or group.id in named:
            problems.append(_problem(wanted, name, why))
            continue
        named[group.id] = name
        found.append(_Named(name, group, limits))
    return found


def _problem(wanted: DesiredWorkspace, name: str, why: str) -> Problem:
    message = f"workspace '{wanted.name}': rate limits: {why}"
    at = wanted.rate_limits_at.get(name)
    return Problem(message) if at is None else Problem(message, at[1], at[2], at[0])


def _active_named(workspaces: Iterable[Workspace], name: str) -> list[Workspace]:
    """The active workspaces of this name (the Default one first chosen, as the workspace plan
    does); several mean the workspace plan makes it a manual action, and nothing is planned."""
    found = [w for w in workspaces if w.name == name and not w.archived]
    return [w for w in found if w.is_default] or found


class GroupNames:
    """The organization's rate-limit groups, by the names a roster file may give them."""

    def __init__(self, groups: Iterable[RateLimitGroup]) -> None:
        self.groups = tuple(groups)
        self.by_id = {g.group_id: g for g in self.groups}
        self.by_type: dict[str, list[RateLimitGroup]] = defaultdict(list)
        self.by_model: dict[str, list[RateLimitGroup]] = defaultdict(list)
        for group in self.groups:
            self.by_type[group.group_type].append(group)
            for model in group.models:
                self.by_model[model].append(group)

    def resolve(self, name: str) -> tuple[RateLimitGroup | None, str]:
        """The group ``name`` gives, or None and why not."""
        if name.startswith("rlg_"):
            found = self.by_id.get(name)
            return found, "" if found else f"no rate-limit group has the id {name}"
        if name == "model_group":
            return None, "'model_group' is every model family; name one by a model, such as " + (
                self.example()
            )
        if name in RATE_LIMIT_GROUP_TYPES:
            return self.one(
                self.by_type.get(name, []), name, f"the organization has no {name} rate limits"
            )
        return self.one(self.by_model.get(name, []), name, self.unknown_model(name))

    def one(
        self, found: list[RateLimitGroup], name: str, none: str
    ) -> tuple[RateLimitGroup | None, str]:
        if len(found) == 1:
            return found[0], ""
        if not found:
            return None, none
        ids = ", ".join(g.group_id for g in found)
        return None, f"'{name}' is in {len(found)} groups; name one by its id: {ids}"

    def unknown_model(self, name: str) -> str:
        entry = next((g for g in self.groups if name in {g.id, g.display_name}), None)
        if entry is not None:
            what = (
                "entry id, which differs between organizations"
                if name == entry.id
                else ("display name, which may change")
            )
            return (
                f"'{name}' is the organization's {what}; name the group"
                f" {self.name_of(entry)} or {entry.group_id}"
            )
        return f"no rate-limit group of the organization covers the model '{name}'; {self.known()}"

    def known(self) -> str:
        names = [self.name_of(g) for g in self.groups]
        return f"its groups are {', '.join(names)}" if names else "it lists no rate-limit groups"

    def example(self) -> str:
        models = [self.name_of(g) for g in self.by_type.get("model_group", [])]
        return models[0] if models else "claude-sonnet-4-5"

    def name_of(self, group: RateLimitGroup) -> str:
        """How roster names ``group`` in files and plans: a model alias, the group type when
        one group has it, else the group id. Each name resolves back to ``group``."""
        if group.group_type != "model_group":
            alone = len(self.by_type.get(group.group_type, ())) == 1
            return group.group_type if alone else group.group_id or group.id
        aliases = [m for m in group.models if not DATED_MODEL.search(m)] + list(group.models)
        fits = (m for m in aliases if len(self.by_model[m]) == 1 and is_group_name(m))
        return next(fits, group.group_id or group.id)


def is_group_name(name: str) -> bool:
    """Whether a roster file can give a group this name."""
    return len(name) <= GROUP_NAME_MAX and GROUP_NAME.match(name) is not None


class _Planner:
    """Plans one workspace's overrides at a time, against the organization's."""

    def __init__(
        self,
        policy: RateLimitPolicy,
        current: Current,
        groups: GroupNames,
        archiving: Collection[str],
    ) -> None:
        self.policy = policy
        self.groups = groups
        self.by_entry = {g.id: g for g in groups.groups}
        self.names = {w.id: w.name for w in current.workspaces}
        # Workspaces the plan archives: their overrides stop counting.
        self.archiving = {w.id for w in current.workspaces if w.name in archiving}
        self.current: dict[str, dict[str, Mapping[str, int]]] = defaultdict(dict)
        for override in current.workspace_rate_limits:
            self.current[override.workspace_id][override.rate_limit_id] = override.overrides

    def workspace(
        self, wanted: DesiredWorkspace, workspace: Workspace | None, named: list[_Named]
    ) -> list[Entry]:
        have = self.current.get(workspace.id, {}) if workspace is not None else {}
        entries: list[Entry] = []
        for entry in named:
            entries += self.group(wanted.name, workspace, entry, have.get(entry.group.id, {}))
        given = {entry.group.id for entry in named}
        for entry_id, overrides in sorted(have.items()):
            if entry_id not in given:
                # An override of an entry the organization no longer lists is still one.
                group = self.by_entry.get(entry_id) or RateLimitGroup(entry_id, "", "")
                blank = _Named(self.groups.name_of(group), group, {})
                entries += self.group(wanted.name, workspace, blank, overrides)
        return entries

    def group(
        self, name: str, workspace: Workspace | None, entry: _Named, have: Mapping[str, int]
    ) -> list[Entry]:
        org = entry.group.limits
        steps = [
            LimitStep(limiter, have.get(limiter), value, org.get(limiter))
            for limiter, value in entry.limits.items()
            if have.get(limiter) != value
        ]
        extra = {k: v for k, v in have.items() if k not in entry.limits}
        # Told at every plan, not only the one that sets it: the organization's limit may have
        # been lowered since, and the files then give a value that does not apply.
        notices: list[Entry] = [
            RateLimitNotice("above_organization_limit", name, entry.name, k, v, org[k])
            for k, v in entry.limits.items()
            if k in org and v > org[k]
        ]
        if self.policy == "remove":
            steps += [LimitStep(k, v, None, org.get(k)) for k, v in extra.items()]
        elif self.policy == "report":
            notices += [
                RateLimitNotice("not_in_files", name, entry.name, k, v, org.get(k))
                for k, v in extra.items()
            ]
        if not steps:
            return notices
        change = Change(
            "set_rate_limits",
            "",
            workspace=name,
            workspace_id=workspace.id if workspace is not None else None,
            group=entry.name,
            rate_limit_id=entry.group.id,
            limits=tuple(sorted(steps, key=_limiter_order)),
            # A group id says nothing to a reviewer: its display name goes beside it.
            note=entry.group.label if entry.name.startswith("rlg_") else "",
        )
        return [change, *notices]

    def totals(self, entries: Sequence[Entry]) -> list[Entry]:
        """For each group and limiter type this plan sets, a notice when the overrides of two
        or more workspaces add up, after it, to more than the organization's limit."""
        after = {
            w: {e: dict(v) for e, v in groups.items()}
            for w, groups in self.current.items()
            if w not in self.archiving
        }
        touched: set[tuple[str, str]] = set()
        for change in (e for e in entries if isinstance(e, Change)):
            entry_id = change.rate_limit_id or ""
            key = change.workspace_id or f"(new) {change.workspace}"
            self.names.setdefault(key, change.workspace)
            values = after.setdefault(key, {}).setdefault(entry_id, {})
            for step in change.limits:
                if step.to_value is None:
                    values.pop(step.limiter, None)
                else:
                    values[step.limiter] = step.to_value
                    touched.add((entry_id, step.limiter))
        return [
            notice
            for entry_id, limiter in sorted(touched)
            if (notice := self.total(after, entry_id, limiter)) is not None
        ]

    def total(
        self, after: Mapping[str, Overrides], entry_id: str, limiter: str
    ) -> RateLimitNotice | None:
        group = self.by_entry.get(entry_id)
        org_limit = group.limits.get(limiter) if group is not None else None
        shares = [
            (self.names.get(w, w), groups[entry_id][limiter])
            for w, groups in after.items()
            if limiter in groups.get(entry_id, {})
        ]
        total = sum(value for _, value in shares)
        if group is None or org_limit is None or len(shares) < 2 or total <= org_limit:
            return None
        named = ", ".join(sorted(name for name, _ in shares))
        return RateLimitNotice(
            "over_organization_total", named, group.label, limiter, total, org_limit
        )


def _limiter_order(step: LimitStep) -> tuple[int, str]:
    known = step.limiter in LIMITER_TYPES
    return (LIMITER_TYPES.index(step.limiter) if known else len(LIMITER_TYPES), step.limiter)
