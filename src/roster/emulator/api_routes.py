"""The Admin API routes (admin-api.md §§6-15): parse the request, ask the store, answer JSON.

``api_routes`` is the route table, and each route states its contract there: the query
parameters and body fields admin-api.md gives it, which strict mode holds requests to.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from roster.emulator.claude_code import claude_code_report
from roster.emulator.pagination import Cursor, Page, parse_cursor
from roster.emulator.problems import invalid
from roster.emulator.records import JsonDict
from roster.emulator.reports import cost_report, usage_report
from roster.emulator.rules import require_no_rbac_groups, require_org_roles
from roster.emulator.store import INVITE_STATUSES, Store
from roster.emulator.strict import Contract, contract

ORG = "/v1/organizations"
CURSOR = ("limit", "after_id", "before_id")
WORKSPACE_FIELDS = (
    "name",
    "data_residency",
    "display_color",
    "tags",
    "external_key_id",
    "user_profile_id",
)
REPORT = ("starting_at", "ending_at", "bucket_width", "limit", "page", "group_by[]")
USAGE_FILTERS = (
    "api_key_ids[]",
    "workspace_ids[]",
    "models[]",
    "service_tiers[]",
    "context_window[]",
    "inference_geos[]",
    "account_ids[]",
    "service_account_ids[]",
    "speeds[]",
)


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def json_value(request: Request) -> object:
    """The request's JSON, whatever its shape; an empty body counts as ``{}``."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value: object = json.loads(raw)
    except ValueError:
        raise invalid("request body is not valid JSON") from None
    return value


async def json_body(request: Request) -> JsonDict:
    """The request's JSON object; an empty body counts as ``{}``."""
    body = await json_value(request)
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    return body


def cursor_of(request: Request) -> Cursor:
    params = request.query_params
    return parse_cursor(params.get("limit"), params.get("after_id"), params.get("before_id"))


def flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "false":
        return False
    if raw == "true":
        return True
    raise invalid(f"{name}: expected true or false, got {raw!r}")


def array(request: Request, name: str) -> list[str]:
    """``name[]=a&name[]=b``; the bare ``name`` form is accepted too (strict mode flags it)."""
    return request.query_params.getlist(f"{name}[]") + request.query_params.getlist(name)


def next_page_response(data: Sequence[JsonDict], next_page: str | None) -> JSONResponse:
    """A page of a list that pages by ``next_page`` alone: no ``has_more`` (§3b)."""
    return JSONResponse({"data": list(data), "next_page": next_page})


def page_response(data: Sequence[JsonDict], page: Page) -> JSONResponse:
    return JSONResponse(
        {
            "data": list(data),
            "has_more": page.has_more,
            "first_id": page.ids[0] if page.ids else None,
            "last_id": page.ids[-1] if page.ids else None,
        }
    )


# --- organization and users ----------------------------------------------------------------


async def get_me(request: Request) -> JSONResponse:
    return JSONResponse(store_of(request).organization_json())


async def list_users(request: Request) -> JSONResponse:
    roles = require_org_roles(array(request, "roles")) or None
    email = request.query_params.get("email")
    users, page = store_of(request).list_users(cursor_of(request), email, roles)
    return page_response([u.to_api() for u in users], page)


async def get_user(request: Request) -> JSONResponse:
    return JSONResponse(store_of(request).get_user(request.path_params["user_id"]).to_api())


async def update_user(request: Request) -> JSONResponse:
    body = await json_body(request)
    user = store_of(request).update_user_role(request.path_params["user_id"], body.get("role"))
    return JSONResponse(user.to_api())


async def remove_user(request: Request) -> JSONResponse:
    user_id = request.path_params["user_id"]
    store_of(request).remove_user(user_id)
    return JSONResponse({"id": user_id, "type": "user_deleted"})


# --- invites ---------------------------------------------------------------------------------


async def create_invite(request: Request) -> JSONResponse:
    body = await json_body(request)
    require_no_rbac_groups(body.get("rbac_group_ids"))
    store = store_of(request)
    invite = store.create_invite(body.get("email"), body.get("role"))
    return JSONResponse(invite.to_api(store.now_text()))


async def list_invites(request: Request) -> JSONResponse:
    store = store_of(request)
    roles = require_org_roles(array(request, "roles")) or None
    statuses = frozenset(array(request, "statuses")) or INVITE_STATUSES
    if not statuses <= INVITE_STATUSES:
        raise invalid(f"statuses[]: each must be one of {sorted(INVITE_STATUSES)}")
    email = request.query_params.get("email")
    invites, page = store.list_invites(cursor_of(request), email, roles, statuses)
    now = store.now_text()
    return page_response([i.to_api(now) for i in invites], page)


async def get_invite(request: Request) -> JSONResponse:
    store = store_of(request)
    invite = store.get_invite(request.path_params["invite_id"])
    return JSONResponse(invite.to_api(store.now_text()))


