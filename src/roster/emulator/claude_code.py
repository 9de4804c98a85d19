"""The Claude Code usage report (admin-api.md §13): one day's records, one per actor.

A day's records are the messages report's daily bucket seen by actor: each member with a share
of the day's Console usage is a ``user_actor`` (their email), each API key with traffic that day
an ``api_actor`` (its name), and ``model_breakdown`` holds exactly those tokens, priced as the
cost report prices them. Sessions, lines, commits and tool actions are drawn from a generator
seeded by (organization, actor, day), so the same state and day give the same records.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal

from roster.emulator.activity import TERMINALS, MemberOrigin, unit
from roster.emulator.pagination import parse_limit
from roster.emulator.problems import invalid
from roster.emulator.records import JsonDict
from roster.emulator.reports import Attribution, KeyOrigin, OrgView, Query, UsageRow, cost_items

DEFAULT_LIMIT, MAX_LIMIT = 20, 1000
# A day is reported once more than this much of it has passed (§13: data older than about an
# hour); the synthetic day has no hours, so it then answers whole, as the messages report does.
FRESHNESS = timedelta(hours=1)
TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who a record is about, and the key its synthetic metrics are drawn from."""

    sort_key: tuple[int, str, str]
    actor: JsonDict
    seed: str
    terminal_type: str
    remote_chance: float


def claude_code_report(query: Query, view: OrgView) -> JsonDict:
    day = _required_date(query.get("starting_at"))
    limit = parse_limit(query.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    page = query.get("page")
    offset = parse_page_token(page, day) if page else 0
    records = day_records(view, day)
    shown = records[offset : offset + limit]
    following = offset + limit if offset + limit < len(records) else None
    return {
        "data": shown,
        "has_more": following is not None,
        "next_page": None if following is None else page_token(day, following),
    }


def _required_date(raw: str | None) -> date:
    if raw is None:
        raise invalid("starting_at: required (a UTC date, YYYY-MM-DD)")
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise invalid(f"starting_at: {raw!r} is not a date (YYYY-MM-DD)") from None


def page_token(day: date, offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(f"{day.isoformat()}:{offset}".encode()).decode()


def parse_page_token(token: str, day: date) -> int:
    """The offset a token of ``day`` stands for; a token of another day is refused."""
    try:
        if not token.startswith("page_"):
            raise ValueError(token)
        text = base64.urlsafe_b64decode(token[5:].encode()).decode()
        token_day, _, offset = text.partition(":")
        if token_day != day.isoformat() or not offset.isdigit():
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("page: not a valid page token for this day", "invalid_page_token") from None
    return int(offset)


def day_records(view: OrgView, day: date) -> list[JsonDict]:
    """Every record of ``day``, in order: members by email, then keys by name; none until
    more than an hour of the day has passed."""
    midnight = datetime.combine(day, time(), tzinfo=timezone.utc)
    if view.now - midnight <= FRESHNESS:
        return []
    actors = _actors(view, Attribution(view).rows(midnight, "1d"))
    ordered = sorted(actors.values(), key=lambda entry: entry[0].sort_key)
    return [_record(view, midnight, actor, rows) for actor, rows in ordered]


def _actors(view: OrgView, rows: Iterable[UsageRow]) -> dict[str, tuple[Actor, list[UsageRow]]]:
    """The rows of each actor; the Console use nobody was at work for has no actor."""
    members = {m.user_id: m for m in view.members}
    keys = {k.api_key_id: k for k in view.keys}
    actors: dict[str, tuple[Actor, list[UsageRow]]] = {}
    for row in rows:
        if row.account_id is not None:
            actor = _member_actor(members[row.account_id])
        elif row.api_key_id is not None:
            actor = _key_actor(view.organization_id, keys[row.api_key_id])
        else:
            continue
        actors.setdefault(actor.seed, (actor, []))[1].append(row)
    return actors


def _member_actor(member: MemberOrigin) -> Actor:
    return Actor(
        (0, member.email, member.user_id),
        {"type": "user_actor", "email_address": member.email},
        member.user_id,
        member.terminal_type,
        0.1,
    )


def _key_actor(organization_id: str, key: KeyOrigin) -> Actor:
    terminal = TERMINALS[int(unit(organization_id, key.api_key_id, "terminal") * len(TERMINALS))]
    return Actor(
        (1, key.name, key.api_key_id),
        {"type": "api_actor", "api_key_name": key.name},
        key.api_key_id,
        terminal,
        0.5,  # keys run Claude Code in CI and on servers as often as on laptops
    )


def _record(view: OrgView, midnight: datetime, actor: Actor, rows: list[UsageRow]) -> JsonDict:
    rng = random.Random(f"{view.organization_id}|claude_code|{actor.seed}|{midnight.date()}")
    sessions = 1 + min(40, int(rng.expovariate(1 / 3)))
    added = sessions * rng.randint(5, 220)
    commits = rng.randint(0, sessions)
    return {
        "date": midnight.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "actor": actor.actor,
        "organization_id": view.organization_id,
        "customer_type": "api",
        "subscription_type": None,
        "terminal_type": actor.terminal_type,
        "is_remote": rng.random() < actor.remote_chance,
        "core_metrics": {
            "num_sessions": sessions,
            "lines_of_code": {"added": added, "removed": int(added * rng.uniform(0.05, 0.6))},
            "commits_by_claude_code": commits,
            "pull_requests_by_claude_code": rng.randint(0, commits // 2),
        },
        "tool_actions": {tool: _tool_actions(rng, tool, sessions) for tool in TOOLS},
        "model_breakdown": _model_breakdown(rows),
    }


def _tool_actions(rng: random.Random, tool: str, sessions: int) -> JsonDict:
    used = tool != "notebook_edit_tool" or rng.random() < 0.2
    accepted = sessions * rng.randint(0, 12) if used else 0
    return {"accepted": accepted, "rejected": int(accepted * rng.uniform(0.0, 0.2))}


def _model_breakdown(rows: list[UsageRow]) -> list[JsonDict]:
    by_model: dict[str, list[UsageRow]] = {}
    for row in rows:
        by_model.setdefault(row.model, []).append(row)
    return [_model_json(model, by_model[model]) for model in sorted(by_model)]


def _model_json(model: str, rows: list[UsageRow]) -> JsonDict:
    cents = sum((item.amount for row in rows for item in cost_items(row)), Decimal(0))
    return {
        "model": model,
        "tokens": {
            "input": sum(r.uncached_input_tokens for r in rows),
            "output": sum(r.output_tokens for r in rows),
            "cache_read": sum(r.cache_read_input_tokens for r in rows),
            "cache_creation": sum(
                r.ephemeral_1h_input_tokens + r.ephemeral_5m_input_tokens for r in rows
            ),
        },
        "estimated_cost": {
            "amount": int(cents.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)),
            "currency": "USD",
        },
    }
