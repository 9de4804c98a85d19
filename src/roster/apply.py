"""Applies a plan: the only place roster writes to the organization.

Changes run phase by phase (invites and role changes, then removals), a few at a time within a
phase. One failing change does not stop the others. A change whose request failed is read back
before it is reported: it may have been made (the answer was lost) or done already by another
apply, and only a change that is not made is reported as failed. Because each change is computed
from state, re-running converges. A ``Stopper`` ends a run early and exactly: each change's
outcome is recorded as it happens, and the report says which were made, which were in flight
when it was stopped, and which never started.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
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

# How long the changes in flight get to finish once a run is stopped, in seconds.
STOP_GRACE = 30.0
# Changes made of two requests, which a stop at once still lets finish (within the grace): cut
# between them, a re-invite would leave the person with no invite at all.
TWO_STEP_KINDS = frozenset({"reinvite"})

Outcome = Literal["done", "already_done", "failed", "unknown", "skipped"]
ReinviteStep = Literal["deleting", "inviting", "reading_back"]
REINVITE_CUT: Mapping[ReinviteStep, str] = {
    "deleting": "stopped while deleting the previous invite; the new one was not sent",
    "inviting": "the previous invite was deleted; stopped while sending the new one",
    "reading_back": (
        "the previous invite was deleted and the new one failed; stopped while reading back"
        " whether it was made after all"
    ),
}
JSON = dict[str, Any]


class SkippedChange(RosterError):
    """A change that could not be tried because one it depends on failed."""


class HalfDone(RosterError):
    """A change made of two requests whose first was made and second failed."""


class UnexpectedFailure(RosterError):
    """A change that failed in a way roster does not know; reported like any other failure."""


class CutShort(RosterError):
    """A change stopped while in flight: whether its request was carried out is not known."""


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
class Interruption:
    """How a stopped run ended. ``in_flight``: the changes running when it was stopped (their
    results are among the report's); ``not_started``: those never tried. ``halted``: stopped at
    once; ``timed_out``: the grace ran out before the changes in flight finished."""

    in_flight: tuple[Change, ...]
    not_started: tuple[Change, ...]
    halted: bool = False
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """Every change attempted, in plan order, and the manual ones left for the Console.

    ``interruption`` is set when the run was stopped before it tried every change.
    """

    results: tuple[ChangeResult, ...]
    manual: tuple[Change, ...]
    interruption: Interruption | None = None

    @property
    def finished_first(self) -> tuple[ChangeResult, ...]:
        """The results of the changes that ended before the run was stopped."""
        in_flight = self.interruption.in_flight if self.interruption else ()
        return tuple(r for r in self.results if r.change not in in_flight)

    @property
    def in_flight(self) -> tuple[ChangeResult, ...]:
        """The results of the changes that were in flight when the run was stopped."""
        in_flight = self.interruption.in_flight if self.interruption else ()
        return tuple(r for r in self.results if r.change in in_flight)

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
Numbered = tuple[int, Change]  # a change and its place in the plan


class Stopper:
    """How a person stops a running ``apply_plan`` (the CLI calls it on Ctrl-C).

    ``stop()``: no new change starts; those in flight get ``grace`` seconds to finish, then are
    cut short. ``halt()``: cut them short now, except a two-step change already begun, which
    keeps what is left of the grace to finish both steps. A change cut short has an unknown
    outcome, which the next plan shows.
    """

    def __init__(
        self, grace: float = STOP_GRACE, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.grace = grace
        self.halted = False
        self._clock = clock
        self._deadline: float | None = None
        self._running: dict[int, Change] = {}
        self._at_stop: dict[int, Change] = {}
        self._wake = asyncio.Event()

    @property
    def stopping(self) -> bool:
        return self._deadline is not None

    @property
    def in_flight(self) -> int:
        """How many changes are being made now."""
        return len(self._running)

    @property
    def finishing(self) -> int:
        """How many of the changes in flight a halt lets finish: two-step ones already begun."""
        return sum(change.kind in TWO_STEP_KINDS for change in self._running.values())

    def stop(self) -> None:
        if self._deadline is None:
            self._deadline = self._clock() + self.grace
            self._at_stop = dict(self._running)
            self._wake.set()

    def halt(self) -> None:
        self.stop()
        self.halted = True
        self._wake.set()

    def stopped_in_flight(self) -> tuple[Change, ...]:
        """The changes that were in flight when ``stop()`` came, in plan order."""
        return tuple(change for _, change in sorted(self._at_stop.items()))

    def started(self, index: int, change: Change) -> None:
        self._running[index] = change

    def finished(self, index: int) -> None:
        del self._running[index]

    def time_left(self) -> float | None:
        """Seconds until the changes in flight are cut short; None before a stop."""
        return None if self._deadline is None else max(self._deadline - self._clock(), 0.0)

    async def wait(self, tasks: Iterable[asyncio.Task[None]], timeout: float | None) -> None:
        """Until one of ``tasks`` ends, ``stop()`` or ``halt()`` is called, or ``timeout``."""
        self._wake.clear()
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait(
                [*tasks, woken], timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            woken.cancel()


async def apply_plan(
    plan: Plan,
    client: AdminClient,
    *,
    progress: Progress | None = None,
    current: Current | None = None,
    stopper: Stopper | None = None,
    max_in_flight: int | None = None,
) -> ApplyReport:
    """Make every API change of ``plan``; manual changes are never attempted.

    ``current`` is the state the plan was computed from: with it, an empty twin of a workspace
    this apply creates (another apply made one at the same time) can be told apart and archived.
    ``progress`` hears each change's result as it is known; at most ``max_in_flight`` changes
    are made at once (by default as many as the client has requests in flight); ``stopper``
    can end the run.
    """
    maker = _Maker(client, {m.id: m.role for m in current.members} if current else {})
    run = _Run(maker, stopper or Stopper(), progress)
    numbered = list(enumerate(plan.api_changes))
    for _, phase in groupby(numbered, key=lambda item: item[1].phase):
        if run.stopper.stopping:
            break
        await run.phase(list(phase), max_in_flight or client.max_concurrency)
    return run.report(plan)


class _Run:
    """One ``apply_plan``: workers take changes in turn, and each outcome is recorded as it
    happens, so that a run stopped half-way reports exactly what it did."""

    def __init__(self, maker: _Maker, stopper: Stopper, progress: Progress | None) -> None:
        self.maker = maker
        self.stopper = stopper
        self.progress = progress
        self.results: dict[int, ChangeResult] = {}
        self.making: dict[asyncio.Task[None], Change] = {}
        self.cut_workers: set[asyncio.Task[None]] = set()
        self.timed_out = False

    async def phase(self, changes: list[Numbered], width: int) -> None:
        queue = iter(changes)
        workers = [asyncio.ensure_future(self.work(queue)) for _ in changes[: max(width, 1)]]
        try:
            await self.settle(workers)
        except BaseException:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise

    async def work(self, queue: Iterator[Numbered]) -> None:
        # The stop is looked at before each change is taken: none starts after it.
        while not self.stopper.stopping:
            taken = next(queue, None)
            if taken is None:
                return
            await self.make(*taken)

    async def make(self, index: int, change: Change) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.making[task] = change
        self.stopper.started(index, change)
        try:
            result = await self.maker.apply(change)
        except asyncio.CancelledError:
            self.record(index, self.maker.cut_short(change, self.why_cut()))
            raise
        finally:
            del self.making[task]
            self.stopper.finished(index)
            self.maker.forget(change)
        self.record(index, result)

    def why_cut(self) -> str:
        if self.timed_out:
            return f"still running after {self.stopper.grace:g} s, so stopped"
        return (
            "stopped at once, before it finished"
            if self.stopper.halted
            else "stopped before it finished"
        )

    def record(self, index: int, result: ChangeResult) -> None:
        self.results[index] = result
        if self.progress is not None:
            self.progress(result)

    async def settle(self, workers: list[asyncio.Task[None]]) -> None:
        """Wait for the workers; after a stop, no longer than the grace; after a halt, only
        for the two-step changes begun."""
        while pending := [worker for worker in workers if not worker.done()]:
            time_left = self.stopper.time_left()
            if time_left == 0:
                self.timed_out = True
                self.cut(pending)
                break
            if self.stopper.halted:
                self.cut(worker for worker in pending if not self.finishing(worker))
            await self.stopper.wait(pending, time_left)
            _raise_failure(workers)
        await asyncio.gather(*workers, return_exceptions=True)
        _raise_failure(workers)

    def finishing(self, worker: asyncio.Task[None]) -> bool:
        """Whether ``worker`` is making a two-step change, which a halt lets finish."""
        change = self.making.get(worker)
        return change is not None and change.kind in TWO_STEP_KINDS

    def cut(self, workers: Iterable[asyncio.Task[None]]) -> None:
        for worker in workers:
            if worker not in self.cut_workers:
                self.cut_workers.add(worker)
                worker.cancel()

    def report(self, plan: Plan) -> ApplyReport:
        results = tuple(self.results[index] for index in sorted(self.results))
        if not self.stopper.stopping:
            return ApplyReport(results=results, manual=plan.manual_changes)
        not_started = tuple(
            change for index, change in enumerate(plan.api_changes) if index not in self.results
        )
        interruption = Interruption(
            in_flight=self.stopper.stopped_in_flight(),
            not_started=not_started,
            halted=self.stopper.halted,
            timed_out=self.timed_out,
        )
        return ApplyReport(results, plan.manual_changes, interruption)


def _raise_failure(workers: Iterable[asyncio.Task[None]]) -> None:
    """Re-raise what a worker met beyond its change (a bug, a broken progress callback)."""
    for worker in workers:
        error = worker.exception() if worker.done() and not worker.cancelled() else None
        if error is not None:
            raise error


class _Maker:
    """Makes changes through the client, remembering the workspaces it created."""

    def __init__(self, client: AdminClient, org_roles: Mapping[str, str]) -> None:
        self.client = client
        self.org_roles = org_roles
        self.created: dict[str, str] = {}
        # How far each re-invite in flight got, so that one cut short says which step happened.
        self.reinvite_steps: dict[Change, ReinviteStep] = {}

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

    def cut_short(self, change: Change, why: str) -> ChangeResult:
        """What is known of a change stopped in flight (``why`` says how): for a re-invite, the
        step it was at."""
        step = self.reinvite_steps.get(change)
        if step is None:
            return ChangeResult(change, "unknown", CutShort(why))
        return ChangeResult(
            change, "unknown", CutShort(REINVITE_CUT[step]), _reinvite_left(step, change)
        )

    def forget(self, change: Change) -> None:
        self.reinvite_steps.pop(change, None)

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
        elif kind == "set_rate_limits":
            limits = [{"type": step.limiter, "value": step.to_value} for step in change.limits]
            await client.update_workspace_rate_limits(
                self.workspace_id(change), _required(change.rate_limit_id), limits
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
        self.reinvite_steps[change] = "deleting"
        with contextlib.suppress(NotFoundError):  # already gone: only the new invite is left
            await self.client.delete_invite(_required(change.invite_id))
        self.reinvite_steps[change] = "inviting"
        try:
            await self.client.create_invite(change.email, _required(change.to_role))
        except ApiError as error:
            self.reinvite_steps[change] = "reading_back"
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


def _reinvite_left(step: ReinviteStep, change: Change) -> str:
    """What the next plan tells about a re-invite cut short at ``step``."""
    if step == "deleting":
        return f"the next plan will show whether {change.email} still has the previous invite"
    return f"the next plan will show whether {change.email} has an invite"


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
