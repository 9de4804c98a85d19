"""apply_plan against the emulator: order, failures, and convergence for any starting state."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.api.http import RetryPolicy
from roster.apply import ApplyReport, apply_plan
from roster.desired import Desired, DesiredWorkspace, Policy, RemovalLimit
from roster.emulator.oracle import made, pending_invites_per_email
from roster.plan import Plan, compute_plan
from tests.support import POOL, SETTABLE, Org, make_store

REMOVE_ALL = Policy(unmanaged="remove", max_removals=RemovalLimit(100))


def test_apply_makes_grants_before_removals() -> None:
    org = Org(make_store({"old@example.io": "user", "dev@example.io": "user"}, {}))
    desired = Desired({"dev@example.io": "developer", "new@example.io": "user"}, REMOVE_ALL)

    async def scenario() -> list[tuple[str, str]]:
        await org.control("DELETE", "requests")
        report = await org.apply(desired)
        assert report.ok
        log = await org.control("GET", "requests")
        return [(r["method"], r["path"]) for r in log["requests"] if r["method"] != "GET"]

    writes = asyncio.run(scenario())
    assert len(writes) == 3
    assert writes[-1][0] == "DELETE"
    assert {w[0] for w in writes[:2]} == {"POST"}
    assert org.store.user_by_email("old@example.io") is None


def test_one_failing_change_does_not_stop_the_others() -> None:
    org = Org(make_store({"a@example.io": "user", "b@example.io": "user"}, {}))
    desired = Desired({"a@example.io": "developer", "b@example.io": "billing"}, REMOVE_ALL)
    stuck = org.store.user_by_email("a@example.io")
    assert stuck is not None
    fault = {"kind": "500", "method": "POST", "path": f"/v1/organizations/users/{stuck.id}"}

    async def scenario() -> tuple[ApplyReport, Plan, ApplyReport, Plan]:
        await org.control("POST", "faults", {"faults": [fault] * RetryPolicy().max_attempts})
        first = await org.apply(desired)
        left = await org.plan(desired)
        second = await org.apply(desired)
        return first, left, second, await org.plan(desired)

    first, left, second, final = asyncio.run(scenario())
    assert [r.change.email for r in first.failed] == ["a@example.io"]
    error = first.failed[0].error
    assert error is not None
    assert error.status == 500
    assert error.request_id
    assert [c.email for c in first.applied] == ["b@example.io"]
    assert [c.email for c in left.api_changes] == ["a@example.io"]
    assert second.ok
    assert final.api_changes == ()


def test_reinvite_replaces_the_pending_invite() -> None:
    org = Org(make_store({}, {"ken@example.io": ("user", False)}))
    desired = Desired({"ken@example.io": "developer"})

    async def scenario() -> list[dict[str, Any]]:
        report = await org.apply(desired)
        assert [c.kind for c in report.applied] == ["reinvite"]
        return await org.client().list_invites(email="ken@example.io")

    invites = asyncio.run(scenario())
    pending = [i for i in invites if i["status"] == "pending"]
    assert [(i["role"]) for i in pending] == ["developer"]


def test_manual_changes_are_never_attempted() -> None:
    org = Org(make_store({"boss@example.io": "admin"}, {}))
    desired = Desired({"boss@example.io": "developer"})

    async def scenario() -> ApplyReport:
        await org.control("DELETE", "requests")
        report = await org.apply(desired)
        log = await org.control("GET", "requests")
        assert {r["method"] for r in log["requests"]} == {"GET"}
        return report

    report = asyncio.run(scenario())
    assert report.results == ()
    assert [c.email for c in report.manual] == ["boss@example.io"]


# Convergence: whatever the starting state, one apply leaves nothing the API can still do.


def assert_converges(org: Org, desired: Desired) -> None:
    """Apply the plan; every change succeeds and the next plan has no API change left."""

    async def scenario() -> tuple[ApplyReport, Plan]:
        report = await org.apply(desired)
        return report, await org.plan(desired)

    report, after = asyncio.run(scenario())
    assert report.ok, [str(r.error) for r in report.failed]
    assert after.api_changes == ()


emails = st.sampled_from(POOL)
current_members = st.dictionaries(emails, st.sampled_from([*SETTABLE, "admin"]), max_size=7)
current_invites = st.dictionaries(
    emails, st.tuples(st.sampled_from(SETTABLE), st.booleans()), max_size=5
)
desired_members = st.dictionaries(emails, st.sampled_from([*SETTABLE, "admin"]), max_size=8)
policies = st.builds(
    Policy,
    unmanaged=st.sampled_from(["remove", "report", "ignore"]),
    protected=st.frozensets(emails, max_size=2),
    ignore=st.sampled_from([(), ("p9@*",), ("p1@example.io", "p2@*")]),
    max_removals=st.just(RemovalLimit(100)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(members=current_members, invites=current_invites, wanted=desired_members, policy=policies)
def test_plan_then_apply_converges(
    members: dict[str, str],
    invites: dict[str, tuple[str, bool]],
    wanted: dict[str, str],
    policy: Policy,
) -> None:
    invites = {email: invite for email, invite in invites.items() if email not in members}
    wanted = {email: role for email, role in wanted.items() if not policy.ignores(email)}
    assert_converges(Org(make_store(members, invites)), Desired(wanted, policy))


# The same with workspaces and the keys of removed members.

WORKSPACE_ROLES = ["workspace_user", "workspace_developer", "workspace_admin"]
workspace_names = st.sampled_from(["W1", "W2", "W3"])


def allowed_workspace_role(org_role: str, role: str) -> str:
    # The files' rule: org admins and billing members may only be listed as workspace_admin.
    return "workspace_admin" if org_role in {"admin", "billing"} else role


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    members=current_members,
    invites=current_invites,
    wanted=desired_members,
    held=st.dictionaries(
        st.sampled_from(["W1", "W2"]), st.dictionaries(emails, st.sampled_from(WORKSPACE_ROLES))
    ),
    wanted_spaces=st.dictionaries(
        workspace_names, st.dictionaries(emails, st.sampled_from(WORKSPACE_ROLES), max_size=4)
    ),
    keys=st.dictionaries(st.sampled_from(["k1", "k2", "k3"]), emails),
    unmanaged=st.sampled_from(["remove", "report", "ignore"]),
    key_policy=st.sampled_from(["keep", "report", "deactivate", "archive"]),
)
def test_plan_then_apply_converges_with_workspaces(
    *,
    members: dict[str, str],
    invites: dict[str, tuple[str, bool]],
    wanted: dict[str, str],
    held: dict[str, dict[str, str]],
    wanted_spaces: dict[str, dict[str, str]],
    keys: dict[str, str],
    unmanaged: str,
    key_policy: str,
) -> None:
    invites = {email: invite for email, invite in invites.items() if email not in members}
    # Only plain members are explicit workspace members; admins and billing inherit.
    plain = {e for e, r in members.items() if r not in {"admin", "billing"}}
    held = {n: {e: r for e, r in m.items() if e in plain} for n, m in held.items()}
    keys = {name: email for name, email in keys.items() if email in members}
    spaces = {
        name: DesiredWorkspace(
            name, {e: allowed_workspace_role(wanted[e], r) for e, r in m.items() if e in wanted}
        )
        for name, m in wanted_spaces.items()
    }
    policy = Policy(
        unmanaged=unmanaged,  # type: ignore[arg-type]
        max_removals=RemovalLimit(100),
        api_keys_of_removed_members=key_policy,  # type: ignore[arg-type]
    )
    org = Org(make_store(members, invites, held, keys))
    assert_converges(org, Desired(wanted, policy, workspaces=spaces))


def test_a_reinvite_whose_second_half_fails_says_the_invite_is_gone() -> None:
    org = Org(make_store({}, {"ken@example.io": ("user", False)}))
    fault = {"kind": "500", "method": "POST", "path": "/v1/organizations/invites"}

    async def scenario() -> ApplyReport:
        await org.control("POST", "faults", {"faults": [fault] * RetryPolicy().max_attempts})
        return await org.apply(Desired({"ken@example.io": "developer"}))

    [failed] = asyncio.run(scenario()).failed
    assert "the previous invite was deleted, but the new one failed" in str(failed.error)
    assert "ken@example.io has no invite now" in str(failed.error)
    assert org.store.pending_invite_for("ken@example.io") is None


def test_an_unexpected_error_fails_its_change_and_the_others_go_on() -> None:
    org = Org(make_store({"a@example.io": "user", "b@example.io": "user"}, {}))
    broken = org.store.user_by_email("a@example.io")
    assert broken is not None
    inner = org.transport

    class Surprising(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path.endswith(broken.id):
                raise RuntimeError("a proxy said something roster does not know")
            return await inner.handle_async_request(request)

    org.transport = Surprising()  # type: ignore[assignment]
    desired = Desired({"a@example.io": "developer", "b@example.io": "billing"})
    report = asyncio.run(org.apply(desired))
    [failed] = report.failed
    assert failed.change.email == "a@example.io"
    assert str(failed.error) == "RuntimeError: a proxy said something roster does not know"
    assert [c.email for c in report.applied] == ["b@example.io"]


# A change reported failed was not made: what apply reports is read back, not assumed.


def test_a_change_whose_every_answer_was_lost_is_reported_made() -> None:
    org = Org(make_store({"a@example.io": "user"}, {}))
    user = org.store.user_by_email("a@example.io")
    assert user is not None
    fault = {"kind": "drop_after", "method": "POST", "path": f"/v1/organizations/users/{user.id}"}

    async def scenario() -> ApplyReport:
        await org.control("POST", "faults", {"faults": [fault] * RetryPolicy().max_attempts})
        return await org.apply(Desired({"a@example.io": "developer"}))

    report = asyncio.run(scenario())
    [result] = report.results
    assert (result.outcome, result.ok) == ("done", True)
    assert result.error is not None  # what the last attempt met, for the record
    assert org.store.user_by_email("a@example.io").role == "developer"  # type: ignore[union-attr]


def test_a_change_whose_read_back_fails_too_has_an_unknown_outcome() -> None:
    org = Org(make_store({"a@example.io": "user"}, {}))
    user = org.store.user_by_email("a@example.io")
    assert user is not None
    path = f"/v1/organizations/users/{user.id}"
    faults = [{"kind": "drop_after", "method": "POST", "path": path}] * RetryPolicy().max_attempts
    faults += [{"kind": "503", "method": "GET", "path": path}] * RetryPolicy().max_attempts

    async def scenario() -> ApplyReport:
        await org.control("POST", "faults", {"faults": faults})
        return await org.apply(Desired({"a@example.io": "developer"}))

    report = asyncio.run(scenario())
    assert [r.outcome for r in report.results] == ["unknown"]
    assert not report.ok
    assert report.failed == ()


def busy_org() -> tuple[Org, Desired]:
    people = {f"u{n}@example.io": SETTABLE[n % 4] for n in range(24)}
    invites = {f"i{n}@example.io": ("user", n % 3 == 0) for n in range(8)}
    held = {"W1": {f"u{n}@example.io": "workspace_user" for n in range(0, 24, 4)}}
    keys = {f"k{n}": f"u{n}@example.io" for n in range(20, 24)}
    org = Org(make_store(people, invites, held, keys))
    wanted = {f"u{n}@example.io": SETTABLE[(n + 1) % 4] for n in range(20)}
    wanted |= {f"i{n}@example.io": "developer" for n in range(6)}
    wanted |= {f"new{n}@example.io": "user" for n in range(6)}
    plain = [e for e, r in wanted.items() if r != "billing" and e.startswith("u")]
    spaces = {"W1": DesiredWorkspace("W1", dict.fromkeys(plain[:8], "workspace_developer"))}
    policy = Policy(
        unmanaged="remove", max_removals=RemovalLimit(100), api_keys_of_removed_members="deactivate"
    )
    return org, Desired(wanted, policy, workspaces=spaces)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_at_half_the_requests_failing_every_reported_outcome_is_true(seed: int) -> None:
    org, desired = busy_org()
    every_fault = ["500", "503", "529", "drop_before", "drop_after"]

    async def scenario() -> ApplyReport:
        current = await org.current(desired)
        plan = compute_plan(desired, current)
        await org.control(
            "POST", "config", {"fault_rate": 0.5, "fault_seed": seed, "fault_kinds": every_fault}
        )
        report = await apply_plan(plan, org.client(), current=current)
        await org.control("POST", "config", {"fault_rate": 0})
        return report

    report = asyncio.run(scenario())
    assert len(report.results) > 40
    wrong = [
        (r.change.kind, r.change.email, r.outcome)
        for r in report.results
        if r.outcome != "unknown" and made(org.store, r.change) != r.ok
    ]
    assert wrong == []  # nothing reported failed was made; nothing reported made is missing
    assert max(pending_invites_per_email(org.store).values()) == 1
    assert_converges(org, desired)


def test_creating_a_workspace_looks_for_namesakes_only_once_it_is_made() -> None:
    org = Org(make_store({"a@example.io": "user"}, {}))
    desired = Desired({"a@example.io": "user"}, workspaces={"New": DesiredWorkspace("New")})

    async def scenario() -> list[tuple[str, str]]:
        current = await org.current(desired)
        plan = compute_plan(desired, current)
        await org.control("DELETE", "requests")
        assert (await apply_plan(plan, org.client(), current=current)).ok
        log = await org.control("GET", "requests")
        return [(r["method"], r["path"]) for r in log["requests"]]

    workspaces = "/v1/organizations/workspaces"
    # The plan read the workspaces already; the look after creating finds a racing twin.
    assert asyncio.run(scenario()) == [("POST", workspaces), ("GET", workspaces)]


def test_a_removal_refused_as_requester_unconfirmed_says_what_it_may_have_done() -> None:
    org = Org(
        make_store(
            {"a@example.io": "user", "b@example.io": "developer"}, {}, keys={"k": "b@example.io"}
        )
    )
    gone = org.store.user_by_email("b@example.io")
    assert gone is not None
    path = f"/v1/organizations/users/{gone.id}"
    fault = {"kind": "requester_unconfirmed", "method": "DELETE", "path": path}
    desired = Desired({"a@example.io": "user"}, REMOVE_ALL)

    async def scenario() -> ApplyReport:
        await org.control("POST", "faults", {"faults": [fault] * RetryPolicy().max_attempts})
        return await org.apply(desired)

    [failed] = asyncio.run(scenario()).failed
    assert failed.change.kind == "remove_member"
    assert failed.note == (
        "the API may already have signed them out and turned off some of their API keys;"
        " running apply again is safe"
    )
    assert [k.status for k in org.store.api_keys()] == ["inactive"]  # the partial effect
    assert_converges(org, desired)
