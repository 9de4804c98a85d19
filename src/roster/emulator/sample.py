"""The sample organization the ``--sandbox`` starts from: Tinyco, before its roster file is applied.

It differs from ``examples/startup/roster.yaml`` in every way a plan can show: invites, a
re-invite, a role change, removals, a change only the Console can make, workspace changes, a
member waiting for their invite, and the API key of a member being removed. Production and
Research have rate-limit overrides. Its usage shows what governance looks for: Frances (billing)
and Edsger have used nothing since they joined, Grace only ever used her prototype key, and that
key, created in April and still active, has had no traffic since August 20.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from roster.emulator.clock import Clock, format_time
from roster.emulator.rate_limits import BATCH_GROUP_ID, OPUS_4_GROUP_ID, SONNET_4_GROUP_ID
from roster.emulator.records import ApiKey, Invite, User, Workspace
from roster.emulator.store import Store

TINYCO_ID = "7b0c3f0e-5a1d-4c2e-9f3b-1d2e3f4a5b6c"
SAMPLE_NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
SAMPLE_MEMBERS = (
    ("ada@tinyco.io", "Ada Lovelace", "admin"),
    ("grace@tinyco.io", "Grace Hopper", "developer"),
    ("linus@tinyco.io", "Linus Torvalds", "developer"),
    ("margaret@tinyco.io", "Margaret Hamilton", "user"),
    ("barbara@tinyco.io", "Barbara Liskov", "claude_code_user"),
    ("frances@tinyco.io", "Frances Allen", "billing"),
    ("edsger@tinyco.io", "Edsger Dijkstra", "user"),
    ("intern@tinyco.io", "Summer Intern", "developer"),
)
# (email, role, days before SAMPLE_NOW it was sent): 30 days ago means expired.
SAMPLE_INVITES = (
    ("ken@tinyco.io", "user", 3),
    ("alan@tinyco.io", "user", 30),
    ("contractor@agency.example", "developer", 5),
)
# (workspace, its members with their workspace roles): each member also created one API key there.
SAMPLE_WORKSPACES = (
    ("Production", (("linus@tinyco.io", "workspace_developer"),)),
    ("Research", (("intern@tinyco.io", "workspace_developer"),)),
)
# (name, creator, created, last day of traffic): an old key in the Default workspace that
# nobody has used for weeks; it is still active.
SAMPLE_OLD_KEY = (
    "prototype-grace",
    "grace@tinyco.io",
    datetime(2026, 4, 20, 9, 0, tzinfo=timezone.utc),
    datetime(2026, 8, 21, tzinfo=timezone.utc),
)
# (workspace, group id, its overrides): below the organization's limits, as a team's budget.
SAMPLE_RATE_LIMITS = (
    (
        "Production",
        SONNET_4_GROUP_ID,
        {"output_tokens_per_minute": 300_000, "requests_per_minute": 2000},
    ),
    ("Production", BATCH_GROUP_ID, {"requests_per_minute": 100}),
    ("Research", OPUS_4_GROUP_ID, {"output_tokens_per_minute": 40_000}),
)


def sample_store() -> Store:
    """Tinyco as it stands before its roster file is applied."""
    clock = Clock.frozen(SAMPLE_NOW)
    store = Store(clock, organization_id=TINYCO_ID, organization_name="Tinyco", bootstrap=False)
    founded = SAMPLE_NOW - timedelta(days=400)
    store.insert_workspace(_workspace(store, "Default", founded, is_default=True))
    users = {
        email: _user(store, email, name, role, founded) for email, name, role in SAMPLE_MEMBERS
    }
    for email, role, days in SAMPLE_INVITES:
        store.insert_invite(_invite(store, email, role, SAMPLE_NOW - timedelta(days=days)))
    workspace_ids: dict[str, str] = {}
    for index, (name, members) in enumerate(SAMPLE_WORKSPACES, start=1):
        workspace = _workspace(store, name, founded + timedelta(days=index))
        store.insert_workspace(workspace)
        workspace_ids[name] = workspace.id
        for email, role in members:
            store.insert_member(workspace.id, users[email].id, role)
            key_name = f"{name.lower()}-{email.split('@')[0]}"
            store.insert_api_key(_api_key(store, key_name, workspace, users[email]))
    # Minted after every other object, so that their ids are what they were before it came.
    store.insert_api_key(_old_key(store, users, store.get_workspace(store.default_workspace_id)))
    for name, group_id, limits in SAMPLE_RATE_LIMITS:
        store.rate_limits.set_overrides(workspace_ids[name], group_id, limits)
    return store


def _user(store: Store, email: str, name: str, role: str, moment: datetime) -> User:
    user = User(store.new_id("user_", moment), email, name, role, format_time(moment))
    store.insert_user(user)
    return user


def _invite(store: Store, email: str, role: str, sent: datetime) -> Invite:
    expires = sent + timedelta(days=21)
    return Invite(
        store.new_id("invite_", sent), email, role, format_time(sent), format_time(expires)
    )


def _workspace(store: Store, name: str, moment: datetime, *, is_default: bool = False) -> Workspace:
    workspace_id = store.new_id("wrkspc_", moment)
    return Workspace(workspace_id, name, format_time(moment), "#6C5BB9", is_default=is_default)


def _old_key(store: Store, users: dict[str, User], workspace: Workspace) -> ApiKey:
    name, email, created, traffic_until = SAMPLE_OLD_KEY
    return ApiKey(
        id=store.new_id("apikey_", created),
        name=name,
        workspace_id=workspace.id,
        created_by=users[email].id,
        created_at=format_time(created),
        status="active",
        partial_key_hint="sk-ant-api03-Tny...pr0t",
        traffic_until=format_time(traffic_until),
    )


def _api_key(store: Store, name: str, workspace: Workspace, creator: User) -> ApiKey:
    created = SAMPLE_NOW - timedelta(days=30)
    return ApiKey(
        id=store.new_id("apikey_", created),
        name=name,
        workspace_id=workspace.id,
        created_by=creator.id,
        created_at=format_time(created),
        status="active",
        partial_key_hint="sk-ant-api03-Tny...k3yA",
    )
