"""Applies a plan: the only place roster writes to the organization.

Changes run phase by phase (invites and role changes, then removals), concurrently within a
phase. One failing change does not stop the others. A change whose request failed is read back
before it is reported: it may have been made (the answer was lost) or done already by another
apply, and only a change that is not made is reported as failed. Because each change is computed
from state, re-running converges.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Literal

from roster.api import AdminClient
from roster.errors import (
    ApiError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RosterError,
)
from roster.model import Current
from roster.plan import Change, Plan
from roster.plan_workspaces import is_inherited
from roster.readback import holds

KEY_STATUSES = {"deactivate_api_key": "inactive", "archive_api_key": "archived"}
# 400s that mean "the organization is already past this", as when another apply got there first.
ALREADY_CODES = frozenset(
    {
        "already_member",
        "invite_already_exists",
        "invite_not_pending",
        "workspace_archived",
        "api_key_archived",
    }
)

Outcome = Literal["done", "already_done", "failed", "unknown", "skipped"]
JSON = dict[str, Any]


class SkippedChange(RosterError):
    """A change that could not be tried because one it depends on failed."""


class HalfDone(RosterError):
    """A change made of two requests whose first was made and second failed."""


class UnexpectedFailure(RosterError):
    """A change that failed in a way roster does not know; reported like any other failure."""


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What became of one change.

    ``done``: made. ``already_done``: the organization was already so (another apply, or a
    person, got there first). ``failed``: not made, read back to be sure. ``unknown``: the
    request failed and the read-back too; the next plan will show it. ``skipped``: not tried,
    because a change it needs failed. ``error`` is what the request met; ``note`` says more.
    """

    change: Change
    outcome: Outcome = "done"
    error: RosterError | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in {"done", "already_done"}


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """Every change attempted, in plan order, and the manual ones left for the Console."""

    results: tuple[ChangeResult, ...]
    manual: tuple[Change, ...]

    @property
    def applied(self) -> tuple[Change, ...]:
        return tuple(r.change for r in self.results if r.ok)

    @property
    def already_done(self) -> tuple[ChangeResult, ...]:
        return tuple(r for r in self.results if r.outcome == "already_done")

    @property
    def failed(self) -> tuple[ChangeResult, ...]:
        return tuple(r for r in self.results if r.outcome in {"failed", "skipped"})

    @property
    def unknown(self) -> tuple[ChangeResult, ...]:
        return tuple(r for r in self.results if r.outcome == "unknown")

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


Progress = Callable[[ChangeResult], None]


async def apply_plan(
    plan: Plan,
    client: AdminClient,
    *,
    progress: Progress | None = None,
    current: Current | None = None,
) -> ApplyReport:
    """Make every API change of ``plan``; manual changes are never attempted.

    ``current`` is the state the plan was computed from: with it, an empty twin of a workspace
    this apply creates (another apply made one at the same time) can be told apart and archived.
    """
    maker = _Maker(client, {m.id: m.role for m in current.members} if current else {})
    results: list[ChangeResult] = []
    for _, phase in groupby(plan.api_changes, key=lambda change: change.phase):
        results += await _apply_phase(phase, maker, progress)
    return ApplyReport(results=tuple(results), manual=plan.manual_changes)


async def _apply_phase(
    changes: Iterable[Change], maker: _Maker, progress: Progress | None
) -> list[ChangeResult]:
    async def run(change: Change) -> ChangeResult:
        result = await maker.apply(change)
        if progress is not None:
            progress(result)
        return result

    return list(await asyncio.gather(*(run(change) for change in changes)))


