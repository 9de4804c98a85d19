"""The emulator's Rate Limits API (admin-api.md §15, §15a): the organization's entries, each
workspace's overrides, their paging and rules; read by the official SDK over real HTTP and by
roster's own client."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types.organization.organization_rate_limit_batch_group import (
    OrganizationRateLimitBatchGroup,
)
from anthropic.types.organization.organization_rate_limit_model_group import (
    OrganizationRateLimitModelGroup,
)
from starlette.applications import Starlette

from roster.emulator.app import create_app
from roster.emulator.clock import Clock
from roster.emulator.oracle import rate_limit_problems
from roster.emulator.rate_limits import (
    BATCH_GROUP_ID,
    CATALOGUE,
    FILES_GROUP_ID,
    GROUP_TYPES,
    HAIKU_3_GROUP_ID,
    OPUS_4_GROUP_ID,
    SONNET_4_GROUP_ID,
    WEB_SEARCH_GROUP_ID,
)
from roster.emulator.sample import sample_store
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.emulator.store import Store
from roster.emulator.transport import client_for
from roster.errors import InvalidRequestError
from roster.state import fetch_state, rate_limit_group_from, workspace_rate_limit_from
from tests.support import Org

pytestmark = pytest.mark.anyio

KEY = "sk-ant-admin01-test_key_0123456789"
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
ORG = "/v1/organizations"
LIMITS = f"{ORG}/rate_limits"
NOW = datetime(2026, 11, 18, 15, 30, tzinfo=timezone.utc)
BASE58 = "[1-9A-HJ-NP-Za-km-z]{22}"
ORDER = [
    "Claude Opus 4.x",
    "Claude Sonnet 4.x",
    "Claude Haiku 4.x",
    "Claude Haiku 3.x",
    "batch",
    "token_count",
    "files",
    "skills",
    "web_search",
]
SONNET_MODELS = [
    "claude-sonnet-4-5",
    "claude-sonnet-4-5-20250929",
    "claude-sonnet-4-0",
    "claude-sonnet-4-20250514",
]
SONNET_LIMITS = {
    "requests_per_minute": 4000,
    "input_tokens_per_minute_cache_aware": 4_000_000,
    "output_tokens_per_minute": 800_000,
}


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


async def new_workspace(api: httpx.AsyncClient, name: str = "Research") -> str:
    response = await api.post(f"{ORG}/workspaces", json={"name": name})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def workspace_limits(workspace_id: str) -> str:
    return f"{ORG}/workspaces/{workspace_id}/rate_limits"


def label(entry: dict[str, Any]) -> str:
    return str(entry["group"].get("display_name", entry["group"]["type"]))


def values(entry: dict[str, Any]) -> dict[str, tuple[int, int | None, str]]:
    """A workspace entry's limits as type -> (value, org_limit, source)."""
    return {
        limit["type"]: (limit["value"], limit["org_limit"], limit["source"]["type"])
        for limit in entry["limits"]
    }


