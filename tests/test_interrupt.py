"""apply_plan stopped half-way as Ctrl-C stops it: exact counts, reports the emulator bears out.

The emulator's latency keeps changes in flight; a ``Stopper`` is called from the progress callback
(after K changes are done) or from a transport that watches the requests go by. Every latency and
grace here is a fraction of a second.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import click
import httpx
import pytest

from roster.api import AdminClient, make_http_client
from roster.api.http import Requester, RetryPolicy
from roster.apply import ApplyReport, ChangeResult, CutShort, Interruption, Stopper, apply_plan
from roster.changes import Change, ChangeKind
from roster.cli.apply_output import finish
from roster.cli.interrupts import halting_line, stopping_line
from roster.desired import Desired, Policy, RemovalLimit
from roster.emulator.oracle import made
from roster.plan import Plan, compute_plan
from tests.support import BASE_URL, KEY, Org, make_store

INVITEES = [f"new{n:02d}@example.io" for n in range(12)]
LEAVERS = {f"old{n}@example.io": "user" for n in range(3)}
WIDTH = 4


def org_with_two_phases() -> tuple[Org, Desired]:
    """Twelve invites to send (one phase), then three members to remove (a later one)."""
    org = Org(make_store({"stay@example.io": "user", **LEAVERS}, {}))
    members = {"stay@example.io": "user"} | dict.fromkeys(INVITEES, "user")
    return org, Desired(members, Policy(unmanaged="remove", max_removals=RemovalLimit(10)))


def applied(
    org: Org,
    desired: Desired,
    stopper: Stopper,
    on_result: Callable[[ChangeResult], None] = lambda _: None,
    *,
    latency_ms: float = 20,
    client: AdminClient | None = None,
) -> tuple[Plan, ApplyReport]:
    async def scenario() -> tuple[Plan, ApplyReport]:
        current = await org.current(desired)
        plan = compute_plan(desired, current)
        await org.control("POST", "config", {"latency_ms": latency_ms})
        report = await apply_plan(
            plan,
            client or org.client(),
            current=current,
            progress=on_result,
            stopper=stopper,
            max_in_flight=WIDTH,
        )
        await org.control("POST", "config", {"latency_ms": 0})
        return plan, report

    return asyncio.run(scenario())


def stop_after(
    done: int, stopper: Stopper, *, halt: bool = False
) -> Callable[[ChangeResult], None]:
    """A progress callback that stops ``stopper`` once ``done`` changes are done, as Ctrl-C does."""
    seen: list[ChangeResult] = []

    def on_result(result: ChangeResult) -> None:
        seen.append(result)
        if len(seen) == done:
            stopper.stop()
            if halt:
                stopper.halt()

    return on_result


def test_no_stop_is_no_interruption() -> None:
    org, desired = org_with_two_phases()
    plan, report = applied(org, desired, Stopper())
    assert report.interruption is None
    assert report.ok
    assert [r.change for r in report.results] == list(plan.api_changes)


def test_a_stop_lets_the_changes_in_flight_finish_and_starts_no_other() -> None:
    org, desired = org_with_two_phases()
    stopper = Stopper(grace=5)
    plan, report = applied(org, desired, stopper, stop_after(3, stopper))

    interruption = report.interruption
    assert interruption is not None
    # Each of the other workers was making a change when the third was done; the stop is
    # looked at before a change is taken, so none started after it.
    assert len(report.finished_first) == 3
    assert len(interruption.in_flight) == WIDTH - 1
    assert len(interruption.not_started) == len(plan.api_changes) - 3 - (WIDTH - 1)
    assert [r.outcome for r in report.in_flight] == ["done"] * (WIDTH - 1)
    assert not interruption.halted
    assert not interruption.timed_out
    # Every change is in exactly one of the three groups, and the removals never started.
    taken = [r.change for r in report.results]
    assert sorted([*taken, *interruption.not_started], key=plan.api_changes.index) == list(
        plan.api_changes
    )
    assert {c.kind for c in interruption.not_started} == {"invite", "remove_member"}
    # The emulator holds exactly what was reported done, and nothing that was not started.
    assert [made(org.store, c) for c in taken] == [True] * len(taken)
    assert not any(made(org.store, c) for c in interruption.not_started)


def test_the_next_plan_is_what_the_stopped_run_did_not_do() -> None:
    org, desired = org_with_two_phases()
    stopper = Stopper(grace=5)
    _, report = applied(org, desired, stopper, stop_after(5, stopper))
    assert report.interruption is not None
    after = asyncio.run(org.plan(desired))
    assert after.api_changes == report.interruption.not_started


def test_a_halt_cuts_the_changes_in_flight_short_and_says_their_outcome_is_unknown() -> None:
    org, desired = org_with_two_phases()
    stopper = Stopper(grace=5)
    # Halted once the first WIDTH changes, started together, are done: the workers that finished
    # first have each begun another, which the emulator holds for its latency.
    halt = stop_after(WIDTH, stopper, halt=True)
    plan, report = applied(org, desired, stopper, halt, latency_ms=100)

    interruption = report.interruption
    assert interruption is not None
    assert interruption.halted
    assert len(report.finished_first) == WIDTH
    assert len(interruption.in_flight) == WIDTH - 1
    assert len(interruption.not_started) == len(plan.api_changes) - WIDTH - (WIDTH - 1)
    for result in report.in_flight:
        assert result.outcome == "unknown"
        assert isinstance(result.error, CutShort)
        assert str(result.error) == "stopped at once, before it finished"
    assert len(report.unknown) == WIDTH - 1
    assert all(made(org.store, r.change) for r in report.finished_first)
    # What the cut changes did, the next plan shows: it has every change not reported made.
    after = asyncio.run(org.plan(desired))
    not_made = [r.change for r in report.in_flight if not made(org.store, r.change)]
    assert after.api_changes == tuple(
        sorted([*not_made, *interruption.not_started], key=plan.api_changes.index)
    )


def test_changes_still_running_when_the_grace_ends_are_cut_short() -> None:
    org, desired = org_with_two_phases()
    stopper = Stopper(grace=0.05)
    _, report = applied(org, desired, stopper, stop_after(WIDTH, stopper), latency_ms=300)

    interruption = report.interruption
    assert interruption is not None
    assert interruption.timed_out
    assert not interruption.halted
    assert len(interruption.in_flight) == WIDTH - 1
    assert {str(r.error) for r in report.in_flight} == {"still running after 0.05 s, so stopped"}
    assert {r.outcome for r in report.in_flight} == {"unknown"}


def test_a_stop_before_the_first_change_starts_none() -> None:
    org, desired = org_with_two_phases()
    stopper = Stopper()
    stopper.stop()
    plan, report = applied(org, desired, stopper)
    assert report.results == ()
    assert report.interruption is not None
    assert report.interruption.in_flight == ()
    assert report.interruption.not_started == plan.api_changes


def test_a_change_in_flight_at_a_stop_is_still_read_back_when_its_answer_is_lost() -> None:
    org = Org(make_store({"a@example.io": "user"}, {}))
    user = org.store.user_by_email("a@example.io")
    assert user is not None
    path = f"/v1/organizations/users/{user.id}"
    faults = [{"kind": "drop_after", "method": "POST", "path": path}] * RetryPolicy().max_attempts
    stopper = Stopper(grace=5)
    client = watched_client(org, lambda request: stopper.stop())

    async def add_faults() -> None:
        await org.control("POST", "faults", {"faults": faults})

    asyncio.run(add_faults())
    _, report = applied(org, Desired({"a@example.io": "developer"}), stopper, client=client)

    interruption = report.interruption
    assert interruption is not None
    assert [c.email for c in interruption.in_flight] == ["a@example.io"]
    [result] = report.in_flight
    # Every answer was lost; the read-back found the change made, as without a stop.
    assert (result.outcome, result.error is not None) == ("done", True)
    assert made(org.store, result.change)


# A re-invite is two requests: the old invite is deleted, then a new one is sent.


def watched_client(
    org: Org,
    before: Callable[[httpx.Request], None] = lambda _: None,
    after: Callable[[httpx.Request], None] = lambda _: None,
    delay: Callable[[httpx.Request], float] = lambda _: 0.0,
) -> AdminClient:
    """A client of ``org`` whose retries never sleep, that calls ``before`` and ``after`` each
    request it sends, and holds each request ``delay`` seconds more than the emulator does."""
    inner = org.transport

    class Watched(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            before(request)
            await asyncio.sleep(delay(request))
            response = await inner.handle_async_request(request)
            after(request)
            return response

    async def no_sleep(_: float) -> None:
        return None

    http = make_http_client(BASE_URL, KEY, transport=Watched())
    return AdminClient(http, requester=Requester(http, rng=random.Random(0), sleep=no_sleep))


def reinvite_org() -> tuple[Org, Desired]:
    """ken's pending invite is for user and the files want developer; a@example.io is new."""
    org = Org(make_store({"stay@example.io": "user"}, {"ken@example.io": ("user", False)}))
    members = {"stay@example.io": "user", "ken@example.io": "developer"}
    return org, Desired(members | {"a@example.io": "user"})


