"""Deterministic generation of a realistic organization: the same arguments give the same
state, byte for byte. Members, invites (accepted, pending, expired), workspaces with explicit
members and rate-limit overrides, and API keys, laid out on a timeline that ends at a fixed
instant (``ANCHOR``).
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from roster.emulator.clock import Clock, format_time
from roster.emulator.rate_limits import BATCH_GROUP_ID, SONNET_4_GROUP_ID
from roster.emulator.records import ApiKey, Invite, User, Workspace
from roster.emulator.store import INVITE_LIFETIME, MAX_ACTIVE_WORKSPACES, PALETTE, Store


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ANCHOR = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
HISTORY = timedelta(days=730)
FIRST_NAMES = _words(
    "Aaliyah Aarav Abigail Adam Aditi Ahmed Aiko Alejandro Alex Amara Amelia Ana Andre Anika "
    "Arjun Ava Beatriz Ben Bianca Carlos Chen Chloe Daniel Dara David Diego Elena Eli Emma "
    "Ethan Fatima Felix Freya Gabriel Grace Hana Hannah Hiro Ibrahim Imani Isabel Ivan Jack "
    "Jamal Jana Javier Jin Joao Jonas Julia Kai Kavya Kenji Laila Lars Layla Leo Liam Lina "
    "Lucas Luis Maya Mei Mia Mohammed Nadia Naomi Nia Noah Olivia Omar Oscar Priya Rafael "
    "Rahul Ravi Rosa Ruby Sakura Sam Sara Sebastian Sofia Tariq Theo Uma Valentina Victor Wei "
    "Yara Yusuf Zara Zoe"
)
LAST_NAMES = _words(
    "Abara Adeyemi Alvarez Andersen Bauer Becker Bianchi Brown Castro Chen Cohen Costa Das "
    "Diaz Dubois Eriksson Fernandes Fischer Garcia Gonzalez Gupta Haddad Hansen Hernandez "
    "Hoffmann Ito Ivanova Jensen Johnson Kang Khan Kim Kowalski Kumar Larsen Lee Lopez Martin "
    "Mehta Meyer Moreau Mueller Murphy Nakamura Nguyen Novak Okafor Olsen Park Patel Pereira "
    "Petrov Popescu Rahman Reddy Rossi Santos Sato Schmidt Schneider Shah Silva Singh Smith "
    "Sorensen Suzuki Tanaka Taylor Thomas Torres Vargas Wagner Walker Wang Weber Williams "
    "Wilson Wong Yamamoto Yilmaz Zhang Zimmermann"
)
COMPANIES = (
    "Acme Robotics",
    "Northwind Labs",
    "Bluefin Analytics",
    "Copperleaf Health",
    "Lumen Logistics",
    "Quarry Systems",
)
TEAMS = (
    "Research",
    "Platform",
    "Data Science",
    "Support Bots",
    "Growth",
    "Security",
    "Mobile",
    "Search",
    "Billing Ops",
    "Evaluations",
    "Internal Tools",
    "Customer Success",
    "Marketing",
    "Legal Review",
    "Infrastructure",
    "Finance",
    "Design",
    "Sales Engineering",
    "QA",
    "Docs",
)
KEY_NAMES = (
    "production",
    "staging",
    "ci",
    "data-pipeline",
    "notebook",
    "eval-harness",
    "batch-jobs",
)
WORKSPACE_ROLE_WEIGHTS = {
    "workspace_user": 50,
    "workspace_developer": 35,
    "workspace_restricted_developer": 10,
    "workspace_admin": 5,
}
_HINT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class Draft:
    """An object before its id is minted; ids are minted in timeline order."""

    kind: str
    moment: datetime
    fields: dict[str, object] = field(default_factory=dict)
    id: str = ""


@dataclass
class Plan:
    rng: random.Random
    domain: str
    start: datetime
    drafts: list[Draft] = field(default_factory=list)

    def add(self, kind: str, moment: datetime, **fields: object) -> Draft:
        draft = Draft(kind, moment, fields)
        self.drafts.append(draft)
        return draft

    def moment(self, low: datetime, high: datetime) -> datetime:
        span = max(0.0, (high - low).total_seconds())
        return low + timedelta(seconds=round(self.rng.uniform(0, span), 6))


def generate(
    users: int = 50, seed: int = 0, name: str | None = None, workspaces: int | None = None
) -> Store:
    """A populated organization whose clock stands at ``ANCHOR`` (it resumes from there)."""
    if users < 1:
        raise ValueError("an organization needs at least one user")
    rng = random.Random(seed)
    org_name = name or rng.choice(COMPANIES)
    org_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    plan = Plan(rng, domain_for(org_name), ANCHOR - HISTORY)
    members = _plan_users(plan, users)
    spaces = _plan_workspaces(plan, _workspace_count(users, workspaces))
    _plan_invites(plan, members, users)
    _plan_keys(plan, members, spaces, max(1, users // 3))
    store = Store(
        Clock.frozen(ANCHOR), organization_id=org_id, organization_name=org_name, bootstrap=False
    )
    _mint_ids(plan, store)
    _fill(plan, store, spaces, members)
    _fill_rate_limits(random.Random(f"{seed}:rate limits"), store, spaces)
    return store


def domain_for(org_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]", "", org_name.lower())
    return f"{slug or 'example'}.com"


def _workspace_count(users: int, requested: int | None) -> int:
    wanted = requested if requested is not None else max(2, min(40, users // 40))
    return max(0, min(MAX_ACTIVE_WORKSPACES, wanted))


def _role_list(rng: random.Random, count: int) -> list[str]:
    admins = min(count, 2 + count // 2500)
    billing = min(count - admins, max(1, count // 50) if count >= 4 else 0)
    rest = count - admins - billing
    roles = ["billing"] * billing + [
        rng.choices(("user", "developer", "claude_code_user"), (50, 35, 15))[0] for _ in range(rest)
    ]
    roles += ["admin"] * (admins - 1)
    rng.shuffle(roles)
    return ["admin", *roles]


def _plan_users(plan: Plan, count: int) -> list[Draft]:
    """Members (oldest first, the founder an admin) plus a few former members."""
    rng, used = plan.rng, set[str]()
    former = count // 100
    roles = _role_list(rng, count) + ["developer"] * former
    moments = sorted(plan.moment(plan.start, ANCHOR - timedelta(hours=1)) for _ in roles[1:])
    drafts = []
    for index, (role, moment) in enumerate(zip(roles, [plan.start, *moments], strict=True)):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = _unique_email(f"{first}.{last}".lower(), plan.domain, used)
        is_former = index >= count
        drafts.append(
            plan.add(
                "user", moment, email=email, name=f"{first} {last}", role=role, former=is_former
            )
        )
    return drafts


def _unique_email(local: str, domain: str, used: set[str]) -> str:
    email, number = f"{local}@{domain}", 1
    while email in used:
        number += 1
        email = f"{local}{number}@{domain}"
    used.add(email)
    return email


def _unique_name(name: str, used: set[str]) -> str:
    """Key names are unique, so the Claude Code report's ``api_key_name`` names one key."""
    unique, number = name, 1
    while unique in used:
        number += 1
        unique = f"{name}-{number}"
    used.add(unique)
    return unique


