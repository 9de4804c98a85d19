"""The emulator's strict mode: requests checked against each route's contract (admin-api.md)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from roster.emulator.api_routes import ApiRoute, api_routes
from roster.emulator.app import create_app
from roster.emulator.control import Control, watch_controls
from roster.emulator.records import ApiKey
from roster.emulator.server import running_server
from roster.emulator.store import Store
from roster.emulator.strict import STRICT_ENV, strict_by_default
from roster.emulator.transport import client_for

pytestmark = pytest.mark.anyio

HEADERS = {"x-api-key": "sk-ant-admin01-test_key_0123456789", "anthropic-version": "2023-06-01"}
ORG = "/v1/organizations"


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def app(store: Store) -> Starlette:
    return create_app(store, control=Control(strict=True))


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, headers=HEADERS) as client:
        yield client


async def violations(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    """The violations recorded so far, cleared (the suite fails a test that leaves any)."""
    found: list[dict[str, Any]] = (await api.get("/_emulator/violations")).json()["violations"]
    assert (await api.delete("/_emulator/violations")).json() == {"cleared": True}
    return found


async def problems(api: httpx.AsyncClient) -> list[str]:
    return [violation["problem"] for violation in await violations(api)]


def test_every_api_route_states_its_contract() -> None:
    routes = api_routes()
    assert routes
    assert all(isinstance(route, ApiRoute) for route in routes)


def test_strict_mode_comes_from_the_environment() -> None:
    assert strict_by_default({STRICT_ENV: "1"})
    assert strict_by_default({STRICT_ENV: "true"})
    assert not strict_by_default({STRICT_ENV: "0"})
    assert not strict_by_default({})
    assert not Control(strict=False).strict


def test_watched_controls_are_every_control_created() -> None:
    with watch_controls() as created:
        app = create_app()
    assert created == [app.state.control]


async def test_bare_array_parameter_is_one_violation_naming_the_bracket_form(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get(f"{ORG}/users", params=[("roles", "admin"), ("roles", "user")])
    assert [u["role"] for u in response.json()["data"]] == ["admin"]  # answered as before
    [violation] = await violations(api)
    assert violation == {
        "method": "GET",
        "path": f"{ORG}/users",
        "problem": "query parameter 'roles' is an array: send it as roles[]=...",
        "request_id": response.headers["request-id"],
    }


async def test_clean_requests_leave_no_violation(api: httpx.AsyncClient, store: Store) -> None:
    user_id = (await api.get(f"{ORG}/users")).json()["data"][0]["id"]
    page = {"limit": "5", "after_id": "a"}
    await api.get(f"{ORG}/users", params={**page, "email": "x@example.com", "roles[]": ["user"]})
    invite = await api.post(
        f"{ORG}/invites", json={"email": "a@example.org", "role": "user", "rbac_group_ids": []}
    )
    await api.get(f"{ORG}/invites", params={"before_id": "z", "statuses[]": ["pending"]})
    await api.delete(f"{ORG}/invites/{invite.json()['id']}")
    workspace_id = (
        await api.post(f"{ORG}/workspaces", json={"name": "W", "display_color": "#000000"})
    ).json()["id"]
    await api.post(f"{ORG}/workspaces/{workspace_id}", json={"name": "V", "tags": {"a": None}})
    flags = {"include_archived": "true", "include_default": "false", "ids[]": [workspace_id]}
    await api.get(f"{ORG}/workspaces", params=flags)
    members = f"{ORG}/workspaces/{workspace_id}/members"
    await api.get(members, params={"limit": "1"})
    await api.get(f"{members}/{user_id}")
    await api.post(f"{ORG}/workspaces/{workspace_id}/archive")
    await api.get(f"{ORG}/api_keys", params={"status": "active", "created_by_user_id": user_id})
    report = {"starting_at": "2026-11-01T00:00:00Z", "group_by[]": ["workspace_id"]}
    await api.get(f"{ORG}/cost_report", params=report)
    await api.get(f"{ORG}/usage_report/messages", params={**report, "models[]": "m"})
    await api.delete(f"{ORG}/users/{user_id}")
    assert await violations(api) == []


@pytest.mark.parametrize(
    ("path", "params", "problem"),
    [
        ("users", {"colour": "red"}, "unknown query parameter 'colour'"),
        ("users", {"statuses[]": "pending"}, "unknown query parameter 'statuses[]'"),
        ("invites", {"statuses": "pending"}, "query parameter 'statuses' is an array: send it"),
        ("workspaces", {"ids": "w"}, "query parameter 'ids' is an array: send it as ids[]=..."),
        ("workspaces", [("limit", "1"), ("limit", "2")], "query parameter 'limit' is given 2"),
        ("api_keys", {"email": "a@b.co"}, "unknown query parameter 'email'"),
        ("me", {"limit": "1"}, "unknown query parameter 'limit'"),
        ("cost_report", {"starting_at": "2026-11-01T00:00:00Z", "models[]": "m"}, "unknown query"),
        (
            "usage_report/messages",
            {"starting_at": "2026-11-01", "group_by": "model"},
            "query parameter 'group_by' is an",
        ),
    ],
)
async def test_query_violations(
    api: httpx.AsyncClient, path: str, params: Any, problem: str
) -> None:
    await api.get(f"{ORG}/{path}", params=params)
    [found] = await problems(api)
    assert found.startswith(problem)


async def test_body_violations(api: httpx.AsyncClient, store: Store) -> None:
    user_id = (await api.get(f"{ORG}/users")).json()["data"][0]["id"]
    body = {"email": "a@example.org", "role": "user", "name": "Ann"}
    created = await api.post(f"{ORG}/invites", json=body)
    assert created.status_code == 200  # answered as before
    assert await problems(api) == ["unknown body field 'name'"]
    await api.post(f"{ORG}/users/{user_id}", content=b'{"role": "user"}')
    assert await problems(api) == ["body sent with content-type none, not application/json"]
    await api.post(
        f"{ORG}/users/{user_id}",
        content=b'{"role": "user"}',
        headers={"content-type": "text/plain"},
    )
    assert await problems(api) == ["body sent with content-type 'text/plain', not application/json"]
    charset = {"content-type": "application/json; charset=utf-8"}
    await api.post(f"{ORG}/users/{user_id}", content=b'{"role": "user"}', headers=charset)
    assert await problems(api) == []
    await api.post(f"{ORG}/users/{user_id}", json=["user"])
    assert await problems(api) == ["the body is not a JSON object"]


async def test_a_body_where_none_is_taken(api: httpx.AsyncClient, store: Store) -> None:
    workspace_id = (await api.post(f"{ORG}/workspaces", json={"name": "W"})).json()["id"]
    archived = await api.post(f"{ORG}/workspaces/{workspace_id}/archive", json={})
    assert archived.json()["archived_at"] is not None
    await api.request("GET", f"{ORG}/me", json={"x": 1})
    invite = await api.post(f"{ORG}/invites", json={"email": "a@example.org", "role": "user"})
    await api.request("DELETE", f"{ORG}/invites/{invite.json()['id']}", json={})
    found = await violations(api)
    assert [(v["method"], v["problem"]) for v in found] == [
        ("POST", "this request takes no body"),
        ("GET", "this request takes no body"),
        ("DELETE", "this request takes no body"),
    ]
    assert found[0]["path"] == f"{ORG}/workspaces/{workspace_id}/archive"


async def test_member_and_key_bodies(api: httpx.AsyncClient, store: Store) -> None:
    user_id = (await api.get(f"{ORG}/users")).json()["data"][0]["id"]
    key = ApiKey(
        store.new_id("apikey_"), "k", store.default_workspace_id, user_id, "x", "active", "h"
    )
    store.insert_api_key(key)
    workspace_id = (await api.post(f"{ORG}/workspaces", json={"name": "W"})).json()["id"]
    members = f"{ORG}/workspaces/{workspace_id}/members"
    await api.post(members, json={"user_id": user_id, "role": "workspace_user"})
    await api.post(f"{members}/{user_id}", json={"workspace_role": "workspace_admin", "x": 1})
    await api.post(f"{ORG}/api_keys/{key.id}", json={"name": "n", "workspace_id": "w"})
    await api.post(f"{ORG}/workspaces", json={"name": "V", "colour": "red"})
    assert await problems(api) == [
        "unknown body field 'role'",
        "unknown body field 'x'",
        "unknown body field 'workspace_id'",
        "unknown body field 'colour'",
    ]


async def test_refused_and_faulted_requests_are_checked_too(api: httpx.AsyncClient) -> None:
    await api.get(f"{ORG}/users", params={"nope": "1"}, headers={"x-api-key": "bad"})
    await api.post("/_emulator/faults", json={"faults": [{"kind": "500"}, {"kind": "drop_after"}]})
    await api.get(f"{ORG}/users", params={"roles": "user"})
    with pytest.raises(httpx.RemoteProtocolError):
        await api.post(f"{ORG}/invites", json={"email": "a@example.org", "role": "user", "n": 1})
    assert await problems(api) == [
        "unknown query parameter 'nope'",
        "query parameter 'roles' is an array: send it as roles[]=...",
        "unknown body field 'n'",
    ]
    listed = (await api.get(f"{ORG}/invites")).json()["data"]
    assert [i["email"] for i in listed] == ["a@example.org"]  # the body still reached the app


async def test_unknown_routes_and_control_routes_are_not_checked(api: httpx.AsyncClient) -> None:
    assert (await api.get(f"{ORG}/nothing", params={"x": "1"})).status_code == 404
    assert (await api.put(f"{ORG}/users", json={"x": 1})).status_code == 405
    await api.post("/_emulator/clock", content=b'{"advance_seconds": 1}')
    assert await violations(api) == []


async def test_strict_mode_is_a_setting(api: httpx.AsyncClient) -> None:
    assert (await api.get("/_emulator/config")).json()["strict"] is True
    off = await api.post("/_emulator/config", json={"strict": False})
    assert off.json()["strict"] is False
    await api.get(f"{ORG}/users", params={"roles": "user"})
    assert await violations(api) == []
    await api.post("/_emulator/config", json={"strict": True})
    await api.get(f"{ORG}/users", params={"roles": "user"})
    assert len(await violations(api)) == 1


def test_strict_mode_over_real_http(app: Starlette) -> None:
    async def scenario(base_url: str) -> list[str]:
        async with httpx.AsyncClient(base_url=base_url, headers=HEADERS) as api:
            big = {"email": "a@example.org", "role": "user", "note": "x" * 200_000}
            assert (await api.post(f"{ORG}/invites", json=big)).status_code == 200
            await api.post("/_emulator/faults", json={"faults": [{"kind": "drop_before"}]})
            with pytest.raises(httpx.RemoteProtocolError):
                await api.post(f"{ORG}/invites", json={**big, "email": "b@example.org"})
            await api.get(f"{ORG}/invites", params={"roles": "user"})
            return await problems(api)

    with running_server(app) as base_url:
        found = asyncio.run(scenario(base_url))
    assert found == [
        "unknown body field 'note'",
        "unknown body field 'note'",
        "query parameter 'roles' is an array: send it as roles[]=...",
    ]


def test_nested_watchers_each_see_their_own_controls() -> None:
    # Both lists are empty, so equal, when the inner block ends: it must end its own.
    with watch_controls() as outer:
        with watch_controls() as inner:
            pass
        made = Control(strict=True)
    assert (outer, inner) == ([made], [])