def is_invite_deletion(request: httpx.Request) -> bool:
    return request.method == "DELETE" and "/invites/" in request.url.path


def test_a_halt_lets_a_reinvite_under_way_finish_both_steps() -> None:
    org, desired = reinvite_org()
    stopper = Stopper(grace=5)
    in_flight: list[tuple[int, int]] = []

    def halt_after_the_delete(request: httpx.Request) -> None:
        if is_invite_deletion(request):
            stopper.halt()
            in_flight.append((stopper.in_flight, stopper.finishing))

    def hold_the_others(request: httpx.Request) -> float:
        return 0.3 if b'"a@example.io"' in request.content else 0.0

    client = watched_client(org, after=halt_after_the_delete, delay=hold_the_others)
    _, report = applied(org, desired, stopper, client=client, latency_ms=20)

    assert in_flight == [(2, 1)]
    [reinvite] = [r for r in report.in_flight if r.change.kind == "reinvite"]
    assert (reinvite.outcome, reinvite.error) == ("done", None)
    pending = org.store.pending_invite_for("ken@example.io")
    assert pending is not None
    assert pending.role == "developer"
    others = [r for r in report.in_flight if r.change.kind == "invite"]
    assert [r.outcome for r in others] == ["unknown"]


@pytest.mark.parametrize(
    ("stop_when", "step", "left", "old_invite_left"),
    [
        pytest.param(
            "before",
            "stopped while deleting the previous invite; the new one was not sent",
            "the next plan will show whether ken@example.io still has the previous invite",
            True,
            id="during-the-delete",
        ),
        pytest.param(
            "after",
            "the previous invite was deleted; stopped while sending the new one",
            "the next plan will show whether ken@example.io has an invite",
            False,
            id="during-the-new-invite",
        ),
    ],
)
def test_a_reinvite_cut_when_the_grace_ends_says_which_step_it_was_at(
    stop_when: str, step: str, left: str, old_invite_left: bool
) -> None:
    org, desired = reinvite_org()
    old = org.store.pending_invite_for("ken@example.io")
    assert old is not None
    stopper = Stopper(grace=0)  # the grace ends with the stop: nothing in flight may finish

    def stop(request: httpx.Request) -> None:
        if is_invite_deletion(request):
            stopper.stop()

    hook = {"before": stop} if stop_when == "before" else {"after": stop}
    client = watched_client(org, **hook)
    _, report = applied(org, desired, stopper, client=client, latency_ms=50)

    [reinvite] = [r for r in report.results if r.change.kind == "reinvite"]
    assert (reinvite.outcome, str(reinvite.error), reinvite.note) == ("unknown", step, left)
    # What it says happened did: the delete was cut in the emulator's latency, or was made.
    still_pending = org.store.pending_invite_for("ken@example.io")
    assert (still_pending is not None and still_pending.id == old.id) == old_invite_left
    if not old_invite_left:
        assert still_pending is None  # the new invite was cut while the emulator waited