class _Maker:
    """Makes changes through the client, remembering the workspaces it created."""

    def __init__(self, client: AdminClient, org_roles: Mapping[str, str]) -> None:
        self.client = client
        self.org_roles = org_roles
        self.created: dict[str, str] = {}

    async def apply(self, change: Change) -> ChangeResult:
        try:
            return await self.make(change)
        except SkippedChange as error:
            return ChangeResult(change, "skipped", error)
        except RosterError as error:
            return await self.settle(change, error)
        except Exception as error:  # one change's surprise must not hide the others
            failure = UnexpectedFailure(f"{type(error).__name__}: {error}")
            return await self.settle(change, failure)

    async def settle(self, change: Change, error: RosterError) -> ChangeResult:
        """What is true of a change whose request failed: read back before calling it failed."""
        try:
            made = await holds(self.client, change, self.workspace_id)
            if made and change.kind == "create_workspace":  # its members go where it is
                self.keep_oldest(change.workspace, await self.active_named(change.workspace))
        except (RosterError, AssertionError):
            return ChangeResult(change, "unknown", error)
        if not made:
            return ChangeResult(change, "failed", error, _partial_effect(change, error))
        return ChangeResult(change, "already_done" if is_conflict(error) else "done", error)

    async def make(self, change: Change) -> ChangeResult:
        client, kind = self.client, change.kind
        if kind == "invite":
            await client.create_invite(change.email, _required(change.to_role))
        elif kind == "reinvite":
            await self.reinvite(change)
        elif kind == "update_role":
            await client.update_user(_required(change.user_id), _required(change.to_role))
        elif kind == "delete_invite":
            await client.delete_invite(_required(change.invite_id))
        elif kind == "remove_member":
            await client.remove_user(_required(change.user_id))
        elif kind in KEY_STATUSES:
            await client.update_api_key(_required(change.key_id), status=KEY_STATUSES[kind])
        elif kind == "create_workspace":
            return await self.create_workspace(change)
        else:
            await self.make_workspace_change(change)
        return ChangeResult(change)

    async def make_workspace_change(self, change: Change) -> None:
        client, kind = self.client, change.kind
        if kind == "archive_workspace":
            await client.archive_workspace(self.workspace_id(change))
        elif kind == "add_workspace_member":
            await client.add_workspace_member(
                self.workspace_id(change), _required(change.user_id), _required(change.to_role)
            )
        elif kind == "update_workspace_member":
            await client.update_workspace_member(
                self.workspace_id(change), _required(change.user_id), _required(change.to_role)
            )
        elif kind == "remove_workspace_member":
            await client.remove_workspace_member(
                self.workspace_id(change), _required(change.user_id)
            )
        else:
            raise AssertionError(f"apply cannot make a {kind} change")

    def workspace_id(self, change: Change) -> str:
        workspace_id = change.workspace_id or self.created.get(change.workspace)
        if workspace_id is None:
            raise SkippedChange(f"skipped: workspace {change.workspace} was not created")
        return workspace_id

    async def reinvite(self, change: Change) -> None:
        # Invites cannot be edited: the old one goes, then a new one with the desired role.
        with contextlib.suppress(NotFoundError):  # already gone: only the new invite is left
            await self.client.delete_invite(_required(change.invite_id))
        try:
            await self.client.create_invite(change.email, _required(change.to_role))
        except ApiError as error:
            raise HalfDone(
                f"the previous invite was deleted, but the new one failed, so {change.email}"
                f" has no invite now: {error}"
            ) from error

    # --- workspaces that two applies create at once --------------------------------------------

    async def create_workspace(self, change: Change) -> ChangeResult:
        """Create the workspace, then keep one of its name.

        Two applies that plan the same new workspace can both create it. Each checks after
        creating: the oldest of the same-named workspaces (``created_at``, then id) is kept, so
        both runs agree which, and an empty twin that appeared during this run is archived.
        """
        # The plan read the workspaces: none of this name was there. One made since (by another
        # apply) is met by the check after creating, as the older twin.
        name = change.workspace
        created = await self.client.create_workspace(name, existing=())
        self.created[name] = str(created["id"])
        try:
            return await self.settle_twins(change, created)
        except RosterError as error:  # made, but whether a twin is left is not known
            note = (
                "created, but the check for a copy made by another apply at the same time"
                f" failed; if the next plan shows two workspaces named {name}, archive the"
                " empty one"
            )
            return ChangeResult(change, "unknown", error, note)

    async def settle_twins(self, change: Change, created: JSON) -> ChangeResult:
        """Keep the oldest of the workspaces of this name, and archive the empty twins."""
        twins = await self.active_named(change.workspace)
        kept = self.keep_oldest(change.workspace, [created, *twins])
        archived = [twin["id"] for twin in twins if twin["id"] != kept["id"]]
        archived = [ws for ws in archived if await self.archive_if_empty(ws)]
        if kept["id"] == created["id"]:
            return ChangeResult(change, note=_archived_note(archived))
        note = f"another apply created it first ({kept['id']}); {_archived_note(archived)}"
        return ChangeResult(change, "already_done", note=note.rstrip("; "))

    def keep_oldest(self, name: str, workspaces: Iterable[JSON]) -> JSON:
        """The one of ``workspaces`` that racing applies all keep; this plan's changes use it."""
        kept = _oldest(workspaces)
        self.created[name] = str(kept["id"])
        return kept

    async def active_named(self, name: str) -> list[JSON]:
        return [w for w in await self.client.list_workspaces() if w.get("name") == name]

    async def archive_if_empty(self, workspace_id: str) -> bool:
        """Archive a twin that no one uses: no active key, no member but inherited roles."""
        keys = await self.client.list_api_keys(workspace_id=workspace_id, status="active")
        members = await self.client.list_workspace_members(workspace_id)
        if keys or not all(self.inherits(member) for member in members):
            return False
        try:
            await self.client.archive_workspace(workspace_id)
        except InvalidRequestError as error:  # the other apply archived it first
            return error.error_code == "workspace_archived"
        return True

    def inherits(self, member: JSON) -> bool:
        org_role = self.org_roles.get(str(member.get("user_id")))
        return org_role is not None and is_inherited(org_role, str(member.get("workspace_role")))


def is_conflict(error: RosterError) -> bool:
    """Whether ``error`` says the organization was already so, rather than that a request was
    lost: the mark of another apply (or a person) having made the change first."""
    if isinstance(error, HalfDone) and isinstance(error.__cause__, RosterError):
        return is_conflict(error.__cause__)
    if isinstance(error, ConflictError | NotFoundError):
        return True
    return isinstance(error, InvalidRequestError) and error.error_code in ALREADY_CODES


def _partial_effect(change: Change, error: RosterError) -> str:
    """What a failed change may have done all the same, as the API documents it."""
    if getattr(error, "error_code", None) != "api_key_requester_unconfirmed":
        return ""
    if change.kind == "remove_member":
        return (
            "the API may already have signed them out and turned off some of their API keys;"
            " running apply again is safe"
        )
    return "running apply again is safe"


def _oldest(workspaces: Iterable[JSON]) -> JSON:
    return min(workspaces, key=lambda w: (str(w.get("created_at") or ""), str(w["id"])))


def _archived_note(archived: list[str]) -> str:
    if not archived:
        return ""
    twins = ", ".join(archived)
    return f"archived the empty duplicate{'s' if len(archived) > 1 else ''} {twins}"


def _required(value: str | None) -> str:
    if value is None:
        raise AssertionError("a planned change lacks a field apply needs")
    return value