async def walk(api: httpx.AsyncClient, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a ``next_page`` list, checking that none carries ``has_more``."""
    pages = []
    while True:
        body = (await api.get(path, params=params)).json()
        assert set(body) == {"data", "next_page"}
        pages.append(body["data"])
        if body["next_page"] is None:
            return pages
        params["page"] = body["next_page"]


# --- the organization's entries -------------------------------------------------------------------


async def test_every_entry_in_one_page_in_catalogue_order(
    api: httpx.AsyncClient, store: Store
) -> None:
    body = (await api.get(LIMITS)).json()
    assert set(body) == {"data", "next_page"}
    assert body["next_page"] is None
    assert [label(e) for e in body["data"]] == ORDER
    assert body["data"] == store.rate_limits.entries()
    sonnet = body["data"][1]
    assert sonnet == {
        "type": "rate_limit",
        "id": store.rate_limits.entry_id_for(SONNET_4_GROUP_ID),
        "group": {
            "type": "model_group",
            "id": SONNET_4_GROUP_ID,
            "display_name": "Claude Sonnet 4.x",
        },
        "models": SONNET_MODELS,
        "limits": [{"type": t, "value": v} for t, v in SONNET_LIMITS.items()],
    }
    web_search = body["data"][-1]
    assert web_search["group"] == {"type": "web_search", "id": WEB_SEARCH_GROUP_ID}
    assert web_search["models"] is None
    assert web_search["limits"] == [{"type": "tool_uses_per_second", "value": 30}]
    for entry in body["data"]:
        assert re.fullmatch(f"ratelimit_01{BASE58}", entry["id"])
        assert re.fullmatch(f"rlg_01{BASE58}", entry["group"]["id"])
        assert ("display_name" in entry["group"]) == (entry["group"]["type"] == "model_group")
    assert rate_limit_problems(store) == []


@pytest.mark.parametrize("group_type", GROUP_TYPES)
async def test_group_type_filter(api: httpx.AsyncClient, group_type: str) -> None:
    data = (await api.get(LIMITS, params={"group_type": group_type})).json()["data"]
    assert {e["group"]["type"] for e in data} == {group_type}
    assert len(data) == (4 if group_type == "model_group" else 1)


async def test_unknown_group_type_is_400(api: httpx.AsyncClient, store: Store) -> None:
    for path in (LIMITS, workspace_limits(store.default_workspace_id)):
        response = await api.get(path, params={"group_type": "embeddings"})
        assert_error(response, 400, "invalid_request_error", None)


@pytest.mark.parametrize(
    ("model", "group"),
    [
        ("claude-sonnet-4-5", "Claude Sonnet 4.x"),
        ("claude-sonnet-4-20250514", "Claude Sonnet 4.x"),
        ("claude-opus-4-1", "Claude Opus 4.x"),
        ("claude-haiku-4-5-20251001", "Claude Haiku 4.x"),
        ("claude-3-haiku-20240307", "Claude Haiku 3.x"),
    ],
)
async def test_model_filter_finds_the_single_entry(
    api: httpx.AsyncClient, model: str, group: str
) -> None:
    data = (await api.get(LIMITS, params={"model": model})).json()["data"]
    assert [label(e) for e in data] == [group]
    assert model in data[0]["models"]


@pytest.mark.parametrize("model", ["claude-2.1", "Claude Sonnet 4.x", "model_group", "batch", ""])
async def test_model_that_no_entry_contains_is_404(api: httpx.AsyncClient, model: str) -> None:
    response = await api.get(LIMITS, params={"model": model})
    assert_error(response, 404, "not_found_error", None)


async def test_model_and_group_type_together(api: httpx.AsyncClient) -> None:
    params = {"model": "claude-sonnet-4-5", "group_type": "model_group"}
    assert len((await api.get(LIMITS, params=params)).json()["data"]) == 1
    params["group_type"] = "batch"
    assert (await api.get(LIMITS, params=params)).json() == {"data": [], "next_page": None}


@pytest.mark.parametrize("limit", range(1, 11))
async def test_paging_visits_every_entry_once(api: httpx.AsyncClient, limit: int) -> None:
    pages = await walk(api, LIMITS, limit=limit)
    every = (await api.get(LIMITS)).json()["data"]
    assert [e for page in pages for e in page] == every
    assert all(1 <= len(page) <= limit for page in pages)
    assert len(pages) == -(-len(every) // limit)


async def test_paging_with_a_filter(api: httpx.AsyncClient) -> None:
    pages = await walk(api, LIMITS, group_type="model_group", limit=3)
    assert [[label(e) for e in page] for page in pages] == [ORDER[:3], ORDER[3:4]]


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "two"])
async def test_limit_out_of_range_is_400(api: httpx.AsyncClient, limit: str) -> None:
    assert_error(await api.get(LIMITS, params={"limit": limit}), 400, "invalid_request_error", None)


async def test_limit_1000_is_every_entry(api: httpx.AsyncClient) -> None:
    body = (await api.get(LIMITS, params={"limit": 1000})).json()
    assert (len(body["data"]), body["next_page"]) == (9, None)


async def test_bad_page_token_is_400(api: httpx.AsyncClient) -> None:
    other = create_app(Store(organization_id="00000000-0000-4000-8000-000000000000"))
    async with client_for(other, headers=HEADERS) as elsewhere:
        foreign = (await elsewhere.get(LIMITS, params={"limit": 2})).json()["next_page"]
    assert foreign
    for token in ("nope", "page_!!!", "page_", "page_bm9wZQ==", foreign):
        response = await api.get(LIMITS, params={"page": token, "limit": 2})
        assert_error(response, 400, "invalid_request_error", "invalid_page_token")


def test_entry_ids_differ_between_organizations_and_group_ids_do_not() -> None:
    first = Store(organization_id="11111111-1111-4111-8111-111111111111").rate_limits.entries()
    again = Store(organization_id="11111111-1111-4111-8111-111111111111").rate_limits.entries()
    other = Store(organization_id="22222222-2222-4222-8222-222222222222").rate_limits.entries()
    assert first == again
    assert [e["group"] for e in first] == [e["group"] for e in other]
    assert {e["id"] for e in first}.isdisjoint(e["id"] for e in other)
    assert [e["id"] for e in first] != [e["group"]["id"] for e in first]
    assert len({e["id"] for e in first}) == len(CATALOGUE)


def test_entry_id_for_reads_group_ids_types_models_and_entry_ids(store: Store) -> None:
    limits = store.rate_limits
    batch = limits.entry_id_for(BATCH_GROUP_ID)
    assert limits.entry_id_for("batch") == batch
    assert limits.entry_id_for(batch) == batch
    opus = limits.entry_id_for("claude-opus-4-20250514")
    assert opus == limits.entry_id_for(OPUS_4_GROUP_ID)
    for unknown in ("model_group", "claude-2.1", "rlg_01nope"):
        with pytest.raises(KeyError):
            limits.entry_id_for(unknown)


# --- a workspace's entries ----------------------------------------------------------------------


async def test_a_workspace_without_overrides_lists_nothing(api: httpx.AsyncClient) -> None:
    workspace_id = await new_workspace(api)
    body = (await api.get(workspace_limits(workspace_id))).json()
    assert body == {"data": [], "next_page": None}


async def test_default_list_is_the_overrides_only(api: httpx.AsyncClient, store: Store) -> None:
    workspace_id = await new_workspace(api)
    store.rate_limits.set_overrides(
        workspace_id, "claude-sonnet-4-5", {"output_tokens_per_minute": 1}
    )
    store.rate_limits.set_overrides(workspace_id, "web_search", {"tool_uses_per_second": 5})
    body = (await api.get(workspace_limits(workspace_id))).json()
    assert body["next_page"] is None
    sonnet, web_search = body["data"]
    assert sonnet == {
        "type": "workspace_rate_limit",
        "rate_limit_id": store.rate_limits.entry_id_for(SONNET_4_GROUP_ID),
        "workspace_id": workspace_id,
        "group": {
            "type": "model_group",
            "id": SONNET_4_GROUP_ID,
            "display_name": "Claude Sonnet 4.x",
        },
        "models": SONNET_MODELS,
        "limits": [
            {
                "type": "output_tokens_per_minute",
                "value": 1,
                "org_limit": 800_000,
                "source": {"type": "workspace"},
            }
        ],
    }
    assert web_search["group"] == {"type": "web_search", "id": WEB_SEARCH_GROUP_ID}
    assert web_search["models"] is None
    assert values(web_search) == {"tool_uses_per_second": (5, 30, "workspace")}
    explicit = await api.get(workspace_limits(workspace_id), params={"include_inherited": "false"})
    assert explicit.json() == body


async def test_include_inherited_lists_every_group_and_marks_each_source(
    api: httpx.AsyncClient, store: Store
) -> None:
    workspace_id = await new_workspace(api)
    store.rate_limits.set_overrides(
        workspace_id, SONNET_4_GROUP_ID, {"requests_per_minute": 100, "tokens_per_day": 5_000}
    )
    body = (
        await api.get(workspace_limits(workspace_id), params={"include_inherited": "true"})
    ).json()
    assert body["next_page"] is None
    assert [label(e) for e in body["data"]] == ORDER
    org = {e["id"]: e for e in (await api.get(LIMITS)).json()["data"]}
    for entry in body["data"]:
        assert entry["rate_limit_id"] in org
        assert entry["group"] == org[entry["rate_limit_id"]]["group"]
        assert entry["models"] == org[entry["rate_limit_id"]]["models"]
        if entry["group"]["id"] == SONNET_4_GROUP_ID:
            continue
        inherited = {
            limit["type"]: limit["value"] for limit in org[entry["rate_limit_id"]]["limits"]
        }
        assert values(entry) == {t: (v, v, "organization") for t, v in inherited.items()}
    sonnet = body["data"][1]
    assert values(sonnet) == {
        "requests_per_minute": (100, 4000, "workspace"),
        "input_tokens_per_minute_cache_aware": (4_000_000, 4_000_000, "organization"),
        "output_tokens_per_minute": (800_000, 800_000, "organization"),
        "tokens_per_day": (5_000, None, "workspace"),
    }
    only_own = (await api.get(workspace_limits(workspace_id))).json()["data"]
    assert [values(e) for e in only_own] == [
        {
            "requests_per_minute": (100, 4000, "workspace"),
            "tokens_per_day": (5_000, None, "workspace"),
        }
    ]


async def test_include_inherited_must_be_true_or_false(
    api: httpx.AsyncClient, store: Store
) -> None:
    response = await api.get(
        workspace_limits(store.default_workspace_id), params={"include_inherited": "yes"}
    )
    assert_error(response, 400, "invalid_request_error", None)


async def test_workspace_list_filters_and_pages(api: httpx.AsyncClient, store: Store) -> None:
    workspace_id = await new_workspace(api)
    for ref in ("claude-opus-4-5", "claude-haiku-4-5", "batch", "skills"):
        store.rate_limits.set_overrides(workspace_id, ref, {"requests_per_minute": 10})
    path = workspace_limits(workspace_id)
    pages = await walk(api, path, limit=3)
    assert [[label(e) for e in page] for page in pages] == [
        ["Claude Opus 4.x", "Claude Haiku 4.x", "batch"],
        ["skills"],
    ]
    everything = await walk(api, path, include_inherited="true", limit=2)
    assert [len(page) for page in everything] == [2, 2, 2, 2, 1]
    assert [label(e) for page in everything for e in page] == ORDER
    models = (await api.get(path, params={"group_type": "model_group"})).json()["data"]
    assert [label(e) for e in models] == ["Claude Opus 4.x", "Claude Haiku 4.x"]
    files = await api.get(path, params={"group_type": "files", "include_inherited": "true"})
    assert [label(e) for e in files.json()["data"]] == ["files"]
    assert_error(await api.get(path, params={"limit": 0}), 400, "invalid_request_error", None)
    assert_error(
        await api.get(path, params={"page": "x"}),
        400,
        "invalid_request_error",
        "invalid_page_token",
    )


async def test_a_page_whose_first_group_lost_its_override_starts_at_the_next(
    api: httpx.AsyncClient, store: Store
) -> None:
    workspace_id = await new_workspace(api)
    for ref in ("claude-opus-4-5", "claude-haiku-4-5", "batch"):
        store.rate_limits.set_overrides(workspace_id, ref, {"requests_per_minute": 10})
    path = workspace_limits(workspace_id)
    first = (await api.get(path, params={"limit": 1})).json()
    store.rate_limits.set_overrides(workspace_id, "claude-haiku-4-5", {"requests_per_minute": None})
    rest = (await api.get(path, params={"limit": 1, "page": first["next_page"]})).json()
    assert [label(e) for e in rest["data"]] == ["batch"]
    assert rest["next_page"] is None


async def test_unknown_workspace_is_404(api: httpx.AsyncClient, store: Store) -> None:
    missing = workspace_limits("wrkspc_01nope")
    assert_error(await api.get(missing), 404, "not_found_error", None)
    entry = store.rate_limits.entry_id_for("batch")
    body = {"limits": [{"type": "requests_per_minute", "value": 5}]}
    assert_error(await api.post(f"{missing}/{entry}", json=body), 404, "not_found_error", None)


# --- updating a workspace's overrides ------------------------------------------------------------


async def update(
    api: httpx.AsyncClient, workspace_id: str, ref: str, store: Store, **limits: int | None
) -> httpx.Response:
    body = {"limits": [{"type": t, "value": v} for t, v in limits.items()]}
    entry = store.rate_limits.entry_id_for(ref)
    return await api.post(f"{workspace_limits(workspace_id)}/{entry}", json=body)


async def test_update_changes_only_the_named_types(api: httpx.AsyncClient, store: Store) -> None:
    workspace_id = await new_workspace(api)
    first = await update(
        api, workspace_id, SONNET_4_GROUP_ID, store, output_tokens_per_minute=400_000
    )
    assert first.status_code == 200, first.text
    assert first.json()["rate_limit_id"] == store.rate_limits.entry_id_for(SONNET_4_GROUP_ID)
    assert values(first.json()) == {"output_tokens_per_minute": (400_000, 800_000, "workspace")}
    second = await update(api, workspace_id, SONNET_4_GROUP_ID, store, requests_per_minute=2000)
    assert values(second.json()) == {
        "requests_per_minute": (2000, 4000, "workspace"),
        "output_tokens_per_minute": (400_000, 800_000, "workspace"),
    }
    listed = (await api.get(workspace_limits(workspace_id))).json()["data"]
    assert listed == [second.json()]
    entry_id = store.rate_limits.entry_id_for(SONNET_4_GROUP_ID)
    assert store.rate_limits.overrides(workspace_id) == {
        entry_id: {"requests_per_minute": 2000, "output_tokens_per_minute": 400_000}
    }


async def test_null_clears_an_override_and_clearing_all_leaves_no_entry(
    api: httpx.AsyncClient, store: Store
) -> None:
    workspace_id = await new_workspace(api)
    await update(
        api, workspace_id, "batch", store, requests_per_minute=100, output_tokens_per_minute=7
    )
    cleared = await update(api, workspace_id, "batch", store, output_tokens_per_minute=None)
    assert values(cleared.json()) == {"requests_per_minute": (100, 4000, "workspace")}
    inherited = await api.get(workspace_limits(workspace_id), params={"include_inherited": "true"})
    batch = next(e for e in inherited.json()["data"] if e["group"]["type"] == "batch")
    assert values(batch) == {"requests_per_minute": (100, 4000, "workspace")}
    empty = await update(api, workspace_id, "batch", store, requests_per_minute=None)
    assert empty.status_code == 200
    assert empty.json()["limits"] == []
    assert empty.json()["group"] == {"type": "batch", "id": BATCH_GROUP_ID}
    assert (await api.get(workspace_limits(workspace_id))).json()["data"] == []
    assert store.rate_limits.overrides(workspace_id) == {}
    again = await update(api, workspace_id, "batch", store, requests_per_minute=None)
    assert again.json()["limits"] == []


async def test_a_value_above_the_org_limit_is_stored_as_given(
    api: httpx.AsyncClient, store: Store
) -> None:
    workspace_id = await new_workspace(api)
    response = await update(
        api, workspace_id, HAIKU_3_GROUP_ID, store, output_tokens_per_minute=10_000_000
    )
    assert values(response.json()) == {
        "output_tokens_per_minute": (10_000_000, 80_000, "workspace")
    }
    entry_id = store.rate_limits.entry_id_for(HAIKU_3_GROUP_ID)
    assert store.rate_limits.overrides(workspace_id)[entry_id] == {
        "output_tokens_per_minute": 10_000_000
    }


async def test_every_update_bumps_the_version_and_reads_do_not(
    api: httpx.AsyncClient, store: Store
) -> None:
    workspace_id = await new_workspace(api)
    before = store.version
    await update(api, workspace_id, "files", store, requests_per_minute=10)
    assert store.version > before
    before = store.version
    await api.get(workspace_limits(workspace_id), params={"include_inherited": "true"})
    await api.get(LIMITS)
    assert store.version == before
    await update(api, workspace_id, "files", store, requests_per_minute=None)
    assert store.version > before


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        ("absent", "invalid_limits"),
        ("not a list", "invalid_limits"),
        ([], "invalid_limits"),
        ({"type": "requests_per_minute", "value": 1}, "invalid_limits"),
        ([1], "invalid_limit"),
        (["requests_per_minute"], "invalid_limit"),
        ([{"type": "requests_per_hour", "value": 1}], "invalid_limit_type"),
        ([{"type": "RPM", "value": 1}], "invalid_limit_type"),
        ([{"value": 1}], "invalid_limit_type"),
        ([{"type": None, "value": 1}], "invalid_limit_type"),
        ([{"type": ["requests_per_minute"], "value": 1}], "invalid_limit_type"),
        ([{"type": "requests_per_minute"}], "invalid_limit_value"),
        ([{"type": "requests_per_minute", "value": 0}], "invalid_limit_value"),
        ([{"type": "requests_per_minute", "value": -5}], "invalid_limit_value"),
        ([{"type": "requests_per_minute", "value": 1.5}], "invalid_limit_value"),
        ([{"type": "requests_per_minute", "value": 100.0}], "invalid_limit_value"),
        ([{"type": "requests_per_minute", "value": "100"}], "invalid_limit_value"),
        ([{"type": "requests_per_minute", "value": True}], "invalid_limit_value"),
        (
            [
                {"type": "requests_per_minute", "value": 1},
                {"type": "requests_per_minute", "value": None},
            ],
            "duplicate_limit_type",
        ),
        (
            [
                {"type": "requests_per_minute", "value": 1},
                {"type": "output_tokens_per_minute", "value": 0},
            ],
            "invalid_limit_value",
        ),
    ],
)
async def test_update_body_rules(
    api: httpx.AsyncClient, store: Store, limits: Any, code: str
) -> None:
    workspace_id = await new_workspace(api)
    store.rate_limits.set_overrides(workspace_id, "batch", {"requests_per_minute": 42})
    body = {} if limits == "absent" else {"limits": limits}
    entry = store.rate_limits.entry_id_for("batch")
    response = await api.post(f"{workspace_limits(workspace_id)}/{entry}", json=body)
    assert_error(response, 400, "invalid_request_error", code)
    assert store.rate_limits.overrides(workspace_id) == {entry: {"requests_per_minute": 42}}


@pytest.mark.parametrize("body", [b"[]", b'"limits"', b"null", b""])
async def test_a_body_that_is_not_an_object_is_invalid_limits(
    api: httpx.AsyncClient, store: Store, body: bytes
) -> None:
    workspace_id = await new_workspace(api)
    path = f"{workspace_limits(workspace_id)}/{store.rate_limits.entry_id_for('batch')}"
    headers = {"content-type": "application/json"}
    response = await api.post(path, content=body, headers=headers)
    assert_error(response, 400, "invalid_request_error", "invalid_limits")
    recorded = (await api.get("/_emulator/violations")).json()["violations"]
    await api.delete("/_emulator/violations")  # strict mode records the non-object bodies
    assert [v["problem"] for v in recorded] == (
        [] if not body else ["the body is not a JSON object"]
    )


async def test_unknown_rate_limit_id_is_404(api: httpx.AsyncClient, store: Store) -> None:
    workspace_id = await new_workspace(api)
    foreign = Store(organization_id="33333333-3333-4333-8333-333333333333").rate_limits
    body = {"limits": [{"type": "requests_per_minute", "value": 5}]}
    for rate_limit_id in (
        "ratelimit_01nope",
        BATCH_GROUP_ID,
        "batch",
        foreign.entry_id_for("batch"),
    ):
        response = await api.post(f"{workspace_limits(workspace_id)}/{rate_limit_id}", json=body)
        assert_error(response, 404, "not_found_error", None)
    assert store.rate_limits.overrides(workspace_id) == {}


async def test_an_archived_workspace_keeps_its_overrides_and_refuses_changes(
    api: httpx.AsyncClient, store: Store
) -> None:
    workspace_id = await new_workspace(api)
    await update(api, workspace_id, SONNET_4_GROUP_ID, store, requests_per_minute=500)
    await api.post(f"{ORG}/workspaces/{workspace_id}/archive")
    refused = await update(api, workspace_id, SONNET_4_GROUP_ID, store, requests_per_minute=None)
    assert_error(refused, 400, "invalid_request_error", "workspace_archived")
    bad_body = await api.post(
        f"{workspace_limits(workspace_id)}/{store.rate_limits.entry_id_for('batch')}", json={}
    )
    assert_error(bad_body, 400, "invalid_request_error", "workspace_archived")
    listed = (await api.get(workspace_limits(workspace_id))).json()["data"]
    assert [values(e) for e in listed] == [{"requests_per_minute": (500, 4000, "workspace")}]
    assert rate_limit_problems(store) == []


async def test_the_default_workspace_has_the_org_limits_and_no_overrides(
    api: httpx.AsyncClient, store: Store
) -> None:
    default = store.default_workspace_id
    refused = await update(api, default, SONNET_4_GROUP_ID, store, requests_per_minute=500)
    assert_error(refused, 400, "invalid_request_error", "default_workspace_rate_limits")
    assert (await api.get(workspace_limits(default))).json() == {"data": [], "next_page": None}
    inherited = await api.get(workspace_limits(default), params={"include_inherited": "true"})
    entries = inherited.json()["data"]
    assert [label(e) for e in entries] == ORDER
    assert {limit["source"]["type"] for e in entries for limit in e["limits"]} == {"organization"}
    assert store.rate_limits.overrides(default) == {}


# --- state, seed, sample ----------------------------------------------------------------------


def with_overrides() -> tuple[Store, str, str]:
    store = Store(Clock.frozen(NOW))
    first = store.create_workspace({"name": "First"}).id
    second = store.create_workspace({"name": "Second"}).id
    store.rate_limits.set_overrides(first, "claude-sonnet-4-5", {"output_tokens_per_minute": 9})
    store.rate_limits.set_overrides(first, "batch", {"requests_per_minute": 8})
    store.rate_limits.set_overrides(second, OPUS_4_GROUP_ID, {"fast_otpm": 7})
    store.archive_workspace(second)
    return store, first, second


def test_overrides_survive_save_and_load(tmp_path: Path) -> None:
    store, first, second = with_overrides()
    path = tmp_path / "state.json"
    store.save(path)
    loaded = Store.load(path, Clock.frozen(NOW))
    assert loaded.dumps() == store.dumps()
    for workspace_id in (first, second):
        assert loaded.rate_limits.overrides(workspace_id) == store.rate_limits.overrides(
            workspace_id
        )
    assert json.loads(path.read_text())["workspace_rate_limits"] == [
        {
            "workspace_id": first,
            "group_id": SONNET_4_GROUP_ID,
            "limits": {"output_tokens_per_minute": 9},
        },
        {"workspace_id": first, "group_id": BATCH_GROUP_ID, "limits": {"requests_per_minute": 8}},
        {"workspace_id": second, "group_id": OPUS_4_GROUP_ID, "limits": {"fast_otpm": 7}},
    ]


def test_a_state_file_from_before_rate_limits_loads_with_no_overrides() -> None:
    store, first, _ = with_overrides()
    older = store.to_json()
    del older["workspace_rate_limits"]
    loaded = Store.from_json(older)
    assert loaded.rate_limits.overrides(first) == {}
    assert loaded.to_json()["workspace_rate_limits"] == []
    assert loaded.rate_limits.entries() == store.rate_limits.entries()


async def test_reset_drops_overrides_and_state_put_brings_them_back() -> None:
    store, first, _ = with_overrides()
    saved = store.to_json()
    async with client_for(create_app(store), headers=HEADERS) as api:
        await api.post("/_emulator/reset")
        assert store.to_json()["workspace_rate_limits"] == []
        await api.put("/_emulator/state", json=saved)
        listed = (await api.get(workspace_limits(first))).json()["data"]
    assert [label(e) for e in listed] == ["Claude Sonnet 4.x", "batch"]
    assert listed[0]["rate_limit_id"] == store.rate_limits.entry_id_for(SONNET_4_GROUP_ID)


def test_seeded_overrides_are_deterministic_and_plausible() -> None:
    first, second = generate(400, seed=4, workspaces=12), generate(400, seed=4, workspaces=12)
    assert first.dumps() == second.dumps()
    state = first.to_json()
    active = [w["id"] for w in state["workspaces"] if not w["archived_at"] and not w["is_default"]]
    overridden = first.rate_limits.overridden_workspaces()
    assert set(overridden) <= set(active)
    assert len(overridden) == 4  # a third of 12
    sonnet = first.rate_limits.entry_id_for(SONNET_4_GROUP_ID)
    batch = first.rate_limits.entry_id_for(BATCH_GROUP_ID)
    for workspace_id in overridden:
        own = first.rate_limits.overrides(workspace_id)
        assert set(own) <= {sonnet, batch}
        for limiter, value in own[sonnet].items():
            assert 0 < value < SONNET_LIMITS[limiter]
    assert sum(batch in first.rate_limits.overrides(w) for w in overridden) == 2
    assert rate_limit_problems(first) == []
    assert (
        generate(400, seed=5, workspaces=12).to_json()["workspace_rate_limits"]
        != (state["workspace_rate_limits"])
    )


def test_tinyco_has_exactly_its_overrides() -> None:
    store = sample_store()
    ids = {w["name"]: w["id"] for w in store.to_json()["workspaces"]}
    limits = store.rate_limits
    assert limits.overridden_workspaces() == sorted([ids["Production"], ids["Research"]])
    assert limits.overrides(ids["Production"]) == {
        limits.entry_id_for(SONNET_4_GROUP_ID): {
            "requests_per_minute": 2000,
            "output_tokens_per_minute": 300_000,
        },
        limits.entry_id_for(BATCH_GROUP_ID): {"requests_per_minute": 100},
    }
    assert limits.overrides(ids["Research"]) == {
        limits.entry_id_for(OPUS_4_GROUP_ID): {"output_tokens_per_minute": 40_000}
    }
    assert rate_limit_problems(store) == []


def test_the_oracle_names_broken_overrides(store: Store) -> None:
    default = store.default_workspace_id
    store.rate_limits.set_overrides("wrkspc_01gone", "batch", {"requests_per_minute": 1})
    store.rate_limits.set_overrides(default, "files", {"requests_per_minute": 2})
    assert set(rate_limit_problems(store)) == {
        f"override of {BATCH_GROUP_ID} in wrkspc_01gone: no such workspace",
        f"override of {FILES_GROUP_ID} in {default}: the Default workspace cannot have overrides",
    }


# --- the official SDK, over real HTTP -----------------------------------------------------------


def test_the_official_sdk_reads_and_updates_rate_limits(store: Store) -> None:
    workspace_id = store.create_workspace({"name": "SDK"}).id
    sonnet_id = store.rate_limits.entry_id_for(SONNET_4_GROUP_ID)
    with running_server(create_app(store)) as base_url:
        client = anthropic.Anthropic(api_key=KEY, base_url=base_url, max_retries=0)
        try:
            every = list(client.organization.rate_limits.list())
            by_model = list(client.organization.rate_limits.list(model="claude-sonnet-4-5"))
            batch = list(client.organization.rate_limits.list(group_type="batch"))
            paged = list(client.organization.rate_limits.list(limit=2))
            updated = client.organization.workspaces.rate_limits.update(
                sonnet_id,
                workspace_id=workspace_id,
                limits=[{"type": "output_tokens_per_minute", "value": 400000}],
            )
            inherited = list(
                client.organization.workspaces.rate_limits.list(
                    workspace_id, include_inherited=True
                )
            )
            with pytest.raises(anthropic.NotFoundError):
                client.organization.rate_limits.list(model="claude-2.1")
            with pytest.raises(anthropic.BadRequestError) as refused:
                client.organization.workspaces.rate_limits.update(
                    sonnet_id,
                    workspace_id=store.default_workspace_id,
                    limits=[{"type": "requests_per_minute", "value": 1}],
                )
        finally:
            client.close()

    assert [e.id for e in every] == [e["id"] for e in store.rate_limits.entries()]
    assert [e.id for e in paged] == [e.id for e in every]
    [sonnet] = by_model
    assert sonnet.type == "rate_limit"
    assert sonnet.id == sonnet_id
    assert isinstance(sonnet.group, OrganizationRateLimitModelGroup)
    assert (sonnet.group.id, sonnet.group.display_name) == (SONNET_4_GROUP_ID, "Claude Sonnet 4.x")
    assert sonnet.models is not None
    assert "claude-sonnet-4-5" in sonnet.models
    assert {v.type: v.value for v in sonnet.limits} == SONNET_LIMITS
    [only_batch] = batch
    assert isinstance(only_batch.group, OrganizationRateLimitBatchGroup)
    assert only_batch.group.id == BATCH_GROUP_ID
    assert only_batch.models is None
    assert [(v.type, v.value) for v in only_batch.limits] == [("requests_per_minute", 4000)]

    assert updated.type == "workspace_rate_limit"
    assert (updated.rate_limit_id, updated.workspace_id) == (sonnet_id, workspace_id)
    [otpm] = updated.limits
    assert (otpm.type, otpm.value, otpm.org_limit, otpm.source.type) == (
        "output_tokens_per_minute",
        400000,
        800000,
        "workspace",
    )
    assert [e.rate_limit_id for e in inherited] == [e.id for e in every]
    sonnet_here = inherited[1]
    assert {v.type: (v.value, v.source.type) for v in sonnet_here.limits} == {
        "requests_per_minute": (4000, "organization"),
        "input_tokens_per_minute_cache_aware": (4_000_000, "organization"),
        "output_tokens_per_minute": (400000, "workspace"),
    }
    assert all(v.value == v.org_limit for e in inherited[2:] for v in e.limits)
    assert refused.value.status_code == 400
    assert "default_workspace_rate_limits" in json.dumps(refused.value.body)
    assert store.rate_limits.overrides(workspace_id) == {
        sonnet_id: {"output_tokens_per_minute": 400000}
    }


# --- roster's own client ------------------------------------------------------------------------


def test_roster_client_reads_and_updates_rate_limits() -> None:
    store = sample_store()
    production = next(w["id"] for w in store.to_json()["workspaces"] if w["name"] == "Production")
    client = Org(store).client()
    sonnet_id = store.rate_limits.entry_id_for(SONNET_4_GROUP_ID)

    async def scenario() -> dict[str, Any]:
        pages = [page async for page in client.cursor_pages(LIMITS, [("limit", "2")])]
        return {
            "every": await client.list_rate_limits(),
            "models": await client.list_rate_limits(group_type="model_group"),
            "opus": await client.list_rate_limits(model="claude-opus-4-1"),
            "pages": pages,
            "own": await client.list_workspace_rate_limits(production),
            "all": await client.list_workspace_rate_limits(production, include_inherited=True),
            "batch": await client.list_workspace_rate_limits(production, group_type="batch"),
            "updated": await client.update_workspace_rate_limits(
                production,
                sonnet_id,
                [
                    {"type": "output_tokens_per_minute", "value": None},
                    {"type": "tokens_per_day", "value": 9},
                ],
            ),
        }

    found = asyncio.run(scenario())
    assert found["every"] == store.rate_limits.entries()
    assert [len(page) for page in found["pages"]] == [2, 2, 2, 2, 1]
    assert [e for page in found["pages"] for e in page] == found["every"]
    assert [label(e) for e in found["models"]] == ORDER[:4]
    assert [label(e) for e in found["opus"]] == ["Claude Opus 4.x"]
    assert [label(e) for e in found["own"]] == ["Claude Sonnet 4.x", "batch"]
    assert len(found["all"]) == 9
    assert [label(e) for e in found["batch"]] == ["batch"]
    assert values(found["updated"]) == {
        "requests_per_minute": (2000, 4000, "workspace"),
        "tokens_per_day": (9, None, "workspace"),
    }

    groups = [rate_limit_group_from(e) for e in found["every"]]
    assert [g.label for g in groups] == ORDER
    sonnet = groups[1]
    assert (sonnet.id, sonnet.group_id, sonnet.group_type) == (
        sonnet_id,
        SONNET_4_GROUP_ID,
        "model_group",
    )
    assert "claude-sonnet-4-5" in sonnet.models
    assert dict(sonnet.limits) == SONNET_LIMITS
    assert (groups[-1].models, dict(groups[-1].limits)) == ((), {"tool_uses_per_second": 30})
    own = [workspace_rate_limit_from(e) for e in found["own"]]
    assert [(o.workspace_id, o.rate_limit_id, dict(o.overrides)) for o in own] == [
        (production, sonnet_id, {"requests_per_minute": 2000, "output_tokens_per_minute": 300_000}),
        (production, store.rate_limits.entry_id_for("batch"), {"requests_per_minute": 100}),
    ]
    inherited = [workspace_rate_limit_from(e) for e in found["all"]]
    assert [dict(o.overrides) for o in inherited if o.overrides] == [dict(o.overrides) for o in own]


def test_roster_client_gets_the_error_code_of_a_refused_update() -> None:
    store = sample_store()
    client = Org(store).client()
    entry = store.rate_limits.entry_id_for("batch")

    async def scenario() -> None:
        await client.update_workspace_rate_limits(
            store.default_workspace_id, entry, [{"type": "requests_per_minute", "value": 1}]
        )

    with pytest.raises(InvalidRequestError) as refused:
        asyncio.run(scenario())
    assert refused.value.error_code == "default_workspace_rate_limits"


def test_fetch_state_reads_the_overrides_of_every_workspace() -> None:
    store = sample_store()
    ids = {w["name"]: w["id"] for w in store.to_json()["workspaces"]}
    current = asyncio.run(fetch_state(Org(store).client(), rate_limits_of=None))
    assert sorted(g.label for g in current.rate_limits) == sorted(ORDER)  # state.py's order
    found = {
        (o.workspace_id, o.rate_limit_id): dict(o.overrides) for o in current.workspace_rate_limits
    }
    assert found == {
        (ids["Production"], store.rate_limits.entry_id_for("claude-sonnet-4-5")): {
            "requests_per_minute": 2000,
            "output_tokens_per_minute": 300_000,
        },
        (ids["Production"], store.rate_limits.entry_id_for("batch")): {"requests_per_minute": 100},
        (ids["Research"], store.rate_limits.entry_id_for("claude-opus-4-5")): {
            "output_tokens_per_minute": 40_000
        },
    }