def _plan_workspaces(plan: Plan, count: int) -> list[Draft]:
    spaces = [plan.add("workspace", plan.start, name="Default", default=True, archived=None)]
    archived = count // 8
    for index in range(count + archived):
        created = plan.moment(plan.start, ANCHOR - timedelta(days=30))
        gone = plan.moment(created, ANCHOR - timedelta(days=1)) if index >= count else None
        name = TEAMS[index % len(TEAMS)] + (
            "" if index < len(TEAMS) else f" {index // len(TEAMS) + 1}"
        )
        spaces.append(plan.add("workspace", created, name=name, default=False, archived=gone))
    return spaces


def _plan_invites(plan: Plan, members: list[Draft], count: int) -> None:
    rng = plan.rng
    for member in members[1:]:
        if rng.random() < 0.7:
            sent = max(plan.start, member.moment - timedelta(hours=rng.uniform(1, 120)))
            role = "developer" if member.fields["role"] == "admin" else member.fields["role"]
            plan.add(
                "invite", sent, email=member.fields["email"], role=role, accepted=member.moment
            )
    used = {str(m.fields["email"]) for m in members}
    _plan_open_invites(plan, used, max(2, count * 3 // 100), ANCHOR - timedelta(days=20))
    _plan_open_invites(plan, used, max(1, count * 2 // 100), ANCHOR - timedelta(days=120))


def _plan_open_invites(plan: Plan, used: set[str], count: int, since: datetime) -> None:
    """Unanswered invites sent after ``since``: still pending or already expired by ANCHOR."""
    rng = plan.rng
    until = since + (
        timedelta(days=20) if since > ANCHOR - timedelta(days=21) else timedelta(days=98)
    )
    for _ in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = _unique_email(f"{first}.{last}".lower(), plan.domain, used)
        role = rng.choices(("user", "developer", "claude_code_user", "billing"), (50, 30, 15, 5))[0]
        plan.add("invite", plan.moment(since, until), email=email, role=role, accepted=None)


def _plan_keys(plan: Plan, members: list[Draft], spaces: list[Draft], count: int) -> None:
    rng = plan.rng
    creators = [m for m in members if m.fields["role"] in ("developer", "admin")] or members
    for _ in range(count):
        creator, space = rng.choice(creators), _key_workspace(rng, spaces)
        low = max(creator.moment, space.moment)
        archived = space.fields["archived"]
        high = archived if isinstance(archived, datetime) else ANCHOR - timedelta(hours=1)
        created = plan.moment(low, max(low, high))
        plan.add(
            "api_key", created, creator=creator, workspace=space, status=_key_status(rng, space)
        )


def _key_workspace(rng: random.Random, spaces: list[Draft]) -> Draft:
    return spaces[0] if rng.random() < 0.25 or len(spaces) == 1 else rng.choice(spaces[1:])


def _key_status(rng: random.Random, space: Draft) -> str:
    if space.fields["archived"] is not None:
        return "archived"
    return rng.choices(("active", "inactive", "archived"), (80, 12, 8))[0]


_PREFIXES = {"user": "user_", "invite": "invite_", "workspace": "wrkspc_", "api_key": "apikey_"}


def _mint_ids(plan: Plan, store: Store) -> None:
    for draft in sorted(plan.drafts, key=lambda d: d.moment):
        draft.id = store.new_id(_PREFIXES[draft.kind], draft.moment)


def _fill(plan: Plan, store: Store, spaces: list[Draft], members: list[Draft]) -> None:
    key_names: set[str] = set()
    for draft in plan.drafts:
        if draft.kind == "workspace":
            store.insert_workspace(_workspace(draft, len(store.workspace_ids())))
        elif draft.kind == "user" and not draft.fields["former"]:
            store.insert_user(_user(draft))
        elif draft.kind == "invite":
            store.insert_invite(_invite(draft))
        elif draft.kind == "api_key":
            store.insert_api_key(_api_key(plan.rng, draft, key_names))
    _fill_members(plan.rng, store, spaces, members)


def _fill_members(
    rng: random.Random, store: Store, spaces: list[Draft], members: list[Draft]
) -> None:
    named = spaces[1:]
    if not named:
        return
    roles, weights = list(WORKSPACE_ROLE_WEIGHTS), list(WORKSPACE_ROLE_WEIGHTS.values())
    for member in members:
        role = member.fields["role"]
        if member.fields["former"] or role == "admin":
            continue
        if role == "billing":
            if rng.random() < 0.3:
                store.insert_member(rng.choice(named).id, member.id, "workspace_admin")
            continue
        for space in rng.sample(named, min(len(named), rng.choice((0, 1, 1, 1, 2, 2, 3)))):
            store.insert_member(space.id, member.id, rng.choices(roles, weights)[0])


def _fill_rate_limits(rng: random.Random, store: Store, spaces: list[Draft]) -> None:
    """About a third of the active named workspaces hold Sonnet below the organization's
    limits; the first two of them also cap their batch requests. Draws from an ``rng`` of its
    own, so the rest of the organization is what it was before overrides were seeded."""
    active = [s for s in spaces[1:] if s.fields["archived"] is None]
    for count, space in enumerate(active[::3]):
        sonnet = {"output_tokens_per_minute": 800_000 * rng.choice((1, 2, 3)) // 8}
        if rng.random() < 0.5:
            sonnet["requests_per_minute"] = 4000 * rng.choice((1, 2, 3)) // 4
        store.rate_limits.set_overrides(space.id, SONNET_4_GROUP_ID, sonnet)
        if count < 2:
            batch = {"requests_per_minute": rng.choice((100, 250, 500))}
            store.rate_limits.set_overrides(space.id, BATCH_GROUP_ID, batch)


def _user(draft: Draft) -> User:
    f = draft.fields
    return User(
        draft.id, str(f["email"]), str(f["name"]), str(f["role"]), format_time(draft.moment)
    )


def _invite(draft: Draft) -> Invite:
    f, accepted = draft.fields, draft.fields["accepted"]
    return Invite(
        id=draft.id,
        email=str(f["email"]),
        role=str(f["role"]),
        invited_at=format_time(draft.moment),
        expires_at=format_time(draft.moment + INVITE_LIFETIME),
        accepted_at=format_time(accepted) if isinstance(accepted, datetime) else None,
    )


def _workspace(draft: Draft, index: int) -> Workspace:
    f, archived = draft.fields, draft.fields["archived"]
    return Workspace(
        id=draft.id,
        name=str(f["name"]),
        created_at=format_time(draft.moment),
        display_color=PALETTE[index % len(PALETTE)],
        archived_at=format_time(archived) if isinstance(archived, datetime) else None,
        is_default=bool(f["default"]),
    )


def _api_key(rng: random.Random, draft: Draft, used: set[str]) -> ApiKey:
    creator, space = draft.fields["creator"], draft.fields["workspace"]
    assert isinstance(creator, Draft)
    assert isinstance(space, Draft)
    hint = (
        "".join(rng.choice(_HINT) for _ in range(3)),
        "".join(rng.choice(_HINT) for _ in range(4)),
    )
    expires = draft.moment + timedelta(days=90) if rng.random() < 0.1 else None
    label = rng.choice(KEY_NAMES)
    return ApiKey(
        id=draft.id,
        name=_unique_name(f"{str(creator.fields['name']).split()[0].lower()}-{label}", used),
        workspace_id=space.id,
        created_by=creator.id,
        created_at=format_time(draft.moment),
        status=str(draft.fields["status"]),
        partial_key_hint=f"sk-ant-api03-{hint[0]}...{hint[1]}",
        expires_at=None if expires is None else format_time(expires),
    )