# What the CLI says: each Ctrl-C's line, and the summary (names escaped, as everywhere).


def stopper_making(*kinds: ChangeKind) -> Stopper:
    stopper = Stopper()
    for index, kind in enumerate(kinds):
        stopper.started(index, Change(kind, f"p{index}@example.io"))
    return stopper


@pytest.mark.parametrize(
    ("kinds", "first", "second"),
    [
        pytest.param(
            (),
            "Stopping: no change is in flight.",
            "Stopping now.",
            id="none",
        ),
        pytest.param(
            ("invite",),
            "Stopping: 1 change in flight finishes first (up to 30 s);"
            " Ctrl-C again to stop at once.",
            "Stopping now: the outcome of the 1 change in flight is unknown;"
            " the next `roster plan` will show the truth.",
            id="one",
        ),
        pytest.param(
            ("invite", "reinvite", "remove_member"),
            "Stopping: 3 changes in flight finish first (up to 30 s);"
            " Ctrl-C again to stop at once.",
            "Stopping now: the outcome of the 2 changes in flight is unknown;"
            " the next `roster plan` will show the truth;"
            " the re-invite under way finishes both its steps first.",
            id="a-reinvite-among-them",
        ),
        pytest.param(
            ("reinvite", "reinvite"),
            "Stopping: 2 changes in flight finish first (up to 30 s);"
            " Ctrl-C again to stop at once.",
            "Stopping now: the 2 re-invites under way finish both their steps first.",
            id="only-reinvites",
        ),
    ],
)
def test_each_ctrl_c_says_what_it_does(
    kinds: tuple[ChangeKind, ...], first: str, second: str
) -> None:
    stopper = stopper_making(*kinds)
    assert stopping_line(stopper) == first
    assert halting_line(stopper) == second