async def delete_invite(request: Request) -> JSONResponse:
    invite_id = request.path_params["invite_id"]
    store_of(request).delete_invite(invite_id)
    return JSONResponse({"id": invite_id, "type": "invite_deleted"})


# --- workspaces --------------------------------------------------------------------------------


async def list_workspaces(request: Request) -> JSONResponse:
    ids = array(request, "ids")
    if len(ids) > 100:
        raise invalid("ids[]: at most 100 ids")
    workspaces, page = store_of(request).list_workspaces(
        cursor_of(request),
        include_archived=flag(request, "include_archived"),
        include_default=flag(request, "include_default"),
        ids=frozenset(ids) if ids else None,
    )
    return page_response([w.to_api() for w in workspaces], page)


async def get_workspace(request: Request) -> JSONResponse:
    workspace = store_of(request).get_workspace(request.path_params["workspace_id"])
    return JSONResponse(workspace.to_api())


async def create_workspace(request: Request) -> JSONResponse:
    workspace = store_of(request).create_workspace(await json_body(request))
    return JSONResponse(workspace.to_api())


async def update_workspace(request: Request) -> JSONResponse:
    body = await json_body(request)
    workspace = store_of(request).update_workspace(request.path_params["workspace_id"], body)
    return JSONResponse(workspace.to_api())


async def archive_workspace(request: Request) -> JSONResponse:
    workspace = store_of(request).archive_workspace(request.path_params["workspace_id"])
    return JSONResponse(workspace.to_api())


# --- workspace members ---------------------------------------------------------------------------


async def list_members(request: Request) -> JSONResponse:
    workspace_id = request.path_params["workspace_id"]
    members, page = store_of(request).list_members(workspace_id, cursor_of(request))
    return page_response([m.to_api() for m in members], page)


async def get_member(request: Request) -> JSONResponse:
    params = request.path_params
    member = store_of(request).get_member(params["workspace_id"], params["user_id"])
    return JSONResponse(member.to_api())


async def add_member(request: Request) -> JSONResponse:
    body = await json_body(request)
    workspace_id = request.path_params["workspace_id"]
    member = store_of(request).add_member(
        workspace_id, body.get("user_id"), body.get("workspace_role")
    )
    return JSONResponse(member.to_api())


async def update_member(request: Request) -> JSONResponse:
    body = await json_body(request)
    params = request.path_params
    member = store_of(request).update_member(
        params["workspace_id"], params["user_id"], body.get("workspace_role")
    )
    return JSONResponse(member.to_api())


async def remove_member(request: Request) -> JSONResponse:
    params = request.path_params
    store_of(request).remove_member(params["workspace_id"], params["user_id"])
    return JSONResponse(
        {
            "type": "workspace_member_deleted",
            "user_id": params["user_id"],
            "workspace_id": params["workspace_id"],
        }
    )


# --- API keys -------------------------------------------------------------------------------------


def key_shaper(request: Request) -> Callable[[Any], JsonDict]:
    """Renders keys in the shape the request's ``anthropic-version`` asks for."""
    store = store_of(request)
    now, version = store.now_text(), request.headers.get("anthropic-version", "2023-06-01")
    return lambda key: key.to_api(now, version, store.default_workspace_id)


async def list_api_keys(request: Request) -> JSONResponse:
    params = request.query_params
    keys, page = store_of(request).list_api_keys(
        cursor_of(request),
        status=params.get("status"),
        workspace_id=params.get("workspace_id"),
        created_by=params.get("created_by_user_id"),
    )
    shape = key_shaper(request)
    return page_response([shape(k) for k in keys], page)


async def get_api_key(request: Request) -> JSONResponse:
    key = store_of(request).get_api_key(request.path_params["api_key_id"])
    return JSONResponse(key_shaper(request)(key))


async def update_api_key(request: Request) -> JSONResponse:
    body = await json_body(request)
    key = store_of(request).update_api_key(request.path_params["api_key_id"], body)
    return JSONResponse(key_shaper(request)(key))


# --- reports ------------------------------------------------------------------------------------


async def get_usage_report(request: Request) -> JSONResponse:
    return JSONResponse(usage_report(request.query_params, store_of(request).report_view()))


async def get_cost_report(request: Request) -> JSONResponse:
    return JSONResponse(cost_report(request.query_params, store_of(request).report_view()))


async def get_claude_code_report(request: Request) -> JSONResponse:
    view = store_of(request).report_view()
    return JSONResponse(claude_code_report(request.query_params, view))


# --- rate limits ---------------------------------------------------------------------------------


async def list_rate_limits(request: Request) -> JSONResponse:
    params, rate_limits = request.query_params, store_of(request).rate_limits
    groups = rate_limits.select(params.get("group_type"), model=params.get("model"))
    shown, next_page = rate_limits.page(groups, params.get("limit"), params.get("page"))
    return next_page_response([rate_limits.entry_json(g) for g in shown], next_page)


