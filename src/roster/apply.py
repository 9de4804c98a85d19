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
from roster.errors import ApiError, NotFoundError
from roster.plan import Change, Plan


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What became of one change: ``error`` is None when it was made."""

    change: Change
    error: ApiError | None = None

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
    results: list[ChangeResult] = []
    for _, phase in groupby(plan.api_changes, key=lambda change: change.phase):
        results += await _apply_phase(phase, client, progress)
    return ApplyReport(results=tuple(results), manual=plan.manual_changes)


async def _apply_phase(
    changes: Iterable[Change], client: AdminClient, progress: Progress | None
) -> list[ChangeResult]:
    async def run(change: Change) -> ChangeResult:
        result = await _apply_one(change, client)
        if progress is not None:
            progress(result)
        return result

    return list(await asyncio.gather(*(run(change) for change in changes)))


async def _apply_one(change: Change, client: AdminClient) -> ChangeResult:
    try:
        await _make(change, client)
    except ApiError as error:
        return ChangeResult(change, error)
    return ChangeResult(change)


async def _make(change: Change, client: AdminClient) -> None:
    if change.kind == "invite":
        await client.create_invite(change.email, _required(change.to_role))
    elif change.kind == "reinvite":
        await _reinvite(change, client)
    elif change.kind == "update_role":
        await client.update_user(_required(change.user_id), _required(change.to_role))
    elif change.kind == "delete_invite":
        await client.delete_invite(_required(change.invite_id))
    elif change.kind == "remove_member":
        await client.remove_user(_required(change.user_id))
    else:
        raise AssertionError(f"apply cannot make a {change.kind} change")


async def _reinvite(change: Change, client: AdminClient) -> None:
    # Invites cannot be edited: the old one goes, then a new one with the desired role.
    with contextlib.suppress(NotFoundError):  # already gone: only the new invite is left
        await client.delete_invite(_required(change.invite_id))
    await client.create_invite(change.email, _required(change.to_role))


def _required(value: str | None) -> str:
    if value is None:
        raise AssertionError("a planned change lacks a field apply needs")
    return value
