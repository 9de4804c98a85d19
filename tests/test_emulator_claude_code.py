"""The emulator's Claude Code usage report (admin-api.md §13), and how it agrees with the
messages report grouped by account and by API key (§12), in the sandbox's Tinyco and in seeded
organizations."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from roster.emulator.app import create_app
from roster.emulator.claude_code import page_token
from roster.emulator.clock import Clock
from roster.emulator.pagination import Cursor
from roster.emulator.records import User
from roster.emulator.sample import SAMPLE_NOW, sample_store
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.emulator.store import Store
from roster.emulator.transport import client_for

pytestmark = pytest.mark.anyio

HEADERS = {"x-api-key": "sk-ant-admin01-claude_code_test_0001", "anthropic-version": "2023-06-01"}
ORG = "/v1/organizations"
CLAUDE_CODE = f"{ORG}/usage_report/claude_code"
MESSAGES = f"{ORG}/usage_report/messages"
NOW = datetime(2026, 11, 18, 15, 30, tzinfo=timezone.utc)
TODAY = SAMPLE_NOW.date()  # 2026-11-02, Tinyco's clock
WINDOW = [TODAY - timedelta(days=back) for back in range(90, -1, -1)]  # the last 90 days, today


@pytest.fixture
def tinyco() -> Starlette:
    return create_app(sample_store())


@pytest.fixture
def seeded() -> Starlette:
    store = generate(200, seed=5)
    store.clock.set_now(NOW)
    return create_app(store)


@pytest.fixture
async def api(tinyco: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(tinyco, headers=HEADERS) as client:
        yield client


async def day_of(api: httpx.AsyncClient, day: date, **params: Any) -> dict[str, Any]:
    response = await api.get(CLAUDE_CODE, params={"starting_at": day.isoformat(), **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def records_of(api: httpx.AsyncClient, day: date) -> list[dict[str, Any]]:
    body = await day_of(api, day, limit=1000)
    assert not body["has_more"]
    records: list[dict[str, Any]] = body["data"]
    return records


def actor_of(record: dict[str, Any]) -> str:
    actor = record["actor"]
    return str(actor.get("email_address") or actor.get("api_key_name"))


def tokens_of(records: list[dict[str, Any]]) -> int:
    return sum(sum(m["tokens"].values()) for r in records for m in r["model_breakdown"])


async def messages_by(api: httpx.AsyncClient, dimension: str, days: list[date]) -> dict[str, Any]:
    """{dimension value: {day: tokens}} from the messages report over ``days``, by day."""
    seen: dict[str, dict[date, int]] = defaultdict(dict)
    params: dict[str, Any] = {
        "starting_at": f"{days[0]}T00:00:00Z",
        "ending_at": f"{days[-1] + timedelta(days=1)}T00:00:00Z",
        "bucket_width": "1d",
        "limit": 31,
        "group_by[]": dimension,
    }
    while True:
        body = (await api.get(MESSAGES, params=params)).json()
        for bucket in body["data"]:
            day = date.fromisoformat(bucket["starting_at"][:10])
            for row in bucket["results"]:
                if row[dimension] is not None:
                    seen[row[dimension]][day] = message_tokens(row)
        if not body["has_more"]:
            return seen
        params["page"] = body["next_page"]


def message_tokens(row: dict[str, Any]) -> int:
    cache = row["cache_creation"]
    return int(
        row["uncached_input_tokens"]
        + row["cache_read_input_tokens"]
        + cache["ephemeral_1h_input_tokens"]
        + cache["ephemeral_5m_input_tokens"]
        + row["output_tokens"]
    )


async def claude_code_by_actor(api: httpx.AsyncClient, days: list[date]) -> dict[str, Any]:
    """{email or key name: {day: tokens}} from the Claude Code report over ``days``."""
    seen: dict[str, dict[date, int]] = defaultdict(dict)
    for day in days:
        for record in await records_of(api, day):
            seen[actor_of(record)][day] = tokens_of([record])
    return seen


# --- shape and validation -----------------------------------------------------------------------


async def test_a_day_has_members_and_keys_in_the_documented_shape(api: httpx.AsyncClient) -> None:
    body = await day_of(api, date(2026, 10, 22))
    assert set(body) == {"data", "has_more", "next_page"}
    assert (body["has_more"], body["next_page"]) == (False, None)
    records = body["data"]
    assert [actor_of(r) for r in records] == [
        "barbara@tinyco.io",
        "intern@tinyco.io",
        "production-linus",
        "research-intern",
    ]
    assert records[0]["actor"] == {"type": "user_actor", "email_address": "barbara@tinyco.io"}
    assert records[2]["actor"] == {"type": "api_actor", "api_key_name": "production-linus"}
    for record in records:
        assert set(record) == {
            "date",
            "actor",
            "organization_id",
            "customer_type",
            "subscription_type",
            "terminal_type",
            "is_remote",
            "core_metrics",
            "tool_actions",
            "model_breakdown",
        }
        assert record["date"] == "2026-10-22T00:00:00Z"
        assert record["organization_id"] == "7b0c3f0e-5a1d-4c2e-9f3b-1d2e3f4a5b6c"
        assert (record["customer_type"], record["subscription_type"]) == ("api", None)
        assert isinstance(record["terminal_type"], str)
        assert isinstance(record["is_remote"], bool)
        metrics = record["core_metrics"]
        assert set(metrics) == {
            "num_sessions",
            "lines_of_code",
            "commits_by_claude_code",
            "pull_requests_by_claude_code",
        }
        assert metrics["num_sessions"] >= 1
        assert set(metrics["lines_of_code"]) == {"added", "removed"}
        assert metrics["pull_requests_by_claude_code"] <= metrics["commits_by_claude_code"]
        assert set(record["tool_actions"]) == {
            "edit_tool",
            "multi_edit_tool",
            "write_tool",
            "notebook_edit_tool",
        }
        for actions in record["tool_actions"].values():
            assert set(actions) == {"accepted", "rejected"}
            assert 0 <= actions["rejected"] <= actions["accepted"] or actions["accepted"] == 0
        for model in record["model_breakdown"]:
            assert set(model) == {"model", "tokens", "estimated_cost"}
            assert model["model"].startswith("claude-")
            assert set(model["tokens"]) == {"input", "output", "cache_read", "cache_creation"}
            assert model["tokens"]["input"] > 0
            cost = model["estimated_cost"]
            assert cost["currency"] == "USD"
            assert isinstance(cost["amount"], int)
            assert cost["amount"] >= 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, None),
        ({"starting_at": "2026-10-23T00:00:00Z"}, None),
        ({"starting_at": "2026-13-01"}, None),
        ({"starting_at": "2026-02-30"}, None),
        ({"starting_at": "26-10-23"}, None),
        ({"starting_at": "yesterday"}, None),
        ({"starting_at": "2026-10-23", "limit": 0}, None),
        ({"starting_at": "2026-10-23", "limit": 1001}, None),
        ({"starting_at": "2026-10-23", "limit": "many"}, None),
        ({"starting_at": "2026-10-23", "page": "page_!!!"}, "invalid_page_token"),
        ({"starting_at": "2026-10-23", "page": "nope"}, "invalid_page_token"),
        (
            {"starting_at": "2026-10-23", "page": page_token(date(2026, 10, 22), 2)},
            "invalid_page_token",
        ),
    ],
)
async def test_bad_requests_are_400s(
    api: httpx.AsyncClient, params: dict[str, Any], code: str | None
) -> None:
    response = await api.get(CLAUDE_CODE, params=params)
    body = response.json()
    assert response.status_code == 400, body
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"].get("details", {}).get("error_code") == code


async def test_limit_bounds_and_default(seeded: Starlette) -> None:
    async with client_for(seeded, headers=HEADERS) as api:
        day = await busy_day(api)
        whole = await records_of(api, day)
        assert len(whole) > 20
        default = await day_of(api, day)
        assert default["data"] == whole[:20]
        assert default["has_more"]
        one = await day_of(api, day, limit=1)
        assert one["data"] == whole[:1]
        most = await day_of(api, day, limit=1000)
        assert most["data"] == whole


async def busy_day(api: httpx.AsyncClient) -> date:
    """The first day of October 2026 with a good many records in the seeded organization."""
    for offset in range(31):
        day = date(2026, 10, 1) + timedelta(days=offset)
        if len(await records_of(api, day)) > 40:
            return day
    raise AssertionError("no busy day in October")


# --- paging -----------------------------------------------------------------------------------


async def walk(api: httpx.AsyncClient, day: date, limit: int) -> tuple[list[Any], int]:
    """Every record of ``day``, a page of ``limit`` at a time, and how many requests it took."""
    records: list[Any] = []
    params: dict[str, Any] = {"starting_at": day.isoformat(), "limit": limit}
    requests = 0
    while True:
        body = (await api.get(CLAUDE_CODE, params=params)).json()
        requests += 1
        records += body["data"]
        assert len(body["data"]) <= limit
        assert (body["next_page"] is None) == (not body["has_more"])
        if not body["has_more"]:
            return records, requests
        params["page"] = body["next_page"]


async def test_paging_in_process_returns_every_record_once(seeded: Starlette) -> None:
    async with client_for(seeded, headers=HEADERS) as api:
        day = await busy_day(api)
        whole = await records_of(api, day)
        paged, requests = await walk(api, day, 2)
    assert paged == whole
    assert requests == (len(whole) + 1) // 2
    assert len({actor_of(r) for r in paged}) == len(paged)


def test_paging_over_http_returns_every_record_once(seeded: Starlette) -> None:
    async def scenario(base_url: str) -> tuple[list[Any], list[Any], int]:
        async with httpx.AsyncClient(base_url=base_url, headers=HEADERS) as api:
            day = await busy_day(api)
            whole = await records_of(api, day)
            httpx.delete(f"{base_url}/_emulator/requests")
            paged, requests = await walk(api, day, 2)
            logged = httpx.get(f"{base_url}/_emulator/requests").json()
            counted = logged["counters"]["by_route"][f"GET {CLAUDE_CODE}"]
            assert counted == requests
            return whole, paged, requests

    with running_server(seeded) as base_url:
        whole, paged, requests = asyncio.run(scenario(base_url))
    assert paged == whole
    assert requests == (len(whole) + 1) // 2
    assert len({actor_of(r) for r in paged}) == len(whole) > 40


# --- determinism and freshness ------------------------------------------------------------------


async def test_the_same_state_and_day_give_the_same_bytes() -> None:
    async def answers(store: Store) -> list[bytes]:
        async with client_for(create_app(store), headers=HEADERS) as api:
            days = [date(2026, 10, 20) + timedelta(days=n) for n in range(10)]
            return [
                (await api.get(CLAUDE_CODE, params={"starting_at": d.isoformat()})).content
                for d in days
            ]

    first = await answers(sample_store())
    assert first == await answers(sample_store())
    assert first == await answers(Store.from_json(json.loads(sample_store().dumps())))
    assert await answers(generate(80, seed=3)) == await answers(generate(80, seed=3))
    assert await answers(generate(80, seed=3)) != await answers(generate(80, seed=4))


async def test_a_day_is_served_once_more_than_an_hour_of_it_has_passed() -> None:
    store = sample_store()
    async with client_for(create_app(store), headers=HEADERS) as api:
        yesterday, today = date(2026, 11, 1), date(2026, 11, 2)
        store.clock.set_now(datetime(2026, 11, 2, 0, 30, tzinfo=timezone.utc))
        assert (await day_of(api, today))["data"] == []
        before = await records_of(api, yesterday)
        assert before
        store.clock.set_now(datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc))
        assert (await day_of(api, today))["data"] == []
        store.clock.set_now(datetime(2026, 11, 2, 1, 0, 1, tzinfo=timezone.utc))
        served = await records_of(api, today)
        assert served
        store.clock.set_now(datetime(2026, 11, 5, tzinfo=timezone.utc))
        assert await records_of(api, today) == served  # the day answers whole, at once
        assert await records_of(api, yesterday) == before
        future = await day_of(api, date(2026, 11, 6))
    assert future == {"data": [], "has_more": False, "next_page": None}


# --- agreement with the messages report ---------------------------------------------------------


async def test_claude_code_and_messages_agree_day_by_day(api: httpx.AsyncClient) -> None:
    claude_code = await claude_code_by_actor(api, WINDOW)
    by_account = await messages_by(api, "account_id", WINDOW)
    by_key = await messages_by(api, "api_key_id", WINDOW)
    store = sample_store()
    emails = {u.id: u.email for u in store.list_users(Cursor(limit=1000))[0]}
    names = {k.id: k.name for k in store.api_keys()}
    from_messages = {emails[uid]: days for uid, days in by_account.items()}
    from_messages |= {names[kid]: days for kid, days in by_key.items()}
    assert claude_code == from_messages  # the same actors, days and tokens
    assert set(claude_code) == {
        "ada@tinyco.io",
        "barbara@tinyco.io",
        "intern@tinyco.io",
        "linus@tinyco.io",
        "margaret@tinyco.io",
        "production-linus",
        "prototype-grace",
        "research-intern",
    }


async def test_last_active_from_either_report_agrees_in_a_seeded_organization(
    seeded: Starlette,
) -> None:
    store: Store = seeded.state.store
    days = [date(2026, 10, 19) + timedelta(days=n) for n in range(31)]
    async with client_for(seeded, headers=HEADERS) as api:
        claude_code = await claude_code_by_actor(api, days)
        by_account = await messages_by(api, "account_id", days)
        by_key = await messages_by(api, "api_key_id", days)
    users = store.list_users(Cursor(limit=1000))[0]
    keys = store.api_keys()
    names = {k.name for k in keys}
    assert len(names) == len(keys)  # so a key name names one key
    for user in users:
        own = [k for k in keys if k.created_by == user.id]
        via_claude_code = [claude_code.get(user.email, {})] + [
            claude_code.get(k.name, {}) for k in own
        ]
        via_messages = [by_account.get(user.id, {})] + [by_key.get(k.id, {}) for k in own]
        assert via_claude_code == via_messages, user.email
        assert last_day(via_claude_code) == last_day(via_messages)
    active = sum(1 for user in users if user.email in claude_code)
    assert len(users) * 0.5 < active < len(users)  # most members, not all


def last_day(day_maps: list[dict[date, int]]) -> date | None:
    return max((day for days in day_maps for day in days), default=None)


async def test_account_grouping_moves_no_total(seeded: Starlette) -> None:
    params: dict[str, Any] = {"starting_at": "2026-10-18T00:00:00Z", "limit": 31}
    async with client_for(seeded, headers=HEADERS) as api:
        plain = (await api.get(MESSAGES, params=params)).json()
        grouped = (await api.get(MESSAGES, params={**params, "group_by[]": "account_id"})).json()
        both = (
            await api.get(MESSAGES, params={**params, "group_by[]": ["account_id", "api_key_id"]})
        ).json()
        hourly = {"starting_at": "2026-10-20T00:00:00Z", "bucket_width": "1h", "limit": 48}
        hours = (await api.get(MESSAGES, params=hourly)).json()
        hours_by_account = (
            await api.get(MESSAGES, params={**hourly, "group_by[]": "account_id"})
        ).json()
        one = next(
            r["account_id"] for b in grouped["data"] for r in b["results"] if r["account_id"]
        )
        only = (await api.get(MESSAGES, params={**params, "account_ids[]": one})).json()
        mine = (
            await api.get(
                MESSAGES, params={**params, "account_ids[]": one, "group_by[]": "account_id"}
            )
        ).json()
    for body in (grouped, both):
        assert day_totals(body) == day_totals(plain)
    assert day_totals(hours_by_account) == day_totals(hours)
    rows = [r for b in both["data"] for r in b["results"]]
    assert all(r["account_id"] is None or r["api_key_id"] is None for r in rows)
    assert all(r["service_account_id"] is None for r in rows)
    assert any(r["account_id"] for r in rows)
    assert any(r["api_key_id"] for r in rows)
    assert day_totals(only) == day_totals(mine)
    assert {r["account_id"] for b in mine["data"] for r in b["results"]} == {one}


def day_totals(body: dict[str, Any]) -> list[int]:
    return [sum(message_tokens(r) for r in b["results"]) for b in body["data"]]


# --- who is active ----------------------------------------------------------------------------


async def test_tinyco_has_idle_members_old_keys_and_an_unused_one(api: httpx.AsyncClient) -> None:
    claude_code = await claude_code_by_actor(api, WINDOW)
    by_account = await messages_by(api, "account_id", WINDOW)
    by_key = await messages_by(api, "api_key_id", WINDOW)
    users = (await api.get(f"{ORG}/users", params={"limit": 100})).json()["data"]
    keys = (await api.get(f"{ORG}/api_keys", params={"limit": 100})).json()["data"]
    by_email = {u["email"]: u for u in users}
    creators = {k["id"]: k["created_by"]["id"] for k in keys}

    def active_ids(user_id: str) -> set[str]:
        return {kid for kid, uid in creators.items() if uid == user_id and kid in by_key}

    idle = sorted(
        u["email"]
        for u in users
        if u["id"] not in by_account and u["email"] not in claude_code and not active_ids(u["id"])
    )
    assert idle == ["edsger@tinyco.io", "frances@tinyco.io"]
    for email in idle:
        assert by_email[email]["added_at"] < f"{TODAY - timedelta(days=90)}"  # joined long before
    assert by_email["frances@tinyco.io"]["role"] == "billing"

    named = {k["name"]: k for k in keys}
    old = named["prototype-grace"]
    assert (old["status"], old["workspace_id"], old["created_at"][:10]) == (
        "active",
        None,
        "2026-04-20",
    )
    assert old["created_by"]["id"] == by_email["grace@tinyco.io"]["id"]
    assert (TODAY - date.fromisoformat(old["created_at"][:10])).days > 90
    assert max(by_key[old["id"]]) == date(2026, 8, 20)  # nothing in the last 60 days
    assert (TODAY - max(by_key[old["id"]])).days > 60
    for name in ("production-linus", "research-intern"):
        assert max(by_key[named[name]["id"]]) == TODAY  # used today
    assert "traffic_until" not in old  # the emulator's own field, never shown
    last_active = {actor: max(days) for actor, days in claude_code.items()}
    assert last_active["margaret@tinyco.io"] == date(2026, 9, 26)
    for name in ("ada", "barbara", "intern", "linus"):
        assert (TODAY - last_active[f"{name}@tinyco.io"]).days < 14
    # Grace uses Claude only through her old key: idle for 60 days, not for 90.
    assert by_email["grace@tinyco.io"]["id"] not in by_account
    assert max(claude_code["prototype-grace"]) == date(2026, 8, 20)


async def test_nobody_is_active_before_joining_and_billing_never_is(seeded: Starlette) -> None:
    store: Store = seeded.state.store
    days = [date(2026, 9, 1) + timedelta(days=n) for n in range(60)]
    async with client_for(seeded, headers=HEADERS) as api:
        by_account = await messages_by(api, "account_id", days)
    users = {u.id: u for u in store.list_users(Cursor(limit=1000))[0]}
    for user_id, active in by_account.items():
        joined = date.fromisoformat(users[user_id].added_at[:10])
        assert min(active) >= joined
        assert users[user_id].role != "billing"
    per_role: dict[str, list[int]] = defaultdict(list)
    for user in users.values():
        if user.added_at[:10] < "2026-09-01":
            per_role[user.role].append(len(by_account.get(user.id, {})))
    average = {role: sum(n) / len(n) for role, n in per_role.items()}
    assert average["claude_code_user"] > average["user"]
    assert average["developer"] > average["user"]
    assert average["billing"] == 0
    assert any(n == 0 for n in per_role["user"] + per_role["developer"])  # some never


async def test_a_new_member_is_active_from_the_day_they_join() -> None:
    store = Store(Clock.frozen(NOW))
    joined = datetime(2026, 10, 10, 12, tzinfo=timezone.utc)
    for index in range(40):
        user_id = store.new_id("user_")
        added = joined.isoformat().replace("+00:00", ".000000Z")
        store.insert_user(
            User(user_id, f"dev{index}@example.org", "Dev", "claude_code_user", added)
        )
    async with client_for(create_app(store), headers=HEADERS) as api:
        days = [date(2026, 10, 1) + timedelta(days=n) for n in range(31)]
        claude_code = await claude_code_by_actor(api, days)
    first = min(
        day for actor, seen in claude_code.items() if actor.startswith("dev") for day in seen
    )
    assert first >= date(2026, 10, 10)
    assert sum(1 for actor in claude_code if actor.startswith("dev")) > 20


async def test_a_removed_member_leaves_both_reports_and_nobody_else_moves(
    tinyco: Starlette,
) -> None:
    store: Store = tinyco.state.store
    async with client_for(tinyco, headers=HEADERS) as api:
        before = await claude_code_by_actor(api, WINDOW)
        totals = day_totals(
            (
                await api.get(MESSAGES, params={"starting_at": "2026-10-01T00:00:00Z", "limit": 31})
            ).json()
        )
        intern = store.user_by_email("intern@tinyco.io")
        assert intern is not None
        assert (await api.delete(f"{ORG}/users/{intern.id}")).status_code == 200
        after = await claude_code_by_actor(api, WINDOW)
        by_account = await messages_by(api, "account_id", WINDOW)
        totals_after = day_totals(
            (
                await api.get(MESSAGES, params={"starting_at": "2026-10-01T00:00:00Z", "limit": 31})
            ).json()
        )
    assert "intern@tinyco.io" in before
    assert "intern@tinyco.io" not in after
    assert intern.id not in by_account
    assert after["research-intern"] == before["research-intern"]  # the key stays, and its traffic
    assert {a: set(d) for a, d in after.items()} == {
        a: set(d) for a, d in before.items() if a != "intern@tinyco.io"
    }
    assert totals_after == totals


async def test_a_key_renamed_is_renamed_in_the_report_and_its_traffic_can_stop() -> None:
    store = sample_store()
    key = next(k for k in store.api_keys() if k.name == "production-linus")
    async with client_for(create_app(store), headers=HEADERS) as api:
        renamed = await api.post(f"{ORG}/api_keys/{key.id}", json={"name": "prod-linus"})
        assert renamed.status_code == 200
        names = {actor_of(r) for r in await records_of(api, date(2026, 10, 28))}
        assert "prod-linus" in names
        assert "production-linus" not in names
    state = json.loads(store.dumps())
    for item in state["api_keys"]:
        if item["id"] == key.id:
            item["traffic_until"] = "2026-10-20T00:00:00.000000Z"
    stopped = Store.from_json(state)
    async with client_for(create_app(stopped), headers=HEADERS) as api:
        by_key = await messages_by(api, "api_key_id", WINDOW)
    assert by_key[key.id]
    assert max(by_key[key.id]) < date(2026, 10, 20)
    saved = json.loads(stopped.dumps())
    assert [k.get("traffic_until") for k in saved["api_keys"] if k["id"] == key.id] == [
        "2026-10-20T00:00:00.000000Z"
    ]
