"""Claude Code usage over a period (admin-api.md §13): who used it, and their sessions, lines of
code, commits and pull requests, summed from the API's records (one per actor and UTC day).

An actor is a person (``user_actor``, by email address) or an API key (``api_actor``, by name).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from roster.reports.dates import Period

JSON = dict[str, Any]
TOP_ACTORS = 5
USER_ACTOR = "user_actor"
_NAME_FIELDS = {"user_actor": "email_address", "api_actor": "api_key_name"}


def claude_code_days(period: Period) -> tuple[str, ...]:
    """The UTC days of ``period``, one request each (``starting_at=YYYY-MM-DD``)."""
    days = -(-(period.end - period.start) // timedelta(days=1))
    return tuple((period.start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days))


@dataclass(frozen=True, slots=True)
class Activity:
    """What Claude Code did, summed."""

    sessions: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    commits: int = 0
    pull_requests: int = 0

    def __add__(self, other: Activity) -> Activity:
        return Activity(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def data(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def activity_of(record: JSON) -> Activity:
    """The core metrics of one record; a missing one is 0."""
    core = _object(record.get("core_metrics"))
    lines = _object(core.get("lines_of_code"))
    return Activity(
        sessions=_count(core.get("num_sessions")),
        lines_added=_count(lines.get("added")),
        lines_removed=_count(lines.get("removed")),
        commits=_count(core.get("commits_by_claude_code")),
        pull_requests=_count(core.get("pull_requests_by_claude_code")),
    )


def _object(value: object) -> JSON:
    return value if isinstance(value, dict) else {}


def _count(value: object) -> int:
    """A count the API gives; anything but a whole, finite number of them counts as none."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if math.isfinite(value) else 0


@dataclass(frozen=True, slots=True)
class Actor:
    """Who used Claude Code: ``kind`` is the API's actor type, ``name`` its email or key name."""

    kind: str
    name: str

    @property
    def is_user(self) -> bool:
        return self.kind == USER_ACTOR

    @property
    def data(self) -> dict[str, str]:
        """The actor as the API gives it."""
        return {"type": self.kind, _NAME_FIELDS.get(self.kind, "name"): self.name}


def actor_of(record: JSON) -> Actor:
    actor = _object(record.get("actor"))
    kind = str(actor.get("type") or "")
    names = [actor.get(_NAME_FIELDS[kind])] if kind in _NAME_FIELDS else []
    names += [actor.get(field) for field in _NAME_FIELDS.values()]  # an unknown type: either
    return Actor(kind, str(next((n for n in names if n), "")))


@dataclass(frozen=True, slots=True)
class ActorActivity:
    """One actor's Claude Code use over the period, and on how many days."""

    actor: Actor
    days: int
    activity: Activity


@dataclass(frozen=True, slots=True)
class ClaudeCodeReport:
    """Claude Code use over ``period``: every actor, the most active first."""

    period: Period
    actors: tuple[ActorActivity, ...]

    @property
    def totals(self) -> Activity:
        return sum((a.activity for a in self.actors), Activity())

    @property
    def active_users(self) -> int:
        """The people (not API keys) who used Claude Code on at least one day."""
        return sum(1 for a in self.actors if a.actor.is_user)

    @property
    def api_keys(self) -> int:
        return sum(1 for a in self.actors if not a.actor.is_user)

    @property
    def top(self) -> tuple[ActorActivity, ...]:
        return self.actors[:TOP_ACTORS]


def claude_code_report(period: Period, days: Mapping[str, Iterable[JSON]]) -> ClaudeCodeReport:
    """A ``ClaudeCodeReport`` from the API's records of each day asked for (``YYYY-MM-DD``:
    the day of the request, whatever a record's own ``date`` spells)."""
    sums: dict[Actor, Activity] = {}
    active: dict[Actor, set[str]] = {}
    for day, records in days.items():
        for record in records:
            actor = actor_of(record)
            sums[actor] = sums.get(actor, Activity()) + activity_of(record)
            active.setdefault(actor, set()).add(day)
    ranked = sorted(sums, key=lambda a: _rank(a, sums[a]))
    actors = tuple(ActorActivity(a, len(active[a]), sums[a]) for a in ranked)
    return ClaudeCodeReport(period, actors)


def _rank(actor: Actor, activity: Activity) -> tuple[int, int, str, str]:
    return (-activity.sessions, -activity.lines_added, actor.name, actor.kind)