async def list_workspace_rate_limits(request: Request) -> JSONResponse:
    params, store = request.query_params, store_of(request)
    workspace = store.get_workspace(request.path_params["workspace_id"])
    inherited = flag(request, "include_inherited")
    rate_limits = store.rate_limits
    groups = rate_limits.select(
        params.get("group_type"), overridden_in=None if inherited else workspace.id
    )
    shown, next_page = rate_limits.page(groups, params.get("limit"), params.get("page"))
    entries = [
        rate_limits.workspace_entry(workspace.id, group, include_inherited=inherited)
        for group in shown
    ]
    return next_page_response(entries, next_page)


async def update_workspace_rate_limits(request: Request) -> JSONResponse:
    body = await json_value(request)
    params = request.path_params
    entry = store_of(request).update_workspace_rate_limits(
        params["workspace_id"], params["rate_limit_id"], body
    )
    return JSONResponse(entry)


class ApiRoute(Route):
    """An Admin API route and its contract: what strict mode holds its requests to."""

    def __init__(
        self,
        method: str,
        path: str,
        endpoint: Callable[[Request], Awaitable[Response]],
        rules: Contract,
    ) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.contract = rules


def api_routes() -> list[Route]:
    """Every API route with its contract (admin-api.md §§6-15); ``contract()``: no parameters
    and no body."""
    users, invites = f"{ORG}/users", f"{ORG}/invites"
    workspaces, keys = f"{ORG}/workspaces", f"{ORG}/api_keys"
    workspace = f"{workspaces}/{{workspace_id}}"
    members = f"{workspace}/members"
    rate_limits = f"{workspace}/rate_limits"
    return [
        ApiRoute("GET", f"{ORG}/me", get_me, contract()),
        ApiRoute("GET", users, list_users, contract(*CURSOR, "email", "roles[]")),
        ApiRoute("GET", f"{users}/{{user_id}}", get_user, contract()),
        ApiRoute("POST", f"{users}/{{user_id}}", update_user, contract(body=["role"])),
        ApiRoute("DELETE", f"{users}/{{user_id}}", remove_user, contract()),
        ApiRoute(
            "POST", invites, create_invite, contract(body=["email", "role", "rbac_group_ids"])
        ),
        ApiRoute("GET", invites, list_invites, contract(*CURSOR, "email", "roles[]", "statuses[]")),
        ApiRoute("GET", f"{invites}/{{invite_id}}", get_invite, contract()),
        ApiRoute("DELETE", f"{invites}/{{invite_id}}", delete_invite, contract()),
        ApiRoute(
            "GET",
            workspaces,
            list_workspaces,
            contract(*CURSOR, "include_archived", "include_default", "ids[]"),
        ),
        ApiRoute("POST", workspaces, create_workspace, contract(body=WORKSPACE_FIELDS)),
        ApiRoute("GET", workspace, get_workspace, contract()),
        ApiRoute("POST", workspace, update_workspace, contract(body=WORKSPACE_FIELDS)),
        ApiRoute("POST", f"{workspace}/archive", archive_workspace, contract()),
        ApiRoute("GET", members, list_members, contract(*CURSOR)),
        ApiRoute("POST", members, add_member, contract(body=["user_id", "workspace_role"])),
        ApiRoute("GET", f"{members}/{{user_id}}", get_member, contract()),
        ApiRoute(
            "POST", f"{members}/{{user_id}}", update_member, contract(body=["workspace_role"])
        ),
        ApiRoute("DELETE", f"{members}/{{user_id}}", remove_member, contract()),
        ApiRoute(
            "GET",
            keys,
            list_api_keys,
            contract(*CURSOR, "status", "workspace_id", "created_by_user_id"),
        ),
        ApiRoute("GET", f"{keys}/{{api_key_id}}", get_api_key, contract()),
        ApiRoute(
            "POST", f"{keys}/{{api_key_id}}", update_api_key, contract(body=["name", "status"])
        ),
        ApiRoute(
            "GET",
            f"{ORG}/usage_report/messages",
            get_usage_report,
            contract(*REPORT, *USAGE_FILTERS),
        ),
        ApiRoute(
            "GET",
            f"{ORG}/usage_report/claude_code",
            get_claude_code_report,
            contract("starting_at", "limit", "page"),
        ),
        ApiRoute("GET", f"{ORG}/cost_report", get_cost_report, contract(*REPORT)),
        ApiRoute(
            "GET",
            f"{ORG}/rate_limits",
            list_rate_limits,
            contract("group_type", "model", "limit", "page"),
        ),
        ApiRoute(
            "GET",
            rate_limits,
            list_workspace_rate_limits,
            contract("include_inherited", "group_type", "limit", "page"),
        ),
        ApiRoute(
            "POST",
            f"{rate_limits}/{{rate_limit_id}}",
            update_workspace_rate_limits,
            contract(body=["limits"]),
        ),
    ]
