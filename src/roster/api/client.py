"""The Admin API's endpoints as async methods returning the API's JSON objects.

``AdminClient`` takes an ``httpx.AsyncClient`` from its caller (real, or one whose transport is
the emulator), so nothing here knows where the API is. Lists follow every page; the ``*_pages``
methods hand them over one page at a time, for readers that count as they go.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import httpx

from roster.api.http import JSON, Params, Requester, RetryPolicy
from roster.errors import NotFoundError, ServerError, UnexpectedAnswerError
from roster.progress import Observer, silent

ORG = "/v1/organizations"
PAGE_SIZE = 1000


# What would end a path segment, or the path, inside an id; "%" first, so it is escaped once.
_SEGMENT_ENDS = (("%", "%25"), ("/", "%2F"), ("?", "%3F"), ("#", "%23"))


def _segment(identifier: str) -> str:
    """An id from the API or a plan as one path segment: a ``/``, ``?``, ``#`` or a dot segment
    in it stays inside it, so no id can send a request to another endpoint. (A character no URL
    may hold is left for the request to refuse, sending nothing.)"""
    for character, escaped in _SEGMENT_ENDS:
        identifier = identifier.replace(character, escaped)
    return identifier if identifier not in {".", ".."} else identifier.replace(".", "%2E")


def _array(name: str, values: Iterable[str] | None) -> list[tuple[str, str]]:
    return [(f"{name}[]", value) for value in values or ()]


def _scalars(**values: str | int | bool | None) -> list[tuple[str, str]]:
    return [(name, _query_value(value)) for name, value in values.items() if value is not None]


def _query_value(value: str | int | bool) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


class AdminClient:
    """Every Admin API endpoint roster uses; retries and pacing come from ``Requester``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 8,
        max_rps: float | None = None,
        page_size: int = PAGE_SIZE,
        requester: Requester | None = None,
        observer: Observer = silent,
    ) -> None:
        """``observer`` hears every request and the readers' progress; a ``requester`` given
        brings its own."""
        self._requester = requester or Requester(
            http, retry=retry, max_concurrency=max_concurrency, max_rps=max_rps, observer=observer
        )
        self._page_size = page_size

    @property
    def attempts(self) -> int:
        """How many HTTP requests were sent so far, retries included."""
        return self._requester.attempts

    @property
    def max_concurrency(self) -> int:
        """How many requests this client has in flight at most."""
        return self._requester.max_concurrency

    @property
    def server_date(self) -> datetime | None:
        """The API's clock, as its latest answer said (None before any answer with a date)."""
        return self._requester.server_date

    @property
    def observer(self) -> Observer:
        """Who hears what this client does: readers tell it their phases and counts too."""
        return self._requester.observer

    async def _get(self, path: str, params: Params | None = None) -> JSON:
        return await self._requester.request("GET", path, params=params)

    async def pages(self, path: str, params: Params = ()) -> AsyncIterator[list[JSON]]:
        """Every page of an id-cursor list, following ``after_id=last_id``."""
        cursor: list[tuple[str, str]] = []
        seen: set[str] = set()
        while True:
            query = [*params, ("limit", str(self._page_size)), *cursor]
            page = await self._get(path, query)
            data = _objects(page, path)
            yield data
            if not page.get("has_more") or not data or not page.get("last_id"):
                return
            cursor = self._next_cursor(path, seen, "after_id", str(page["last_id"]))

    async def _list(self, path: str, params: Params = ()) -> list[JSON]:
        return [item async for page in self.pages(path, params) for item in page]

    async def report(self, path: str, params: Params) -> list[JSON]:
        """Every bucket of a usage or cost report, following ``page=next_page``."""
        buckets: list[JSON] = []
        page_token: list[tuple[str, str]] = []
        seen: set[str] = set()
        while True:
            page = await self._get(path, [*params, *page_token])
            buckets.extend(_objects(page, path))
            if not page.get("has_more") or not page.get("next_page"):
                return buckets
            page_token = self._next_cursor(path, seen, "page", str(page["next_page"]))

    @staticmethod
    def _next_cursor(path: str, seen: set[str], name: str, value: str) -> list[tuple[str, str]]:
        """The next page's cursor; one met before (``seen``) would page forever."""
        if value in seen:
            raise ServerError(
                f"the API returned the same page cursor twice ({name}={value}); stopped paging",
                method="GET",
                path=path,
            )
        seen.add(value)
        return [(name, value)]

    # Organization

    async def me(self) -> JSON:
        return await self._get(f"{ORG}/me")

    # Users

    async def list_users(
        self, *, email: str | None = None, roles: Iterable[str] | None = None
    ) -> list[JSON]:
        return [user async for page in self.user_pages(email=email, roles=roles) for user in page]

    def user_pages(
        self, *, email: str | None = None, roles: Iterable[str] | None = None
    ) -> AsyncIterator[list[JSON]]:
        """Every user, page by page: a large organization's pages need not all be held."""
        return self.pages(f"{ORG}/users", [*_scalars(email=email), *_array("roles", roles)])

    async def get_user(self, user_id: str) -> JSON:
        return await self._get(f"{ORG}/users/{_segment(user_id)}")

    async def update_user(self, user_id: str, role: str) -> JSON:
        return await self._requester.request(
            "POST", f"{ORG}/users/{_segment(user_id)}", body={"role": role}
        )

    async def remove_user(self, user_id: str) -> JSON:
        return await self._requester.request("DELETE", f"{ORG}/users/{_segment(user_id)}")

    # Invites

    async def list_invites(
        self,
        *,
        email: str | None = None,
        roles: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
    ) -> list[JSON]:
        pages = self.invite_pages(email=email, roles=roles, statuses=statuses)
        return [invite async for page in pages for invite in page]

    def invite_pages(
        self,
        *,
        email: str | None = None,
        roles: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
    ) -> AsyncIterator[list[JSON]]:
        params = [*_scalars(email=email), *_array("roles", roles), *_array("statuses", statuses)]
        return self.pages(f"{ORG}/invites", params)

    async def get_invite(self, invite_id: str) -> JSON:
        return await self._get(f"{ORG}/invites/{_segment(invite_id)}")

    async def create_invite(self, email: str, role: str) -> JSON:
        """Invite ``email``; a lost attempt is looked up in the invite list, never re-sent blind."""

        async def find_pending() -> JSON | None:
            pending = await self.list_invites(email=email, statuses=["pending"])
            return next((i for i in pending if _same_invite(i, email, role)), None)

        body = {"email": email, "role": role}
        return await self._requester.request(
            "POST", f"{ORG}/invites", body=body, recover=find_pending
        )

    async def delete_invite(self, invite_id: str) -> JSON:
        return await self._requester.request("DELETE", f"{ORG}/invites/{_segment(invite_id)}")

    # Workspaces

    async def list_workspaces(
        self, *, include_archived: bool = False, include_default: bool = False
    ) -> list[JSON]:
        params = _scalars(include_archived=include_archived, include_default=include_default)
        return await self._list(f"{ORG}/workspaces", params)

    async def get_workspace(self, workspace_id: str) -> JSON:
        return await self._get(f"{ORG}/workspaces/{_segment(workspace_id)}")

    async def create_workspace(
        self, name: str, *, existing: Collection[str] | None = None, **fields: Any
    ) -> JSON:
        """Create a workspace; a lost attempt is recovered by name, never re-sent blind.

        Names need not be unique, so only a workspace that was not there before counts:
        ``existing`` are the ids of those of that name that were (listed here if not given).
        """
        if existing is None:
            existing = {w["id"] for w in await self.list_workspaces() if w.get("name") == name}
        before = set(existing)

        async def find_new() -> JSON | None:
            active = await self.list_workspaces()
            return next(
                (w for w in active if w.get("name") == name and w["id"] not in before), None
            )

        return await self._requester.request(
            "POST", f"{ORG}/workspaces", body={"name": name, **fields}, recover=find_new
        )

    async def update_workspace(self, workspace_id: str, **fields: Any) -> JSON:
        path = f"{ORG}/workspaces/{_segment(workspace_id)}"
        return await self._requester.request("POST", path, body=fields)

    async def archive_workspace(self, workspace_id: str) -> JSON:
        async def find_archived() -> JSON | None:
            workspace = await self.get_workspace(workspace_id)
            return workspace if workspace.get("archived_at") else None

        path = f"{ORG}/workspaces/{_segment(workspace_id)}/archive"
        return await self._requester.request("POST", path, recover=find_archived)

    # Workspace members

    def _members_path(self, workspace_id: str) -> str:
        return f"{ORG}/workspaces/{_segment(workspace_id)}/members"

    async def list_workspace_members(self, workspace_id: str) -> list[JSON]:
        return await self._list(self._members_path(workspace_id))

    def workspace_member_pages(self, workspace_id: str) -> AsyncIterator[list[JSON]]:
        return self.pages(self._members_path(workspace_id))

    async def get_workspace_member(self, workspace_id: str, user_id: str) -> JSON:
        return await self._get(f"{self._members_path(workspace_id)}/{_segment(user_id)}")

    async def add_workspace_member(
        self, workspace_id: str, user_id: str, workspace_role: str
    ) -> JSON:
        """Add a member; a lost attempt is recovered by reading the membership back."""

        async def find_member() -> JSON | None:
            try:
                member = await self.get_workspace_member(workspace_id, user_id)
            except NotFoundError:
                return None
            return member if member.get("workspace_role") == workspace_role else None

        body = {"user_id": user_id, "workspace_role": workspace_role}
        path = self._members_path(workspace_id)
        return await self._requester.request("POST", path, body=body, recover=find_member)

    async def update_workspace_member(
        self, workspace_id: str, user_id: str, workspace_role: str
    ) -> JSON:
        path = f"{self._members_path(workspace_id)}/{_segment(user_id)}"
        return await self._requester.request("POST", path, body={"workspace_role": workspace_role})

    async def remove_workspace_member(self, workspace_id: str, user_id: str) -> JSON:
        path = f"{self._members_path(workspace_id)}/{_segment(user_id)}"
        return await self._requester.request("DELETE", path)

    # API keys

    async def list_api_keys(
        self,
        *,
        status: str | None = None,
        workspace_id: str | None = None,
        created_by_user_id: str | None = None,
    ) -> list[JSON]:
        pages = self.api_key_pages(
            status=status, workspace_id=workspace_id, created_by_user_id=created_by_user_id
        )
        return [key async for page in pages for key in page]

    def api_key_pages(
        self,
        *,
        status: str | None = None,
        workspace_id: str | None = None,
        created_by_user_id: str | None = None,
    ) -> AsyncIterator[list[JSON]]:
        params = _scalars(
            status=status, workspace_id=workspace_id, created_by_user_id=created_by_user_id
        )
        return self.pages(f"{ORG}/api_keys", params)

    async def get_api_key(self, api_key_id: str) -> JSON:
        return await self._get(f"{ORG}/api_keys/{_segment(api_key_id)}")

    async def update_api_key(
        self, api_key_id: str, *, name: str | None = None, status: str | None = None
    ) -> JSON:
        """Rename or change the status of a key; a lost attempt is checked by reading it back."""
        body = {k: v for k, v in {"name": name, "status": status}.items() if v is not None}

        async def find_updated() -> JSON | None:
            key = await self.get_api_key(api_key_id)
            return key if all(key.get(field) == value for field, value in body.items()) else None

        path = f"{ORG}/api_keys/{_segment(api_key_id)}"
        return await self._requester.request("POST", path, body=body, recover=find_updated)

    # Rate limits (admin-api.md §15)

    async def cursor_pages(self, path: str, params: Params = ()) -> AsyncIterator[list[JSON]]:
        """Every page of a list that pages by ``next_page`` alone (no ``has_more``)."""
        page_token: list[tuple[str, str]] = []
        seen: set[str] = set()
        while True:
            page = await self._get(path, [*params, *page_token])
            yield _objects(page, path)
            if not page.get("next_page"):
                return
            page_token = self._next_cursor(path, seen, "page", str(page["next_page"]))

    async def list_rate_limits(
        self, *, group_type: str | None = None, model: str | None = None
    ) -> list[JSON]:
        """The organization's rate-limit entries; no ``limit`` asks for them in one page."""
        params = _scalars(group_type=group_type, model=model)
        return [
            item async for page in self.cursor_pages(f"{ORG}/rate_limits", params) for item in page
        ]

    def _rate_limits_path(self, workspace_id: str) -> str:
        return f"{ORG}/workspaces/{_segment(workspace_id)}/rate_limits"

    async def list_workspace_rate_limits(
        self, workspace_id: str, *, include_inherited: bool = False, group_type: str | None = None
    ) -> list[JSON]:
        """A workspace's entries: its overrides only, unless ``include_inherited``."""
        params = _scalars(include_inherited=include_inherited or None, group_type=group_type)
        pages = self.cursor_pages(self._rate_limits_path(workspace_id), params)
        return [item async for page in pages for item in page]

    async def update_workspace_rate_limits(
        self, workspace_id: str, rate_limit_id: str, limits: Sequence[JSON]
    ) -> JSON:
        """Set (an int) or clear (None) the named limiter types of one group; the others stay.

        The same body sent twice leaves the same state, so a lost answer is simply re-sent.
        """
        path = f"{self._rate_limits_path(workspace_id)}/{_segment(rate_limit_id)}"
        return await self._requester.request("POST", path, body={"limits": list(limits)})

    # Reports

    async def usage_report(
        self,
        *,
        starting_at: str,
        ending_at: str | None = None,
        bucket_width: str | None = None,
        group_by: Sequence[str] = (),
        limit: int | None = None,
        filters: Params = (),
    ) -> list[JSON]:
        params = [
            *_scalars(
                starting_at=starting_at, ending_at=ending_at, bucket_width=bucket_width, limit=limit
            ),
            *_array("group_by", group_by),
            *filters,
        ]
        return await self.report(f"{ORG}/usage_report/messages", params)

    async def cost_report(
        self,
        *,
        starting_at: str,
        ending_at: str | None = None,
        group_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[JSON]:
        params = [
            *_scalars(starting_at=starting_at, ending_at=ending_at, limit=limit),
            *_array("group_by", group_by),
        ]
        return await self.report(f"{ORG}/cost_report", params)


def _objects(page: JSON, path: str) -> list[JSON]:
    """A page's ``data``: a list of objects, or the answer is not one roster can read."""
    data = page.get("data") or []
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise UnexpectedAnswerError(
            "the API answered with a page whose data is not a list of objects",
            method="GET",
            path=path,
        )
    return data


def _same_invite(invite: JSON, email: str, role: str) -> bool:
    return str(invite.get("email", "")).lower() == email.lower() and invite.get("role") == role
