"""The people behind the synthetic reports: which members are at work on which day.

Each member's habits are a pure function of the organization id, their id, role and join date:
whether they use Claude at all (billing members never do, about one in eight others never
either), whether they stopped some weeks after joining, how often they work and how much. Whether
they are at work on a day is one more draw from a hash of (organization, member, day). Nobody is
at work before the day they joined.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from roster.emulator.clock import format_time, parse_time

# How likely a member is to be at work on a day the organization has Console traffic, by role.
ROLE_CHANCE = {
    "claude_code_user": 0.75,
    "developer": 0.6,
    "admin": 0.4,
    "user": 0.35,
    "billing": 0.0,  # billing members look after invoices, not code
}
DEFAULT_CHANCE = 0.4  # owner, primary_owner and any other role
NEVER_SHARE = 0.12  # members who never use their seat
LAPSED_SHARE = 0.12  # members who stopped after their first weeks
LAPSE_DAYS = (14, 120)
TERMINALS = (
    "vscode",
    "iTerm.app",
    "Apple_Terminal",
    "cursor",
    "ghostty",
    "tmux",
    "WarpTerminal",
    "gnome-terminal",
    "windows-terminal",
    "pycharm",
)


@dataclass(frozen=True, slots=True)
class MemberOrigin:
    """A member as a source of usage: who they are, and their habits."""

    user_id: str
    email: str
    added_at: str
    chance: float  # of being at work on a day with Console traffic; 0.0: never
    active_until: str | None  # a lapsed member is never at work from this instant on
    weight: int  # their share of the day's usage among those at work
    terminal_type: str


def unit(*parts: str) -> float:
    """A number in [0, 1) that only depends on ``parts``: the emulator's stable coin."""
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def member_origin(
    organization_id: str, user_id: str, email: str, role: str, added_at: str
) -> MemberOrigin:
    persona = unit(organization_id, user_id, "persona")
    chance = 0.0 if persona < NEVER_SHARE else ROLE_CHANCE.get(role, DEFAULT_CHANCE)
    lapsed = NEVER_SHARE <= persona < NEVER_SHARE + LAPSED_SHARE
    # Not by role: a role change then moves only that member's days (a higher chance keeps
    # every day they had, since the day's draw stays the same), and the shares of those days.
    weight = 50 + int(100 * unit(organization_id, user_id, "weight"))
    terminal = TERMINALS[int(unit(organization_id, user_id, "terminal") * len(TERMINALS))]
    return MemberOrigin(
        user_id=user_id,
        email=email,
        added_at=added_at,
        chance=chance,
        active_until=_lapse(organization_id, user_id, added_at) if lapsed and chance else None,
        weight=weight,
        terminal_type=terminal,
    )


def _lapse(organization_id: str, user_id: str, added_at: str) -> str | None:
    low, high = LAPSE_DAYS
    days = low + (high - low) * unit(organization_id, user_id, "lapse")
    try:
        return format_time(parse_time(added_at) + timedelta(days=days))
    except ValueError:  # a member inserted without a join date: never lapses
        return None


def member_origins(
    organization_id: str, users: Iterable[tuple[str, str, str, str]]
) -> list[MemberOrigin]:
    """(id, email, role, added_at) quadruples as sources of usage, by id."""
    return sorted(
        (member_origin(organization_id, *user) for user in users), key=lambda m: m.user_id
    )


def at_work(
    organization_id: str, members: Sequence[MemberOrigin], day: datetime
) -> list[MemberOrigin]:
    """The members at work on the UTC ``day`` (its midnight), by id."""
    start, end = format_time(day), format_time(day + timedelta(days=1))
    date = day.date().isoformat()
    return [
        member
        for member in members
        if member.chance > 0.0
        and member.added_at < end
        and (member.active_until is None or start < member.active_until)
        and unit(organization_id, member.user_id, date) < member.chance
    ]


def shares(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights``, exactly: the largest remainders get the
    units left over, the first of equal remainders first."""
    whole = sum(weights)
    parts = [total * weight // whole for weight in weights]
    left = total - sum(parts)
    by_remainder = sorted(
        range(len(weights)), key=lambda index: (-(total * weights[index] % whole), index)
    )
    for index in by_remainder[:left]:
        parts[index] += 1
    return parts
