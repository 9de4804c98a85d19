"""Applies a plan: the only place roster writes to the organization.

Changes run phase by phase (invites and role changes, then removals), concurrently within a
phase. One failing change does not stop the others; every failure is reported with its
request-id, and because each change is computed from state, re-running converges.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import groupby

from roster.api import AdminClient
from roster.errors import ApiError, NotFoundError, RosterError
from roster.plan import Change, Plan

KEY_STATUSES = {"deactivate_api_key": "inactive", "archive_api_key": "archived"}


class SkippedChange(RosterError):
    """A change that could not be tried because one it depends on failed."""


class HalfDone(RosterError):
    """A change made of two requests whose first was made and second failed."""


class UnexpectedFailure(RosterError):
    """A change that failed in a way roster does not know; reported like any other failure."""


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What became of one change: ``error`` is None when it was made."""

    change: Change
    error: RosterError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """Every change attempted, in plan order, and the manual ones left for the Console."""

    results: tuple[ChangeResult, ...]
    manual: tuple[Change, ...]

    @property
    def applied(self) -> tuple[Change, ...]:
        return tuple(r.change for r in self.results if r.ok)

    @property
    def failed(self) -> tuple[ChangeResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    @property
    def ok(self) -> bool:
        return not self.failed


Progress = Callable[[ChangeResult], None]


async def apply_plan(
    plan: Plan, client: AdminClient, *, progress: Progress | None = None
) -> ApplyReport:
    """Make every API change of ``plan``; manual changes are never attempted."""
    maker = _Maker(client)
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

    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.created: dict[str, str] = {}

    async def apply(self, change: Change) -> ChangeResult:
        try:
            await self.make(change)
        except RosterError as error:
            return ChangeResult(change, error)
        except Exception as error:  # one change's surprise must not hide the others
            return ChangeResult(change, UnexpectedFailure(f"{type(error).__name__}: {error}"))
        return ChangeResult(change)

    async def make(self, change: Change) -> None:
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
        else:
            await self.make_workspace_change(change)

    async def make_workspace_change(self, change: Change) -> None:
        client, kind = self.client, change.kind
        if kind == "create_workspace":
            created = await client.create_workspace(change.workspace)
            self.created[change.workspace] = str(created["id"])
        elif kind == "archive_workspace":
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


def _required(value: str | None) -> str:
    if value is None:
        raise AssertionError("a planned change lacks a field apply needs")
    return value
