"""The Admin API emulator: business rules, pagination, auth, faults, reports, persistence."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette

from roster.cli.emulator import emulator
from roster.emulator.app import create_app
from roster.emulator.clock import Clock
from roster.emulator.pagination import Cursor
from roster.emulator.records import ApiKey, User
from roster.emulator.reports import page_token
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.emulator.store import Store
from roster.emulator.strict import strict_by_default
from roster.emulator.transport import InProcessTransport, client_for

pytestmark = pytest.mark.anyio

KEY = "sk-ant-admin01-test_key_0123456789"
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
ORG = "/v1/organizations"
NOW = datetime(2026, 11, 18, 15, 30, tzinfo=timezone.utc)  # a Wednesday


@pytest.fixture
def store() -> Store:
    return Store(Clock.frozen(NOW))


@pytest.fixture
def app(store: Store) -> Starlette:
    return create_app(store)


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app, headers=HEADERS) as client:
        yield client


def assert_error(response: httpx.Response, status: int, error_type: str, code: str | None) -> None:
    body = response.json()
    assert response.status_code == status, body
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert body["error"].get("details", {}).get("error_code") == code
    assert body["request_id"] == response.headers["request-id"]


def add_users(store: Store, count: int, role: str = "user") -> list[User]:
    users = []
    for index in range(count):
        user = User(store.new_id("user_"), f"u{index}@example.org", f"U {index}", role, "x")
        store.insert_user(user)
        users.append(user)
    return users


async def invite(api: httpx.AsyncClient, email: str, role: str = "user") -> httpx.Response:
    return await api.post(f"{ORG}/invites", json={"email": email, "role": role})


async def new_workspace(api: httpx.AsyncClient, name: str = "Research") -> str:
    response = await api.post(f"{ORG}/workspaces", json={"name": name})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def walk(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = (await api.get(path, params=params)).json()
        items += page["data"]
        if not page["has_more"]:
            return items
        params["after_id"] = page["last_id"]


# --- organization, headers, auth ----------------------------------------------------------------


async def test_me_and_headers(api: httpx.AsyncClient, store: Store) -> None:
    first, second = await api.get(f"{ORG}/me"), await api.get(f"{ORG}/me")
    assert first.json() == {
        "id": store.organization.id,
        "type": "organization",
        "name": "Example Org",
    }
    assert first.headers["anthropic-organization-id"] == store.organization.id
    assert first.headers["request-id"].startswith("req_")
    assert first.headers["request-id"] != second.headers["request-id"]


async def test_empty_store_has_one_admin_and_a_hidden_default_workspace(
    api: httpx.AsyncClient,
) -> None:
    users = (await api.get(f"{ORG}/users")).json()
    assert [u["role"] for u in users["data"]] == ["admin"]
    assert (await api.get(f"{ORG}/workspaces")).json()["data"] == []
    shown = (await api.get(f"{ORG}/workspaces", params={"include_default": "true"})).json()["data"]
    assert [w["name"] for w in shown] == ["Default"]
    assert shown[0]["id"].startswith("wrkspc_")


async def test_missing_key_is_401_without_org_header(app: Starlette) -> None:
    async with client_for(app, headers={"anthropic-version": "2023-06-01"}) as client:
        response = await client.get(f"{ORG}/users")
    assert_error(response, 401, "authentication_error", None)
    assert "anthropic-organization-id" not in response.headers


async def test_normal_api_key_is_403_and_never_echoed(app: Starlette) -> None:
    secret = "sk-ant-api03-secretsecretsecret"
    async with client_for(
        app, headers={"x-api-key": secret, "anthropic-version": "2023-06-01"}
    ) as c:
        response = await c.get(f"{ORG}/users")
    assert_error(response, 403, "permission_error", None)
    assert secret not in response.text


async def test_bearer_and_both_versions_work(app: Starlette) -> None:
    for version in ("2023-06-01", "2026-10-21"):
        headers = {"authorization": f"Bearer {KEY}", "anthropic-version": version}
        async with client_for(app, headers=headers) as client:
            assert (await client.get(f"{ORG}/me")).status_code == 200


async def test_version_missing_or_unknown_is_400(app: Starlette) -> None:
    async with client_for(app, headers={"x-api-key": KEY}) as client:
        assert_error(
            await client.get(f"{ORG}/me"), 400, "invalid_request_error", "missing_api_version"
        )
        response = await client.get(f"{ORG}/me", headers={"anthropic-version": "2020-01-01"})
    assert_error(response, 400, "invalid_request_error", "unsupported_api_version")


async def test_malformed_or_unlisted_admin_key_is_401(app: Starlette, store: Store) -> None:
    store.set_admin_keys(["sk-ant-admin01-the-only-good-one"])
    assert "the-only-good-one" not in json.dumps(store.to_json())
    async with client_for(app, headers={"anthropic-version": "2023-06-01"}) as client:
        for key in ("sk-ant-admin01-short", KEY, "nonsense"):
            response = await client.get(f"{ORG}/me", headers={"x-api-key": key})
            assert_error(response, 401, "authentication_error", None)
        good = await client.get(
            f"{ORG}/me", headers={"x-api-key": "sk-ant-admin01-the-only-good-one"}
        )
    assert good.status_code == 200


async def test_unknown_route_and_object_are_404_envelopes(api: httpx.AsyncClient) -> None:
    assert_error(await api.get(f"{ORG}/nothing"), 404, "not_found_error", None)
    assert_error(await api.get(f"{ORG}/users/user_nope"), 404, "not_found_error", None)


# --- pagination ---------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "1001", "abc", "-1"])
async def test_limit_out_of_range_is_400(api: httpx.AsyncClient, limit: str) -> None:
    response = await api.get(f"{ORG}/users", params={"limit": limit})
    assert_error(response, 400, "invalid_request_error", None)


async def test_after_and_before_together_is_400(api: httpx.AsyncClient) -> None:
    response = await api.get(f"{ORG}/users", params={"after_id": "user_a", "before_id": "user_b"})
    assert_error(response, 400, "invalid_request_error", "conflicting_cursors")


async def test_empty_page_has_null_ids(api: httpx.AsyncClient) -> None:
    page = (await api.get(f"{ORG}/invites")).json()
    assert page == {"data": [], "has_more": False, "first_id": None, "last_id": None}


async def test_exactly_1000_then_1001(api: httpx.AsyncClient, store: Store) -> None:
    add_users(store, 999)
    page = (await api.get(f"{ORG}/users", params={"limit": 1000})).json()
    assert (len(page["data"]), page["has_more"]) == (1000, False)
    add_users(store, 1)
    page = (await api.get(f"{ORG}/users", params={"limit": 1000})).json()
    assert (len(page["data"]), page["has_more"]) == (1000, True)
    rest = (await api.get(f"{ORG}/users", params={"after_id": page["last_id"]})).json()
    assert (len(rest["data"]), rest["has_more"]) == (1, False)


async def test_walking_forward_and_backward(api: httpx.AsyncClient, store: Store) -> None:
    add_users(store, 24)
    forward = await walk(api, f"{ORG}/users", limit=7)
    ids = [u["id"] for u in forward]
    assert ids == sorted(ids)
    assert len(ids) == 25
    backward: list[str] = []
    params: dict[str, Any] = {"limit": 7, "before_id": ids[-1]}
    while True:
        page = (await api.get(f"{ORG}/users", params=params)).json()
        backward = [u["id"] for u in page["data"]] + backward
        if not page["has_more"]:
            break
        params["before_id"] = page["first_id"]
    assert backward == ids[:-1]


async def test_default_limit_is_20(api: httpx.AsyncClient, store: Store) -> None:
    add_users(store, 30)
    page = (await api.get(f"{ORG}/users")).json()
    assert len(page["data"]) == 20
    assert page["has_more"]


# --- users ------------------------------------------------------------------------------------


async def test_user_filters(api: httpx.AsyncClient, store: Store) -> None:
    add_users(store, 3, "developer")
    add_users(store, 2, "billing")[0]
    by_email = (await api.get(f"{ORG}/users", params={"email": "  ADMIN@Example.com "})).json()
    assert [u["email"] for u in by_email["data"]] == ["admin@example.com"]
    params = {"roles[]": ["billing", "admin"]}
    roles = sorted(u["role"] for u in (await api.get(f"{ORG}/users", params=params)).json()["data"])
    assert roles == ["admin", "billing", "billing"]
    assert_error(
        await api.get(f"{ORG}/users", params={"roles[]": "boss"}),
        400,
        "invalid_request_error",
        None,
    )


async def test_user_role_update_rules(api: httpx.AsyncClient, store: Store) -> None:
    [user] = add_users(store, 1)
    updated = await api.post(f"{ORG}/users/{user.id}", json={"role": "developer"})
    assert updated.json()["role"] == "developer"
    for role in ("admin", "managed", "owner", "nonsense"):
        response = await api.post(f"{ORG}/users/{user.id}", json={"role": role})
        assert_error(response, 400, "invalid_request_error", "role_not_assignable")
    admin = (await api.get(f"{ORG}/users", params={"roles[]": "admin"})).json()["data"][0]
    response = await api.post(f"{ORG}/users/{admin['id']}", json={"role": "user"})
    assert_error(response, 400, "invalid_request_error", "cannot_modify_admin")


async def test_remove_user_rules(api: httpx.AsyncClient, store: Store) -> None:
    admin = (await api.get(f"{ORG}/users")).json()["data"][0]
    assert_error(
        await api.delete(f"{ORG}/users/{admin['id']}"),
        400,
        "invalid_request_error",
        "cannot_remove_last_member",
    )
    [user] = add_users(store, 1)
    assert_error(
        await api.delete(f"{ORG}/users/{admin['id']}"),
        400,
        "invalid_request_error",
        "cannot_remove_admin",
    )
    removed = await api.delete(f"{ORG}/users/{user.id}")
    assert removed.json() == {"id": user.id, "type": "user_deleted"}
    assert (await api.get(f"{ORG}/users/{user.id}")).status_code == 404


async def test_removing_a_user_keeps_keys_and_drops_memberships(
    api: httpx.AsyncClient, store: Store
) -> None:
    [user] = add_users(store, 1)
    workspace_id = await new_workspace(api)
    await api.post(
        f"{ORG}/workspaces/{workspace_id}/members",
        json={"user_id": user.id, "workspace_role": "workspace_developer"},
    )
    key = ApiKey(
        store.new_id("apikey_"), "k", workspace_id, user.id, "x", "active", "sk-ant-api03-a...b"
    )
    store.insert_api_key(key)
    await api.delete(f"{ORG}/users/{user.id}")
    assert (await api.get(f"{ORG}/api_keys/{key.id}")).json()["status"] == "active"
    member = await api.get(f"{ORG}/workspaces/{workspace_id}/members/{user.id}")
    assert member.status_code == 404


# --- invites ------------------------------------------------------------------------------------


async def test_invite_shape_and_expiry_date(api: httpx.AsyncClient) -> None:
    body = (await invite(api, " New.Person@Example.ORG ", "developer")).json()
    assert body["email"] == "new.person@example.org"
    assert body["status"] == "pending"
    assert body["accepted_at"] is None
    assert body["rbac_group_ids"] == []
    assert body["id"].startswith("invite_")
    assert body["invited_at"] == "2026-11-18T15:30:00.000000Z"
    assert body["expires_at"] == "2026-12-09T15:30:00.000000Z"


@pytest.mark.parametrize(
    ("email", "role", "code"),
    [
        ("x@example.org", "admin", "role_not_assignable"),
        ("x@example.org", "managed", "role_not_assignable"),
        ("not-an-email", "user", "invalid_email"),
        ("ADMIN@example.com", "user", "already_member"),
    ],
)
async def test_invite_rules(api: httpx.AsyncClient, email: str, role: str, code: str) -> None:
    assert_error(await invite(api, email, role), 400, "invalid_request_error", code)


@pytest.mark.parametrize(
    ("groups", "code"),
    [(["rbac_group_1"], "rbac_not_enabled"), ("rbac_group_1", None), ([1], None)],
)
async def test_invite_rbac_groups(api: httpx.AsyncClient, groups: Any, code: str | None) -> None:
    body = {"email": "x@example.org", "role": "user", "rbac_group_ids": groups}
    assert_error(await api.post(f"{ORG}/invites", json=body), 400, "invalid_request_error", code)
    body["rbac_group_ids"] = []
    assert (await api.post(f"{ORG}/invites", json=body)).status_code == 200


async def test_second_pending_invite_refused_but_expired_one_does_not_block(
    api: httpx.AsyncClient,
) -> None:
    assert (await invite(api, "a@example.org")).status_code == 200
    response = await invite(api, "A@example.org")
    assert_error(response, 400, "invalid_request_error", "invite_already_exists")
    await api.post("/_emulator/clock", json={"advance_seconds": 21 * 86400})
    assert (await invite(api, "a@example.org")).status_code == 200


async def test_invite_expires_with_the_clock(api: httpx.AsyncClient) -> None:
    invite_id = (await invite(api, "a@example.org")).json()["id"]
    await api.post("/_emulator/clock", json={"advance_seconds": 21 * 86400 - 1})
    assert (await api.get(f"{ORG}/invites/{invite_id}")).json()["status"] == "pending"
    clock = (await api.post("/_emulator/clock", json={"advance_seconds": 1})).json()
    assert clock["now"] == "2026-12-09T15:30:00.000000Z"
    assert (await api.get(f"{ORG}/invites/{invite_id}")).json()["status"] == "expired"
    response = await api.delete(f"{ORG}/invites/{invite_id}")
    assert_error(response, 400, "invalid_request_error", "invite_not_pending")


async def test_delete_pending_invite_hides_it(api: httpx.AsyncClient) -> None:
    invite_id = (await invite(api, "a@example.org")).json()["id"]
    deleted = await api.delete(f"{ORG}/invites/{invite_id}")
    assert deleted.json() == {"id": invite_id, "type": "invite_deleted"}
    assert (await api.get(f"{ORG}/invites/{invite_id}")).status_code == 404
    assert (await api.get(f"{ORG}/invites")).json()["data"] == []


async def test_accept_control_endpoint(api: httpx.AsyncClient) -> None:
    invite_id = (await invite(api, "jane.doe@example.org", "claude_code_user")).json()["id"]
    user = (await api.post(f"/_emulator/invites/{invite_id}/accept", json={})).json()
    assert (user["email"], user["name"], user["role"]) == (
        "jane.doe@example.org",
        "Jane Doe",
        "claude_code_user",
    )
    accepted = (await api.get(f"{ORG}/invites/{invite_id}")).json()
    assert accepted["status"] == "accepted"
    assert accepted["accepted_at"] == user["added_at"]
    again = await api.post(f"/_emulator/invites/{invite_id}/accept", json={"name": "X"})
    assert_error(again, 400, "invalid_request_error", "invite_not_pending")
    assert_error(
        await api.delete(f"{ORG}/invites/{invite_id}"),
        400,
        "invalid_request_error",
        "invite_not_pending",
    )


async def test_invite_filters(api: httpx.AsyncClient) -> None:
    expired_id = (await invite(api, "old@example.org", "developer")).json()["id"]
    await api.post("/_emulator/clock", json={"advance_seconds": 22 * 86400})
    await invite(api, "new@example.org", "billing")
    accepted_id = (await invite(api, "joined@example.org")).json()["id"]
    await api.post(f"/_emulator/invites/{accepted_id}/accept")

    async def emails(**params: Any) -> list[str]:
        return [i["email"] for i in (await api.get(f"{ORG}/invites", params=params)).json()["data"]]

    assert await emails() == ["old@example.org", "new@example.org", "joined@example.org"]
    assert await emails(**{"statuses[]": "expired"}) == ["old@example.org"]
    assert await emails(**{"statuses[]": ["pending", "accepted"]}) == [
        "new@example.org",
        "joined@example.org",
    ]
    assert await emails(**{"roles[]": "billing"}) == ["new@example.org"]
    assert await emails(email="OLD@example.org") == ["old@example.org"]
    assert (await api.get(f"{ORG}/invites/{expired_id}")).json()["status"] == "expired"
    bad = await api.get(f"{ORG}/invites", params={"statuses[]": "deleted"})
    assert_error(bad, 400, "invalid_request_error", None)


# --- workspaces ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "x" * 41, None])
async def test_workspace_name_rules(api: httpx.AsyncClient, name: str | None) -> None:
    response = await api.post(f"{ORG}/workspaces", json={"name": name})
    assert_error(response, 400, "invalid_request_error", None)


async def test_workspace_create_update_archive(api: httpx.AsyncClient, store: Store) -> None:
    workspace_id = await new_workspace(api, "x" * 40)
    updated = await api.post(
        f"{ORG}/workspaces/{workspace_id}", json={"name": "Platform", "tags": {"team": "infra"}}
    )
    assert (updated.json()["name"], updated.json()["tags"]) == ("Platform", {"team": "infra"})
    key = ApiKey(
        store.new_id("apikey_"), "k", workspace_id, None, "x", "active", "sk-ant-api03-a...b"
    )
    store.insert_api_key(key)
    archived = (await api.post(f"{ORG}/workspaces/{workspace_id}/archive")).json()
    assert archived["archived_at"] == "2026-11-18T15:30:00.000000Z"
    assert (await api.get(f"{ORG}/api_keys/{key.id}")).json()["status"] == "archived"
    again = await api.post(f"{ORG}/workspaces/{workspace_id}/archive")
    assert_error(again, 400, "invalid_request_error", "workspace_archived")
    rename = await api.post(f"{ORG}/workspaces/{workspace_id}", json={"name": "Again"})
    assert_error(rename, 400, "invalid_request_error", "workspace_archived")
    assert (await api.get(f"{ORG}/workspaces")).json()["data"] == []
    shown = await api.get(f"{ORG}/workspaces", params={"include_archived": "true"})
    assert [w["id"] for w in shown.json()["data"]] == [workspace_id]


async def test_default_workspace_is_fixed(api: httpx.AsyncClient, store: Store) -> None:
    default = store.default_workspace_id
    assert (await api.get(f"{ORG}/workspaces/{default}")).json()["name"] == "Default"
    rename = await api.post(f"{ORG}/workspaces/{default}", json={"name": "Mine"})
    assert_error(rename, 400, "invalid_request_error", "cannot_modify_default_workspace")
    archive = await api.post(f"{ORG}/workspaces/{default}/archive")
    assert_error(archive, 400, "invalid_request_error", "cannot_archive_default_workspace")


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("external_key_id", "external_key_validation_failed"),
        ("user_profile_id", "user_profile_not_found"),
    ],
)
async def test_workspace_cmek_and_user_profile_are_refused(
    api: httpx.AsyncClient, store: Store, field: str, code: str
) -> None:
    created = await api.post(f"{ORG}/workspaces", json={"name": "W", field: "x_1"})
    assert_error(created, 400, "invalid_request_error", code)
    workspace_id = await new_workspace(api, "W")
    for target in (workspace_id, store.default_workspace_id):
        updated = await api.post(f"{ORG}/workspaces/{target}", json={field: "x_1"})
        assert_error(updated, 400, "invalid_request_error", code)
    unset = await api.post(f"{ORG}/workspaces/{workspace_id}", json={field: None})
    assert unset.json()[field] is None


async def test_at_most_100_active_workspaces(api: httpx.AsyncClient) -> None:
    ids = [await new_workspace(api, f"W{index}") for index in range(100)]
    response = await api.post(f"{ORG}/workspaces", json={"name": "One too many"})
    assert_error(response, 400, "invalid_request_error", "workspace_limit_exceeded")
    await api.post(f"{ORG}/workspaces/{ids[0]}/archive")
    assert (await api.post(f"{ORG}/workspaces", json={"name": "Now fits"})).status_code == 200


async def test_workspace_filters(api: httpx.AsyncClient) -> None:
    first, second, third = [await new_workspace(api, n) for n in ("A", "B", "C")]
    await api.post(f"{ORG}/workspaces/{third}/archive")
    params = {"ids[]": [first, third], "include_archived": "true"}
    listed = (await api.get(f"{ORG}/workspaces", params=params)).json()["data"]
    assert [w["id"] for w in listed] == [first, third]
    bad = await api.get(f"{ORG}/workspaces", params={"include_archived": "yes"})
    assert_error(bad, 400, "invalid_request_error", None)
    assert second


# --- workspace members --------------------------------------------------------------------------


async def test_members_and_inherited_roles(api: httpx.AsyncClient, store: Store) -> None:
    [user] = add_users(store, 1)
    [billing] = add_users(store, 1, "billing")
    workspace_id = await new_workspace(api)
    members = f"{ORG}/workspaces/{workspace_id}/members"
    added = await api.post(members, json={"user_id": user.id, "workspace_role": "workspace_user"})
    assert added.json() == {
        "type": "workspace_member",
        "user_id": user.id,
        "workspace_id": workspace_id,
        "workspace_role": "workspace_user",
    }
    listed = {m["user_id"]: m["workspace_role"] for m in (await api.get(members)).json()["data"]}
    admin_id = next(uid for uid, role in listed.items() if role == "workspace_admin")
    assert listed == {
        admin_id: "workspace_admin",
        user.id: "workspace_user",
        billing.id: "workspace_billing",
    }
    updated = await api.post(f"{members}/{user.id}", json={"workspace_role": "workspace_admin"})
    assert updated.json()["workspace_role"] == "workspace_admin"
    upgraded = await api.post(f"{members}/{billing.id}", json={"workspace_role": "workspace_admin"})
    assert upgraded.json()["workspace_role"] == "workspace_admin"
    removed = await api.delete(f"{members}/{user.id}")
    assert removed.json() == {
        "type": "workspace_member_deleted",
        "user_id": user.id,
        "workspace_id": workspace_id,
    }


async def test_member_rules(api: httpx.AsyncClient, store: Store) -> None:
    [user] = add_users(store, 1)
    [billing] = add_users(store, 1, "billing")
    admin_id = (await api.get(f"{ORG}/users", params={"roles[]": "admin"})).json()["data"][0]["id"]
    workspace_id = await new_workspace(api)
    members = f"{ORG}/workspaces/{workspace_id}/members"

    async def add(user_id: str, role: str) -> httpx.Response:
        return await api.post(members, json={"user_id": user_id, "workspace_role": role})

    assert_error(
        await add(user.id, "workspace_billing"),
        400,
        "invalid_request_error",
        "workspace_role_not_assignable",
    )
    assert_error(await add("user_missing", "workspace_user"), 404, "not_found_error", None)
    assert (await add(user.id, "workspace_user")).status_code == 200
    duplicate = await add(user.id, "workspace_developer")
    assert_error(duplicate, 409, "conflict_error", "workspace_member_already_exists")
    assert duplicate.headers["x-should-retry"] == "false"
    for response in (
        await add(admin_id, "workspace_user"),
        await api.post(f"{members}/{admin_id}", json={"workspace_role": "workspace_user"}),
        await api.post(f"{members}/{billing.id}", json={"workspace_role": "workspace_developer"}),
        await api.delete(f"{members}/{admin_id}"),
        await api.delete(f"{members}/{billing.id}"),
    ):
        assert_error(response, 400, "invalid_request_error", "workspace_role_inherited")
    await api.post(f"{ORG}/workspaces/{workspace_id}/archive")
    assert_error(
        await api.delete(f"{members}/{user.id}"), 400, "invalid_request_error", "workspace_archived"
    )


# --- API keys -----------------------------------------------------------------------------------


def seed_keys(store: Store, workspace_id: str) -> list[ApiKey]:
    [creator] = add_users(store, 1, "developer")
    keys = [
        ApiKey(
            store.new_id("apikey_"),
            "default",
            store.default_workspace_id,
            creator.id,
            "2026-01-01T00:00:00.000000Z",
            "active",
            "sk-ant-api03-R2D...igAA",
        ),
        ApiKey(
            store.new_id("apikey_"),
            "team",
            workspace_id,
            None,
            "2026-01-02T00:00:00.000000Z",
            "inactive",
            "sk-ant-api03-abc...wxyz",
        ),
    ]
    for key in keys:
        store.insert_api_key(key)
    return keys


async def test_api_key_shapes_by_version(api: httpx.AsyncClient, store: Store) -> None:
    workspace_id = await new_workspace(api)
    default_key, team_key = seed_keys(store, workspace_id)
    old = (await api.get(f"{ORG}/api_keys/{default_key.id}")).json()
    assert old["workspace_id"] is None
    assert "scope" not in old
    assert old["created_by"] == {"id": default_key.created_by, "type": "user"}
    assert old["partial_key_hint"] == "sk-ant-api03-R2D...igAA"
    assert old["expires_at"] is None
    new = (
        await api.get(f"{ORG}/api_keys/{team_key.id}", headers={"anthropic-version": "2026-10-21"})
    ).json()
    assert new["scope"] == {"type": "workspace", "workspace_id": workspace_id}
    assert "workspace_id" not in new
    assert new["created_by"] is None


async def test_api_key_filters_and_updates(api: httpx.AsyncClient, store: Store) -> None:
    workspace_id = await new_workspace(api)
    default_key, team_key = seed_keys(store, workspace_id)

    async def ids(**params: Any) -> list[str]:
        return [k["id"] for k in (await api.get(f"{ORG}/api_keys", params=params)).json()["data"]]

    assert await ids(status="inactive") == [team_key.id]
    assert await ids(workspace_id=workspace_id) == [team_key.id]
    assert await ids(created_by_user_id=default_key.created_by) == [default_key.id]
    renamed = await api.post(
        f"{ORG}/api_keys/{team_key.id}", json={"name": "n", "status": "active"}
    )
    assert (renamed.json()["name"], renamed.json()["status"]) == ("n", "active")
    long_name = await api.post(f"{ORG}/api_keys/{team_key.id}", json={"name": "x" * 501})
    assert_error(long_name, 400, "invalid_request_error", None)
    await api.post(f"{ORG}/api_keys/{team_key.id}", json={"status": "archived"})
    revived = await api.post(f"{ORG}/api_keys/{team_key.id}", json={"status": "active"})
    assert_error(revived, 400, "invalid_request_error", "api_key_archived")


# --- faults, rate limits, latency, request log ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "error_type"),
    [("500", 500, "api_error"), ("503", 503, "api_error"), ("529", 529, "overloaded_error")],
)
async def test_status_faults_do_not_run_the_operation(
    api: httpx.AsyncClient, kind: str, status: int, error_type: str
) -> None:
    faults = [{"kind": kind, "method": "POST", "path": f"{ORG}/invites"}]
    await api.post("/_emulator/faults", json={"faults": faults})
    assert (await api.get(f"{ORG}/invites")).status_code == 200  # does not match: not consumed
    assert_error(await invite(api, "a@example.org"), status, error_type, None)
    assert (await api.get(f"{ORG}/invites")).json()["data"] == []
    assert (await invite(api, "a@example.org")).status_code == 200


async def test_drop_before_does_not_mutate(api: httpx.AsyncClient) -> None:
    await api.post("/_emulator/faults", json={"faults": [{"kind": "drop_before"}]})
    with pytest.raises(httpx.RemoteProtocolError):
        await invite(api, "a@example.org")
    assert (await api.get(f"{ORG}/invites")).json()["data"] == []


async def test_drop_after_mutates(api: httpx.AsyncClient) -> None:
    await api.post("/_emulator/faults", json={"faults": [{"kind": "drop_after", "method": "POST"}]})
    with pytest.raises(httpx.RemoteProtocolError):
        await invite(api, "a@example.org")
    assert [i["email"] for i in (await api.get(f"{ORG}/invites")).json()["data"]] == [
        "a@example.org"
    ]
    log = (await api.get("/_emulator/requests")).json()
    dropped = [r for r in log["requests"] if r["fault"] == "drop_after"]
    assert dropped[0]["status"] == 200
    assert log["counters"]["faults"] == {"drop_after": 1}


async def test_queued_429_sends_retry_headers(api: httpx.AsyncClient) -> None:
    await api.post("/_emulator/faults", json={"faults": [{"kind": "429", "retry_after": 0.2}]})
    response = await api.get(f"{ORG}/me")
    assert_error(response, 429, "rate_limit_error", None)
    assert (response.headers["retry-after"], response.headers["retry-after-ms"]) == ("1", "200")
    await api.delete("/_emulator/faults")


def key_of(store: Store, creator: User, status: str = "active") -> ApiKey:
    key = ApiKey(
        store.new_id("apikey_"),
        f"{creator.email} {status}",
        store.default_workspace_id,
        creator.id,
        "2026-01-01T00:00:00.000000Z",
        status,
        "sk-ant-api03-abc...wxyz",
    )
    store.insert_api_key(key)
    return key


async def key_statuses(api: httpx.AsyncClient, *keys: ApiKey) -> list[str]:
    return [(await api.get(f"{ORG}/api_keys/{key.id}")).json()["status"] for key in keys]


async def test_requester_unconfirmed_removal_leaves_a_member_with_keys_off(
    api: httpx.AsyncClient, store: Store
) -> None:
    leaver, colleague = add_users(store, 2, "developer")
    active, inactive, archived = (
        key_of(store, leaver, s) for s in ("active", "inactive", "archived")
    )
    other = key_of(store, colleague)
    fault = {
        "kind": "requester_unconfirmed",
        "method": "DELETE",
        "path": f"{ORG}/users/{leaver.id}",
    }
    await api.post("/_emulator/faults", json={"faults": [fault]})
    response = await api.delete(f"{ORG}/users/{leaver.id}")
    assert_error(response, 403, "permission_error", "api_key_requester_unconfirmed")
    assert (await api.get(f"{ORG}/users/{leaver.id}")).status_code == 200
    assert await key_statuses(api, active, inactive, archived, other) == [
        "inactive",
        "inactive",
        "archived",
        "active",
    ]
    again = await api.delete(f"{ORG}/users/{leaver.id}")
    assert again.json() == {"id": leaver.id, "type": "user_deleted"}
    assert await key_statuses(api, active, other) == ["inactive", "active"]
    log = (await api.get("/_emulator/requests")).json()
    assert log["counters"]["faults"] == {"requester_unconfirmed": 1}


async def test_requester_unconfirmed_changes_nothing_elsewhere(
    api: httpx.AsyncClient, store: Store
) -> None:
    [developer] = add_users(store, 1, "developer")
    key = key_of(store, developer)
    admin_id = (await api.get(f"{ORG}/users", params={"roles[]": "admin"})).json()["data"][0]["id"]
    admin_key = key_of(store, store.get_user(admin_id))
    await api.post(
        "/_emulator/faults",
        json={"faults": [{"kind": "requester_unconfirmed"} for _ in range(3)]},
    )
    for response in (
        await api.post(f"{ORG}/api_keys/{key.id}", json={"status": "inactive"}),
        await api.get(f"{ORG}/users/{developer.id}"),
        await api.delete(f"{ORG}/users/{admin_id}"),  # a removal that would be refused
    ):
        assert_error(response, 403, "permission_error", "api_key_requester_unconfirmed")
    assert await key_statuses(api, key, admin_key) == ["active", "active"]


async def test_requester_unconfirmed_as_a_random_fault(api: httpx.AsyncClient) -> None:
    config = {"fault_rate": 1.0, "fault_kinds": ["requester_unconfirmed"], "fault_seed": 1}
    assert (await api.post("/_emulator/config", json=config)).status_code == 200
    response = await api.get(f"{ORG}/me")
    assert_error(response, 403, "permission_error", "api_key_requester_unconfirmed")
    await api.post("/_emulator/config", json={"fault_rate": 0.0})
    unknown = {"faults": [{"kind": "requester_confused"}]}
    assert (await api.post("/_emulator/faults", json=unknown)).status_code == 400


async def test_rate_limiter(api: httpx.AsyncClient) -> None:
    await api.post("/_emulator/config", json={"rate_limit_rps": 2})
    statuses = [(await api.get(f"{ORG}/me")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = await api.get(f"{ORG}/me")
    assert int(limited.headers["retry-after"]) >= 1
    assert int(limited.headers["retry-after-ms"]) > 0
    await api.post("/_emulator/config", json={"rate_limit_rps": None})
    assert (await api.get(f"{ORG}/me")).status_code == 200


async def test_random_faults_are_reproducible(api: httpx.AsyncClient) -> None:
    async def outcomes() -> list[str]:
        await api.post(
            "/_emulator/config",
            json={"fault_rate": 0.5, "fault_kinds": ["500", "529"], "fault_seed": 7},
        )
        seen = [str((await api.get(f"{ORG}/me")).status_code) for _ in range(20)]
        await api.post("/_emulator/config", json={"fault_rate": 0.0})
        return seen

    first = await outcomes()
    assert first == await outcomes()
    assert {"200", "500", "529"} == set(first)


async def test_latency_and_config_round_trip(api: httpx.AsyncClient) -> None:
    config = (await api.post("/_emulator/config", json={"latency_ms": 50})).json()
    assert config == {
        "strict": strict_by_default(os.environ),
        "latency_ms": 50.0,
        "rate_limit_rps": None,
        "rate_limit_per_second": None,
        "rate_limit_per_minute": None,
        "fault_rate": 0.0,
        "fault_kinds": ["500", "503", "529", "drop_before", "drop_after"],
        "fault_seed": 0,
    }
    started = time.monotonic()
    await api.get(f"{ORG}/me")
    assert time.monotonic() - started >= 0.05
    for bad in (
        {"fault_rate": 2},
        {"fault_seed": "x"},
        {"fault_kinds": ["404"]},
        {"strict": "yes"},
        {"rate_limit_per_second": 0},
        {"rate_limit_per_minute": 2.5},
        {"nope": 1},
    ):
        assert (await api.post("/_emulator/config", json=bad)).status_code == 400
    assert (await api.put("/_emulator/state", json={"format": "other"})).status_code == 400
    assert (await api.get(f"{ORG}/users")).status_code == 200


async def test_request_log_and_counters(api: httpx.AsyncClient, store: Store) -> None:
    [user] = add_users(store, 1)
    await api.get(f"{ORG}/users", params={"limit": 2})
    await api.get(f"{ORG}/users/{user.id}")
    await api.get(f"{ORG}/users/{user.id}", headers={"x-api-key": "bad"})
    await api.get("/_emulator/clock")
    log = (await api.get("/_emulator/requests")).json()
    first = log["requests"][0]
    assert (
        first["seq"],
        first["method"],
        first["path"],
        first["query"],
        first["status"],
        first["fault"],
    ) == (1, "GET", f"{ORG}/users", "limit=2", 200, None)
    assert first["request_id"].startswith("req_")
    assert log["counters"] == {
        "total": 3,
        "by_status": {"200": 2, "401": 1},
        "by_route": {f"GET {ORG}/users": 1, f"GET {ORG}/users/{{user_id}}": 2},
        "faults": {},
    }
    await api.delete("/_emulator/requests")
    assert (await api.get("/_emulator/requests")).json()["counters"]["total"] == 0


# --- control: clock, state, reset ---------------------------------------------------------------


async def test_clock_control(api: httpx.AsyncClient) -> None:
    assert (await api.get("/_emulator/clock")).json()["now"] == "2026-11-18T15:30:00.000000Z"
    moved = (await api.post("/_emulator/clock", json={"now": "2027-01-01T00:00:00Z"})).json()
    assert moved["now"] == "2027-01-01T00:00:00.000000Z"
    assert moved["offset_seconds"] > 0
    assert (await api.post("/_emulator/clock", json={})).status_code == 400


async def test_state_get_put_and_reset(api: httpx.AsyncClient, store: Store) -> None:
    await invite(api, "a@example.org")
    state = (await api.get("/_emulator/state")).json()
    await api.post("/_emulator/reset")
    assert (await api.get(f"{ORG}/invites")).json()["data"] == []
    assert (await api.get(f"{ORG}/me")).json()["id"] != state["organization"]["id"]
    await api.put("/_emulator/state", json=state)
    assert [i["email"] for i in (await api.get(f"{ORG}/invites")).json()["data"]] == [
        "a@example.org"
    ]
    assert store.organization.id == state["organization"]["id"]


def test_save_load_round_trip_is_atomic(tmp_path: Path) -> None:
    store = generate(60, seed=2)
    path = tmp_path / "state.json"
    store.save(path)
    store.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
    loaded = Store.load(path, Clock.frozen(store.clock.now()))
    assert loaded.to_json() == store.to_json()


def test_new_ids_after_load_sort_after_old_ones(tmp_path: Path) -> None:
    store = generate(20, seed=1)
    loaded = Store.from_json(store.to_json())
    newest = max(u["id"] for u in store.to_json()["users"])
    assert loaded.new_id("user_") > newest


# --- seeding ------------------------------------------------------------------------------------


def test_seed_is_deterministic_and_realistic() -> None:
    first, second = generate(5000, seed=11), generate(5000, seed=11)
    assert first.dumps() == second.dumps()
    assert generate(50, seed=12).dumps() != generate(50, seed=11).dumps()
    state = first.to_json()
    emails = [u["email"] for u in state["users"]]
    assert len(set(emails)) == 5000
    assert all("@" in e for e in emails)
    roles = {u["role"] for u in state["users"]}
    assert roles == {"admin", "user", "developer", "claude_code_user", "billing"}
    now = first.now_text()
    statuses = {first.get_invite(i["id"]).status(now) for i in state["invites"]}
    assert statuses == {"pending", "accepted", "expired"}
    assert {k["status"] for k in state["api_keys"]} >= {"active", "inactive", "archived"}
    assert sum(1 for w in state["workspaces"] if w["is_default"]) == 1
    assert state["workspace_members"]
    ids = [u["id"] for u in state["users"]]
    added = [u["added_at"] for u in state["users"]]
    assert ids == sorted(ids)
    assert added == sorted(added)


def test_seed_cli_writes_identical_files(tmp_path: Path) -> None:
    runner = CliRunner()
    outputs = []
    for name in ("a.json", "b.json"):
        out = tmp_path / name
        result = runner.invoke(
            emulator,
            [
                "seed",
                "--out",
                str(out),
                "--users",
                "40",
                "--seed",
                "3",
                "--name",
                "Test Org",
                "--workspaces",
                "4",
            ],
        )
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    state = json.loads(outputs[0])
    assert state["organization"]["name"] == "Test Org"
    assert len(state["users"]) == 40
    assert all(u["email"].endswith("@testorg.com") for u in state["users"])
    assert sum(1 for w in state["workspaces"] if not w["archived_at"] and not w["is_default"]) == 4


def test_serve_refuses_remote_host() -> None:
    result = CliRunner().invoke(emulator, ["serve", "--host", "0.0.0.0"])  # noqa: S104
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


# --- reports ------------------------------------------------------------------------------------


@pytest.fixture
def seeded_app() -> Starlette:
    store = generate(200, seed=5)
    store.clock.set_now(NOW)
    return create_app(store)


def usage_totals(buckets: list[dict[str, Any]]) -> dict[str, int]:
    totals = {"uncached": 0, "output": 0, "read": 0, "1h": 0, "5m": 0, "search": 0}
    for bucket in buckets:
        for row in bucket["results"]:
            totals["uncached"] += row["uncached_input_tokens"]
            totals["output"] += row["output_tokens"]
            totals["read"] += row["cache_read_input_tokens"]
            totals["1h"] += row["cache_creation"]["ephemeral_1h_input_tokens"]
            totals["5m"] += row["cache_creation"]["ephemeral_5m_input_tokens"]
            totals["search"] += row["server_tool_use"]["web_search_requests"]
    return totals


async def test_usage_totals_do_not_depend_on_grouping(seeded_app: Starlette) -> None:
    params: dict[str, Any] = {"starting_at": "2026-10-18T00:00:00Z", "limit": 31}
    async with client_for(seeded_app, headers=HEADERS) as api:
        path = f"{ORG}/usage_report/messages"
        plain = (await api.get(path, params=params)).json()
        assert len(plain["data"]) == 31
        assert plain["has_more"]
        assert any(b["results"] == [] for b in plain["data"])
        assert all(len(b["results"]) <= 1 for b in plain["data"])
        for group in (
            ["model"],
            ["api_key_id", "workspace_id"],
            [
                "api_key_id",
                "workspace_id",
                "model",
                "service_tier",
                "context_window",
                "inference_geo",
            ],
        ):
            grouped = (await api.get(path, params={**params, "group_by[]": group})).json()
            assert usage_totals(grouped["data"]) == usage_totals(plain["data"])
        again = (await api.get(path, params=params)).json()
    assert again == plain


async def test_usage_paging_reassembles_the_range(seeded_app: Starlette) -> None:
    params: dict[str, Any] = {
        "starting_at": "2026-11-01T00:00:00Z",
        "ending_at": "2026-11-15T00:00:00Z",
        "bucket_width": "1d",
    }
    async with client_for(seeded_app, headers=HEADERS) as api:
        path = f"{ORG}/usage_report/messages"
        whole = (await api.get(path, params={**params, "limit": 31})).json()
        assert len(whole["data"]) == 14
        assert not whole["has_more"]
        assert whole["next_page"] is None
        pieces: list[dict[str, Any]] = []
        page: dict[str, Any] = {**params, "limit": 4}
        while True:
            body = (await api.get(path, params=page)).json()
            pieces += body["data"]
            if not body["has_more"]:
                break
            page["page"] = body["next_page"]
    assert pieces == whole["data"]
    assert whole["data"][0]["starting_at"] == "2026-11-01T00:00:00Z"
    assert whole["data"][-1]["ending_at"] == "2026-11-15T00:00:00Z"


async def test_usage_report_stops_at_now_and_validates(seeded_app: Starlette) -> None:
    async with client_for(seeded_app, headers=HEADERS) as api:
        path = f"{ORG}/usage_report/messages"
        hours = (
            await api.get(
                path, params={"starting_at": "2026-11-18T10:00:00Z", "bucket_width": "1h"}
            )
        ).json()
        assert [b["starting_at"][11:13] for b in hours["data"]] == [
            "10",
            "11",
            "12",
            "13",
            "14",
            "15",
        ]
        for params in (
            {},
            {"starting_at": "yesterday"},
            {"starting_at": "2026-11-01T00:00:00Z", "limit": 32},
            {"starting_at": "2026-11-01T00:00:00Z", "bucket_width": "1h", "limit": 169},
            {"starting_at": "2026-11-01T00:00:00Z", "bucket_width": "1m", "limit": 1441},
            {"starting_at": "2026-11-01T00:00:00Z", "bucket_width": "2d"},
            {"starting_at": "2026-11-01T00:00:00Z", "group_by[]": "colour"},
            {"starting_at": "2026-11-01T00:00:00Z", "page": "page_!!!"},
        ):
            assert_error(
                await api.get(path, params=params),
                400,
                "invalid_request_error",
                "invalid_page_token" if "page" in params else None,
            )
        minutes = await api.get(
            path,
            params={"starting_at": "2026-11-18T09:00:00Z", "bucket_width": "1m", "limit": 1440},
        )
    assert len(minutes.json()["data"]) == 391  # 09:00 up to and including 15:30


async def test_usage_by_account_keeps_the_totals_and_an_unknown_account_keeps_nothing(
    seeded_app: Starlette,
) -> None:
    params: dict[str, Any] = {"starting_at": "2026-11-01T00:00:00Z", "limit": 14}
    async with client_for(seeded_app, headers=HEADERS) as api:
        path = f"{ORG}/usage_report/messages"
        plain = (await api.get(path, params=params)).json()
        grouped = (
            await api.get(
                path, params={**params, "group_by[]": ["account_id", "service_account_id"]}
            )
        ).json()
        for name in ("account_ids[]", "service_account_ids[]"):
            filtered = (await api.get(path, params={**params, name: "user_01"})).json()
            assert [b["results"] for b in filtered["data"]] == [[]] * 14
    # Grouping by account splits the members' use among them; it adds and loses nothing.
    assert usage_totals(grouped["data"]) == usage_totals(plain["data"])
    assert any(r["account_id"] for b in grouped["data"] for r in b["results"])
    assert usage_totals(plain["data"])["uncached"] > 0


async def test_cost_report_matches_and_sums(seeded_app: Starlette) -> None:
    params: dict[str, Any] = {"starting_at": "2026-10-19T00:00:00Z", "limit": 31}
    async with client_for(seeded_app, headers=HEADERS) as api:
        path = f"{ORG}/cost_report"
        plain = (await api.get(path, params=params)).json()
        by_description = (
            await api.get(path, params={**params, "group_by[]": "description"})
        ).json()
        both = (
            await api.get(path, params={**params, "group_by[]": ["workspace_id", "description"]})
        ).json()
        assert_error(
            await api.get(path, params={**params, "bucket_width": "1h"}),
            400,
            "invalid_request_error",
            None,
        )
        assert_error(
            await api.get(path, params={**params, "limit": 32}), 400, "invalid_request_error", None
        )

    def totals(body: dict[str, Any]) -> list[Decimal]:
        return [sum((Decimal(r["amount"]) for r in b["results"]), Decimal(0)) for b in body["data"]]

    assert totals(plain) == totals(by_description) == totals(both)
    assert sum(totals(plain)) > 0
    rows = [r for b in both["data"] for r in b["results"]]
    assert all(r["currency"] == "USD" and "e" not in r["amount"].lower() for r in rows)
    assert all(Decimal(r["amount"]) >= 0 for r in rows)
    tokens = [r for r in rows if r["cost_type"] == "tokens"]
    assert all(r["model"] and r["token_type"] and " Usage - " in r["description"] for r in tokens)
    assert all(r["model"] is None for b in plain["data"] for r in b["results"])


async def test_page_token_is_base64_of_bucket_start() -> None:
    start = datetime(2025, 5, 14, tzinfo=timezone.utc)
    assert page_token(start) == "page_MjAyNS0wNS0xNFQwMDowMDowMFo="
    assert page_token(start + timedelta(days=1)) != page_token(start)


# --- real HTTP --------------------------------------------------------------------------------


def test_real_http_drops_and_answers(app: Starlette) -> None:
    async def scenario(base_url: str) -> None:
        async with httpx.AsyncClient(base_url=base_url, headers=HEADERS) as api:
            assert (await api.get(f"{ORG}/me")).status_code == 200
            faults = [
                {"kind": "drop_before", "path": f"{ORG}/invites"},
                {"kind": "drop_after", "path": f"{ORG}/invites"},
            ]
            await api.post("/_emulator/faults", json={"faults": faults})
            for _ in faults:
                with pytest.raises(httpx.RemoteProtocolError):
                    await invite(api, "a@example.org")
            listed = (await api.get(f"{ORG}/invites")).json()["data"]
            assert [i["email"] for i in listed] == ["a@example.org"]
            unauthorized = await api.get(f"{ORG}/me", headers={"x-api-key": "nope"})
            assert_error(unauthorized, 401, "authentication_error", None)

    with running_server(app) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        asyncio.run(scenario(base_url))


def test_state_file_is_flushed_by_the_server(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    app = create_app(Store(), state_file=path)

    async def scenario(base_url: str) -> None:
        async with httpx.AsyncClient(base_url=base_url, headers=HEADERS) as api:
            await invite(api, "saved@example.org")
            for _ in range(40):
                await asyncio.sleep(0.05)
                if "saved@example.org" in path.read_text():
                    return

    with running_server(app) as base_url:
        asyncio.run(scenario(base_url))
        assert "saved@example.org" in path.read_text()
    loaded = Store.load(path)
    assert [i.email for i in loaded.list_invites(Cursor())[0]] == ["saved@example.org"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_in_process_transport_is_an_httpx_transport(app: Starlette) -> None:
    assert isinstance(InProcessTransport(app), httpx.AsyncBaseTransport)


def test_big_org_pages_quickly() -> None:
    store = generate(20000, seed=9)
    app = create_app(store)

    async def scenario() -> int:
        async with client_for(app, headers=HEADERS) as api:
            users = await walk(api, f"{ORG}/users", limit=1000)
            last = users[-1]["email"]
            found = (await api.get(f"{ORG}/users", params={"email": last})).json()["data"]
            assert [u["email"] for u in found] == [last]
            return len(users)

    assert asyncio.run(scenario()) == 20000


def test_the_real_server_rate_limit_answers_in_whole_seconds_per_second_and_minute() -> None:
    from roster.emulator.limits import Windows

    now = [0.0]
    windows = Windows(per_second=2, per_minute=3, clock=lambda: now[0])
    assert windows.take() is None
    assert windows.take() is None
    assert windows.take() == {"retry-after": "1"}  # a third in the same second; no -ms
    now[0] = 1.0
    assert windows.take() is None  # the first two have left the last second
    now[0] = 1.5
    assert windows.take() == {"retry-after": "59"}  # three in the last minute: until 60.0
    now[0] = 60.0
    assert windows.take() is None
