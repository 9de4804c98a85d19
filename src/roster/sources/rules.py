"""Group rules, and the pure mapping from a directory's groups to the members they give.

A person in several groups gets the highest organization role and, per workspace, the highest
workspace role; nested groups are followed breadth-first, each group once (a cycle ends there).
No I/O and no clock: the same directory and rules give the same members, in any order.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from roster.desired import GroupRule
from roster.errors import ConfigError, Problem, SourceError
from roster.sources.directory import Directory, Group, Person

# Lowest first. billing ranks above developer: it reaches every workspace (workspace_billing).
ORG_ROLE_RANK = {"user": 0, "claude_code_user": 1, "developer": 2, "billing": 3, "admin": 4}
WORKSPACE_ROLE_RANK = {
    "workspace_user": 0,
    "workspace_restricted_developer": 1,
    "workspace_developer": 2,
    "workspace_admin": 3,
}
# Entries told by one error, before "and N more".
SHOWN_ENTRIES = 5


@dataclass(frozen=True, slots=True, order=True)
class Reason:
    """Why a person has a line: the rule's group, the groups down to theirs, the role given."""

    rule: str
    via: tuple[str, ...]
    role: str


@dataclass(frozen=True, slots=True)
class GroupMember:
    """A member the rules give: roles, and the reasons for each line of the generated file."""

    email: str
    role: str
    reasons: tuple[Reason, ...]
    workspaces: Mapping[str, str] = field(default_factory=dict)
    workspace_reasons: Mapping[str, tuple[Reason, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Resolution:
    """The members the rules give, by lower-case email, sorted."""

    members: Mapping[str, GroupMember]
    source: str


@dataclass(frozen=True, slots=True)
class _Grant:
    person: Person
    rule: GroupRule
    via: tuple[str, ...]


def resolve(
    directory: Directory,
    rules: Sequence[GroupRule],
    valid_email: Callable[[str], bool] = lambda email: True,
) -> Resolution:
    """The members ``rules`` give from ``directory``.

    ``ConfigError`` for a rule naming a group the directory does not have (at the rule's line);
    ``SourceError`` naming the entries for a person without an email, with one a roster file
    cannot state (``valid_email``), or two entries with one email.
    """
    starts = _rule_groups(directory, rules)
    grants = [grant for rule in rules for grant in _grants(directory, rule, starts[rule.group])]
    by_email = _by_email(directory, grants)
    _refuse_invalid(directory, by_email, valid_email)
    members = {email: _member(email, found) for email, found in sorted(by_email.items())}
    return Resolution(MappingProxyType(members), directory.describe)


def _rule_groups(directory: Directory, rules: Sequence[GroupRule]) -> dict[str, Group]:
    index = _GroupIndex(directory.groups.values())
    found: dict[str, Group] = {}
    problems = []
    for rule in rules:
        group, problem = index.find(rule.group, directory.describe)
        if group is not None:
            found[rule.group] = group
        elif problem is not None:
            problems.append(_located(rule, problem))
    if problems:
        raise ConfigError(None, sorted(set(problems), key=_problem_order))
    return found


def _problem_order(problem: Problem) -> tuple[str, int, int]:
    return problem.file or "", problem.line or 0, problem.column or 0


def _located(rule: GroupRule, message: str) -> Problem:
    if rule.at is None:
        return Problem(message)
    file, line, column = rule.at
    return Problem(message, line, column, file)


class _GroupIndex:
    """Groups by every name they have: exactly as written first, then ignoring case."""

    def __init__(self, groups: Iterable[Group]) -> None:
        self.exact: dict[str, set[str]] = defaultdict(set)
        self.folded: dict[str, set[str]] = defaultdict(set)
        self.groups = {group.key: group for group in groups}
        for group in self.groups.values():
            for name in (group.key, *group.names):
                self.exact[name].add(group.key)
                self.folded[name.casefold()].add(group.key)

    def find(self, name: str, source: str) -> tuple[Group | None, str | None]:
        keys = self.exact.get(name) or self.folded.get(name.casefold()) or set()
        if len(keys) == 1:
            return self.groups[next(iter(keys))], None
        if not keys:
            return None, f"group rule: {source} has no group '{name}'"
        where = ", ".join(sorted(self.groups[key].where for key in keys))
        return None, f"group rule: '{name}' names {len(keys)} groups of {source} ({where})"


def _grants(directory: Directory, rule: GroupRule, start: Group) -> Iterator[_Grant]:
    """Everyone in ``start`` and the groups nested in it, each with the shortest way down."""
    seen_people: set[str] = set()
    for group, via in _nested(directory, start):
        for key in sorted(set(group.people) - seen_people):
            person = directory.people.get(key)
            if person is not None:
                seen_people.add(key)
                yield _Grant(person, rule, via)


def _nested(directory: Directory, start: Group) -> Iterator[tuple[Group, tuple[str, ...]]]:
    """``start`` and every group under it, breadth-first, each once: a cycle ends there."""
    queue: deque[tuple[Group, tuple[str, ...]]] = deque([(start, ())])
    seen = {start.key}
    while queue:
        group, via = queue.popleft()
        yield group, via
        for key in sorted(set(group.groups) - seen):
            inner = directory.groups.get(key)
            if inner is not None:
                seen.add(key)
                queue.append((inner, (*via, inner.name)))


def _by_email(directory: Directory, grants: Iterable[_Grant]) -> dict[str, list[_Grant]]:
    """The grants by lower-case email; a person without one, or an email two entries give, is
    a ``SourceError`` naming the entries."""
    by_email: dict[str, list[_Grant]] = defaultdict(list)
    keys: dict[str, set[str]] = defaultdict(set)
    missing: dict[str, Person] = {}
    for grant in grants:
        email = (grant.person.email or "").strip().lower()
        if not email:
            missing[grant.person.key] = grant.person
            continue
        by_email[email].append(grant)
        keys[email].add(grant.person.key)
    _refuse_missing(directory, missing)
    _refuse_shared(directory, keys)
    return by_email


def _refuse_missing(directory: Directory, missing: Mapping[str, Person]) -> None:
    if missing:
        entries = [missing[key].where for key in sorted(missing)]
        raise SourceError(
            f"{directory.describe}: {_listed(entries)} {_has(entries)} no email, and the group"
            " rules give them a seat; give each an email in the directory"
        )


def _refuse_invalid(
    directory: Directory, by_email: Mapping[str, list[_Grant]], valid: Callable[[str], bool]
) -> None:
    invalid = [
        f"{grants[0].person.where} ({email!r})"
        for email, grants in sorted(by_email.items())
        if not valid(email)
    ]
    if invalid:
        raise SourceError(
            f"{directory.describe}: {_listed(invalid)}: not an email address a roster file can"
            " state; correct it in the directory"
        )


def _refuse_shared(directory: Directory, keys: Mapping[str, set[str]]) -> None:
    shared = {email: found for email, found in sorted(keys.items()) if len(found) > 1}
    if shared:
        told = [
            f"{email} ({', '.join(sorted(directory.people[key].where for key in found))})"
            for email, found in shared.items()
        ]
        raise SourceError(
            f"{directory.describe}: two entries give one email: {_listed(told)}; a roster file"
            " lists each person once, so keep one entry per email"
        )


def _listed(items: Sequence[str]) -> str:
    shown = "; ".join(items[:SHOWN_ENTRIES])
    more = len(items) - SHOWN_ENTRIES
    return f"{shown}; and {more} more" if more > 0 else shown


def _has(items: Sequence[str]) -> str:
    return "has" if len(items) == 1 else "have"


def _member(email: str, grants: Sequence[_Grant]) -> GroupMember:
    reasons = tuple(sorted({Reason(g.rule.group, g.via, g.rule.role) for g in grants}))
    role = max((g.rule.role for g in grants), key=ORG_ROLE_RANK.__getitem__)
    given: dict[str, set[Reason]] = defaultdict(set)
    for grant in grants:
        for workspace, workspace_role in grant.rule.workspaces.items():
            given[workspace].add(Reason(grant.rule.group, grant.via, workspace_role))
    workspaces = {
        workspace: max((r.role for r in found), key=WORKSPACE_ROLE_RANK.__getitem__)
        for workspace, found in sorted(given.items())
    }
    kept = {w: r for w, r in workspaces.items() if _holds(role, r)}
    return GroupMember(
        email,
        role,
        reasons,
        MappingProxyType(kept),
        MappingProxyType({w: tuple(sorted(given[w])) for w in kept}),
    )


def _holds(org_role: str, workspace_role: str) -> bool:
    """Whether a file may give this workspace role to a member of ``org_role``: org admins are
    workspace_admin everywhere, billing members workspace_billing unless workspace_admin."""
    if org_role == "admin":
        return False
    return org_role != "billing" or workspace_role == "workspace_admin"