def test_the_summary_of_a_stopped_apply_escapes_names_and_names_the_first_not_started(
    capsys: pytest.CaptureFixture[str],
) -> None:
    odd = Change("invite", "eve\x1b[2J\u202e@example.io", to_role="user")
    cut = Change("update_role", "ann@example.io", "user", "developer", user_id="user_1")
    waiting = [Change("invite", f"p{n:02d}@example.io", to_role="user") for n in range(12)]
    report = ApplyReport(
        results=(ChangeResult(odd), ChangeResult(cut, "unknown", CutShort("stopped at once"))),
        manual=(),
        interruption=Interruption(in_flight=(cut,), not_started=tuple(waiting), halted=True),
    )
    with pytest.raises(click.exceptions.Exit) as stopped:
        finish(report)
    assert stopped.value.exit_code == 130
    out, err = capsys.readouterr()
    assert (
        out
        == "Apply stopped by Ctrl-C: 1 of 14 changes made, 1 of unknown outcome, 12 not started.\n"
    )
    assert err == (
        "Finished before Ctrl-C (1):\n"
        "  + invite eve\\x1b[2J\\u202e@example.io as user: done\n"
        "In flight at Ctrl-C (1):\n"
        "  ~ change ann@example.io from user to developer: OUTCOME UNKNOWN: stopped at once;"
        " the next plan will show whether it was made\n"
        "Not started (12):\n"
        + "".join(f"  + invite p{n:02d}@example.io as user\n" for n in range(10))
        + "  … and 2 more\n"
        "`roster plan` shows what is left to do; `roster apply` again does only that.\n"
    )
