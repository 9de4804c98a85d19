"""Workspace rate limits through plan and apply, against the emulator: convergence from any
starting state (with and without faults), the requests apply sends, saved plans, what a plan
reads, and export then plan."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.api import AdminClient, make_http_client
from roster.api.http import Requester, RetryPolicy
from roster.apply import ApplyReport, apply_plan
from roster.changes import Change
from roster.config import load_config
from roster.desired import Desired, DesiredWorkspace, Policy, RateLimitPolicy
from roster.emulator.control import LogEntry, watch_controls
from roster.emulator.rate_limits import (
    BATCH_GROUP_ID,
    CATALOGUE,
    FILES_GROUP_ID,
    HAIKU_3_GROUP_ID,
    HAIKU_4_GROUP_ID,
    OPUS_4_GROUP_ID,
    SKILLS_GROUP_ID,
    SONNET_4_GROUP_ID,
    TOKEN_COUNT_GROUP_ID,
    WEB_SEARCH_GROUP_ID,
)
from roster.emulator.store import Store
from roster.export import render_roster_file
from roster.model import LIMITER_TYPES, Current
from roster.plan import Plan, compute_plan
from roster.sandbox import SANDBOX_FILE, load_sandbox
from roster.saved_plan import fingerprint
from roster.state import fetch_state
from tests.support import BASE_URL, KEY, Org, make_store, run_cli

DATA = Path(__file__).parent / "data"
ORG = "/v1/organizations"
RPM, ITPM, OTPM = "requests_per_minute", "input_tokens_per_minute", "output_tokens_per_minute"
ITPM_CA, TPD = "input_tokens_per_minute_cache_aware", "tokens_per_day"
TOOL_USES = "tool_uses_per_second"
Overrides = dict[str, dict[str, int]]  # group id -> limiter type -> value


class LimitsOrg(Org):
    """The emulator, read as ``roster plan`` reads it: the rate limits of every workspace once
    the files give any (``roster.cli.sync``)."""

    async def current(self, desired: Desired) -> Current:
        return await fetch_state(
            self.client(),
            workspace_members_of=desired.workspaces.keys(),
            rate_limits_of=None if desired.names_rate_limits else (),
        )


def workspace_ids(store: Store) -> dict[str, str]:
    """Active workspaces by name (each name once in these tests)."""
    found = (store.get_workspace(w) for w in store.workspace_ids())
    return {w.name: w.id for w in found if w.archived_at is None}


def overrides_in(store: Store, workspace_id: str) -> Overrides:
    """A workspace's overrides in the emulator, by stable group id."""
    by_entry = {store.rate_limits.entry_id(g): g.id for g in CATALOGUE}
    return {by_entry[e]: v for e, v in store.rate_limits.overrides(workspace_id).items()}


def with_overrides(store: Store, overrides: Mapping[str, Overrides]) -> Store:
    ids = workspace_ids(store)
    for name, groups in overrides.items():
        for group_id, limits in groups.items():
            store.rate_limits.set_overrides(ids[name], group_id, limits)
    return store


def expected_overrides(have: Overrides, wanted: Overrides | None, policy: str) -> Overrides:
    """What the files and policy.rate_limits leave: the types named set, the others kept
    (report, ignore) or cleared (remove); a workspace without rate_limits untouched."""
    if wanted is None:
        return have
    if policy == "remove":
        return {g: dict(v) for g, v in wanted.items() if v}
    after = {g: dict(v) for g, v in have.items()}
    for group_id, limits in wanted.items():
        after.setdefault(group_id, {}).update(limits)
    return {g: v for g, v in after.items() if v}


def rate_limit_changes(plan: Plan) -> list[Change]:
    return [c for c in plan.changes if c.kind == "set_rate_limits"]


# --- convergence from any starting state ----------------------------------------------------

SPACES = ("W1", "W2", "W3")
# Every name a file may give each group: its models (model groups), its type (the others),
# its rlg_ id.
ALIASES = {g.id: (*(g.models or (g.type,)), g.id) for g in CATALOGUE}
GivenLimits = dict[str, dict[str, int]]  # group as a file names it -> limiter type -> value


@dataclass(frozen=True)
class Scenario:
    """Workspaces and their overrides; what the files give for some workspaces (None: listed
    without rate_limits), as written and by group id; and policy.rate_limits."""

    have: dict[str, Overrides]
    wanted: dict[str, tuple[GivenLimits, Overrides] | None]
    policy: RateLimitPolicy


POLICIES: tuple[RateLimitPolicy, ...] = ("report", "remove", "ignore")


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    # A few groups and types in each example, so that the files and the organization often
    # name the same ones: values changed, types kept or cleared, not only overrides added.
    groups = draw(st.lists(st.sampled_from(sorted(ALIASES)), min_size=1, max_size=3, unique=True))
    types = draw(st.lists(st.sampled_from(LIMITER_TYPES), min_size=1, max_size=3, unique=True))
    values = st.dictionaries(st.sampled_from(types), st.integers(1, 10**6), min_size=1)
    overrides = st.dictionaries(st.sampled_from(groups), values)
    given_overrides = st.dictionaries(st.sampled_from(groups), values, min_size=1)
    spaces = draw(st.sets(st.sampled_from(SPACES), min_size=1))
    have = {name: draw(overrides) for name in sorted(spaces)}
    wanted: dict[str, tuple[GivenLimits, Overrides] | None] = {}
    for name in sorted(draw(st.sets(st.sampled_from([*SPACES, "New"]), min_size=1))):
        # {}: "rate_limits: {}", which names no group
        given = draw(st.none() | st.just({}) | given_overrides)
        if given is not None:
            named = {draw(st.sampled_from(ALIASES[g])): v for g, v in given.items()}
            wanted[name] = (named, given)
        else:
            wanted[name] = None
    return Scenario(have, wanted, draw(st.sampled_from(POLICIES)))


def organization(have: Mapping[str, Overrides]) -> LimitsOrg:
    """The workspaces of ``have`` with their overrides (and the Default one)."""
    return LimitsOrg(with_overrides(make_store({}, {}, {name: {} for name in have}), have))


def scenario_of(drawn: Scenario) -> tuple[LimitsOrg, Desired, dict[str, Overrides]]:
    """The emulated organization, the desired state, and the overrides each workspace must
    end with."""
    have, wanted, policy = drawn.have, drawn.wanted, drawn.policy
    workspaces = {
        name: DesiredWorkspace(name, rate_limits=None if given is None else given[0])
        for name, given in wanted.items()
    }
    desired = Desired({}, Policy(rate_limits=policy), workspaces=workspaces)
    end = {}
    for name in set(have) | set(wanted):
        given = wanted.get(name)
        end[name] = expected_overrides(
            have.get(name, {}), None if given is None else given[1], policy
        )
    return organization(have), desired, end


def assert_end_state(org: Org, end: Mapping[str, Overrides]) -> None:
    ids = workspace_ids(org.store)
    assert {name: overrides_in(org.store, ids[name]) for name in end} == end
    assert overrides_in(org.store, org.store.default_workspace_id) == {}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=scenarios())
def test_plan_then_apply_converges(drawn: Scenario) -> None:
    org, desired, end = scenario_of(drawn)

    async def scenario() -> tuple[ApplyReport, Plan]:
        report = await org.apply(desired)
        return report, await org.plan(desired)

    report, after = asyncio.run(scenario())
    assert report.ok, [(r.change.kind, str(r.error)) for r in report.failed]
    assert rate_limit_changes(after) == []
    assert after.api_changes == ()
    assert_end_state(org, end)


# --- the same, with faults ----------------------------------------------------------------------

EVERY_FAULT = ["500", "503", "529", "drop_before", "drop_after"]


def impatient_client(org: Org) -> AdminClient:
    """A client that gives up after two attempts, so that faults reach apply's report."""
    http = make_http_client(BASE_URL, KEY, transport=org.transport)

    async def no_sleep(_: float) -> None:
        return None

    retry = RetryPolicy(max_attempts=2, max_refusals=2)
    return AdminClient(http, requester=Requester(http, retry=retry, sleep=no_sleep))


def holds_in(store: Store, change: Change) -> bool:
    """Whether the emulator holds what a set_rate_limits change sets."""
    workspace_id = workspace_ids(store).get(change.workspace)
    if workspace_id is None:
        return False
    own = store.rate_limits.overrides(workspace_id).get(change.rate_limit_id or "", {})
    return all(own.get(step.limiter) == step.to_value for step in change.limits)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=scenarios(), seed=st.integers(0, 2**16))
def test_with_a_quarter_of_the_requests_failing_what_is_reported_is_true_and_it_converges(
    drawn: Scenario, seed: int
) -> None:
    org, desired, end = scenario_of(drawn)

    async def scenario() -> tuple[ApplyReport, ApplyReport | None, Plan]:
        current = await org.current(desired)
        plan = compute_plan(desired, current)
        faults = {"fault_rate": 0.25, "fault_seed": seed, "fault_kinds": EVERY_FAULT}
        await org.control("POST", "config", faults)
        first = await apply_plan(plan, impatient_client(org), current=current)
        await org.control("POST", "config", {"fault_rate": 0})
        wrong = [
            (r.change.workspace, r.change.group, r.outcome)
            for r in first.results
            if r.change.kind == "set_rate_limits"
            and r.outcome != "unknown"
            and holds_in(org.store, r.change) != r.ok
        ]
        assert wrong == []  # done is made; failed is not
        second = None if first.ok else await org.apply(desired)
        return first, second, await org.plan(desired)

    _, second, after = asyncio.run(scenario())
    assert second is None or second.ok, [str(r.error) for r in second.failed]
    assert rate_limit_changes(after) == []
    assert_end_state(org, end)


def one_change_org() -> tuple[LimitsOrg, Desired, str]:
    """W1 overrides Sonnet; the files lower one type: one POST, whose path is returned."""
    store = with_overrides(make_store({}, {}, {"W1": {}}), {"W1": {SONNET_4_GROUP_ID: {RPM: 900}}})
    desired = Desired(
        {},
        workspaces={"W1": DesiredWorkspace("W1", rate_limits={"claude-sonnet-4-5": {RPM: 500}})},
    )
    entry = store.rate_limits.entry_id_for(SONNET_4_GROUP_ID)
    path = f"{ORG}/workspaces/{workspace_ids(store)['W1']}/rate_limits/{entry}"
    return LimitsOrg(store), desired, path


def apply_with_faults(org: Org, desired: Desired, faults: list[dict[str, str]]) -> ApplyReport:
    """Plan, then apply with ``faults`` queued: the plan's own reads meet none of them."""

    async def scenario() -> ApplyReport:
        current = await org.current(desired)
        plan = compute_plan(desired, current)
        await org.control("POST", "faults", {"faults": faults})
        return await apply_plan(plan, org.client(), current=current)

    return asyncio.run(scenario())


def test_a_change_whose_every_answer_was_lost_is_read_back_and_reported_done() -> None:
    org, desired, path = one_change_org()
    lost = [{"kind": "drop_after", "method": "POST", "path": path}] * RetryPolicy().max_attempts
    [result] = apply_with_faults(org, desired, lost).results
    assert (result.change.kind, result.outcome, result.ok) == ("set_rate_limits", "done", True)
    assert result.error is not None  # what the last attempt met, for the record
    assert overrides_in(org.store, workspace_ids(org.store)["W1"]) == {
        SONNET_4_GROUP_ID: {RPM: 500}
    }


def test_a_change_the_api_never_made_is_reported_failed_and_the_next_apply_makes_it() -> None:
    org, desired, path = one_change_org()
    refused = [{"kind": "500", "method": "POST", "path": path}] * RetryPolicy().max_attempts
    [result] = apply_with_faults(org, desired, refused).results
    assert (result.outcome, result.ok) == ("failed", False)
    w1 = workspace_ids(org.store)["W1"]
    assert overrides_in(org.store, w1) == {SONNET_4_GROUP_ID: {RPM: 900}}
    assert asyncio.run(org.apply(desired)).ok
    assert overrides_in(org.store, w1) == {SONNET_4_GROUP_ID: {RPM: 500}}


def test_a_change_that_cannot_be_read_back_either_has_an_unknown_outcome() -> None:
    org, desired, path = one_change_org()
    attempts = RetryPolicy().max_attempts
    listed = path.rsplit("/", 1)[0]
    faults = [{"kind": "drop_after", "method": "POST", "path": path}] * attempts
    faults += [{"kind": "503", "method": "GET", "path": listed}] * attempts
    report = apply_with_faults(org, desired, faults)
    assert [r.outcome for r in report.results] == ["unknown"]
    assert not report.ok


# --- the requests apply sends ---------------------------------------------------------------


class Recording(httpx.AsyncBaseTransport):
    """The emulator's transport, keeping the JSON body of every API write sent through it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.bodies: list[tuple[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.startswith(ORG):
            self.bodies.append((request.url.path, json.loads(request.content)))
        return await self.inner.handle_async_request(request)


def test_one_post_per_workspace_and_group_with_every_type_in_one_body() -> None:
    store = make_store({"p1@example.io": "user"}, {}, {"W1": {"p1@example.io": "workspace_user"}})
    with_overrides(store, {"W1": {SONNET_4_GROUP_ID: {RPM: 9, OTPM: 9}, FILES_GROUP_ID: {RPM: 9}}})
    org = LimitsOrg(store)
    recording = Recording(org.transport)
    org.transport = recording  # type: ignore[assignment]
    desired = Desired(
        {"p1@example.io": "user"},
        Policy(workspace_members="remove", rate_limits="remove"),
        workspaces={
            "W1": DesiredWorkspace(
                "W1",
                rate_limits={
                    "claude-sonnet-4-5": {OTPM: 30, ITPM_CA: 20, RPM: 10},
                    "batch": {RPM: 5},
                },
            ),
            "New": DesiredWorkspace(
                "New",
                {"p1@example.io": "workspace_developer"},
                rate_limits={OPUS_4_GROUP_ID: {RPM: 7, OTPM: 8}, "web_search": {TOOL_USES: 3}},
            ),
        },
    )

    async def scenario() -> tuple[ApplyReport, list[dict[str, Any]]]:
        current = await org.current(desired)
        plan = compute_plan(desired, current)
        await org.control("DELETE", "requests")
        report = await apply_plan(plan, org.client(), current=current)
        return report, (await org.control("GET", "requests"))["requests"]

    report, log = asyncio.run(scenario())
    assert report.ok, [str(r.error) for r in report.failed]
    ids, entry = workspace_ids(store), store.rate_limits.entry_id_for
    w1, new = ids["W1"], ids["New"]

    def limits_path(workspace_id: str, group_id: str) -> str:
        return f"{ORG}/workspaces/{workspace_id}/rate_limits/{entry(group_id)}"

    def body(*limits: tuple[str, int | None]) -> dict[str, Any]:
        return {"limits": [{"type": t, "value": v} for t, v in limits]}

    expected = {
        limits_path(w1, SONNET_4_GROUP_ID): body((RPM, 10), (ITPM_CA, 20), (OTPM, 30)),
        limits_path(w1, BATCH_GROUP_ID): body((RPM, 5)),
        limits_path(w1, FILES_GROUP_ID): body((RPM, None)),  # cleared: policy remove
        limits_path(new, OPUS_4_GROUP_ID): body((RPM, 7), (OTPM, 8)),
        limits_path(new, WEB_SEARCH_GROUP_ID): body((TOOL_USES, 3)),
    }
    sent = [(path, b) for path, b in recording.bodies if "/rate_limits/" in path]
    assert sorted(path for path, _ in sent) == sorted(expected)  # each exactly once
    assert dict(sent) == expected
    writes = [(r["seq"], r["method"], r["path"]) for r in log if r["method"] != "GET"]
    assert sorted(p for _, m, p in writes if "/rate_limits/" in p) == sorted(expected)
    assert all(r["status"] == 200 for r in log if "/rate_limits/" in r["path"])
    created = next(s for s, m, p in writes if (m, p) == ("POST", f"{ORG}/workspaces"))
    removal = next(s for s, m, _ in writes if m == "DELETE")  # p1 leaves W1: phase 4
    limit_writes = [s for s, _, p in writes if "/rate_limits/" in p]
    assert created < min(limit_writes)
    assert max(limit_writes) < removal
    assert overrides_in(store, new) == {
        OPUS_4_GROUP_ID: {RPM: 7, OTPM: 8},
        WEB_SEARCH_GROUP_ID: {TOOL_USES: 3},
    }
    assert overrides_in(store, w1) == {
        SONNET_4_GROUP_ID: {RPM: 10, ITPM_CA: 20, OTPM: 30},
        BATCH_GROUP_ID: {RPM: 5},
    }


# --- the CLI against the sandbox: saved plans, requests, export ----------------------------------


@pytest.fixture
def in_tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory (so a fresh sandbox), with no key or URL set."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("ANTHROPIC_ADMIN_KEY", "ROSTER_API_URL", "ROSTER_PLAN_KEY", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def roster(*args: object) -> tuple[Result, list[LogEntry]]:
    """``roster ARGS`` as a user runs it, and the requests its sandbox emulator received."""
    with watch_controls() as controls:
        result = run_cli(args, env=None, secrets=[])
    return result, [entry for control in controls for entry in control.log.entries]


def sandbox(edit: Callable[[Store, dict[str, str]], None]) -> None:
    """Change the sandbox's saved state (the sample organization on first use) directly."""
    store = load_sandbox(SANDBOX_FILE)
    edit(store, workspace_ids(store))
    store.save(SANDBOX_FILE)


def sandbox_overrides() -> dict[str, Overrides]:
    store = load_sandbox(SANDBOX_FILE)
    return {name: overrides_in(store, wid) for name, wid in workspace_ids(store).items()}


PRODUCTION_FILE = DATA / "rate-limits-production.yaml"
# The sample organization's overrides (roster.emulator.sample).
SAMPLE_OVERRIDES = {
    "Default": {},
    "Production": {SONNET_4_GROUP_ID: {OTPM: 300_000, RPM: 2000}, BATCH_GROUP_ID: {RPM: 100}},
    "Research": {OPUS_4_GROUP_ID: {OTPM: 40_000}},
}


def saved_plan() -> str:
    planned, _ = roster("plan", "--sandbox", "--out", "plan.json", PRODUCTION_FILE)
    assert planned.exit_code == 0, planned.stderr
    return planned.stdout


def test_a_saved_plan_applies_its_rate_limit_changes_exactly(in_tmp_cwd: Path) -> None:
    shown = saved_plan()
    assert (
        "  ~ Production claude-sonnet-4-5 output_tokens_per_minute 300,000 -> 250,000"
        " (organization limit 800,000)\n"
    ) in shown
    applied, log = roster("apply", "--sandbox", "--yes", "plan.json", PRODUCTION_FILE)
    assert applied.exit_code == 0, applied.stderr
    assert "Apply complete: 2 of 2 changes made." in applied.stdout
    assert sandbox_overrides() == {
        **SAMPLE_OVERRIDES,
        "Production": {SONNET_4_GROUP_ID: {OTPM: 250_000}},
    }
    assert sorted(e.path.rsplit("/", 1)[1] for e in log if e.method == "POST") == sorted(
        load_sandbox(SANDBOX_FILE).rate_limits.entry_id_for(g)
        for g in (SONNET_4_GROUP_ID, BATCH_GROUP_ID)
    )
    after, _ = roster("plan", "--sandbox", "--detailed-exitcode", PRODUCTION_FILE)
    assert after.exit_code == 0, after.stdout


@pytest.mark.parametrize(
    ("edit", "drift"),
    [
        pytest.param(
            lambda store, ids: store.rate_limits.set_overrides(
                ids["Production"], BATCH_GROUP_ID, {RPM: 150}
            ),
            "workspace rate limit Production / batch requests_per_minute: 100 -> 150",
            id="a value the plan clears changed",
        ),
        pytest.param(
            lambda store, ids: store.rate_limits.set_overrides(
                ids["Production"], SONNET_4_GROUP_ID, {OTPM: 250_000}
            ),
            "workspace rate limit Production / Claude Sonnet 4.x output_tokens_per_minute:"
            " 300000 -> 250000",
            id="someone made part of the change already",
        ),
        pytest.param(
            lambda store, ids: store.rate_limits.set_overrides(
                ids["Production"], SKILLS_GROUP_ID, {RPM: 5}
            ),
            "workspace rate limit Production / skills appeared",
            id="an override the plan would clear appeared",
        ),
    ],
)
def test_a_saved_plan_is_stale_once_an_override_it_depends_on_changes(
    in_tmp_cwd: Path, edit: Callable[[Store, dict[str, str]], None], drift: str
) -> None:
    saved_plan()
    sandbox(edit)
    before, overrides = SANDBOX_FILE.read_text(), sandbox_overrides()
    stale, log = roster("apply", "--sandbox", "--yes", "plan.json", PRODUCTION_FILE)
    assert (stale.exit_code, stale.stdout) == (1, "")
    created = json.loads(Path("plan.json").read_text())["created_at"]
    assert stale.stderr.splitlines() == [
        "The organization changed since the plan was made:",
        f"  {drift}",
        f"Error: the organization changed since the plan was made ({created}) in ways that"
        " change the plan; nothing was applied: run roster plan again",
    ]
    assert [e for e in log if e.method != "GET"] == []
    assert SANDBOX_FILE.read_text() == before
    assert sandbox_overrides() == overrides


def test_an_override_the_plan_does_not_touch_may_change_in_between(in_tmp_cwd: Path) -> None:
    saved_plan()
    sandbox(
        lambda store, ids: store.rate_limits.set_overrides(
            ids["Research"], OPUS_4_GROUP_ID, {OTPM: 1}
        )
    )
    applied, _ = roster("apply", "--sandbox", "--yes", "plan.json", PRODUCTION_FILE)
    assert applied.exit_code == 0, applied.stderr
    assert sandbox_overrides()["Research"] == {OPUS_4_GROUP_ID: {OTPM: 1}}
    assert sandbox_overrides()["Production"] == {SONNET_4_GROUP_ID: {OTPM: 250_000}}


def reseal(edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit plan.json and recompute its digest, as anyone who can write the file could."""
    path = Path("plan.json")
    document = json.loads(path.read_text())
    document.pop("digest")
    edit(document)
    document["digest"] = fingerprint(document)
    path.write_text(json.dumps(document))


def first_step(document: dict[str, Any]) -> dict[str, Any]:
    [sonnet] = [c for c in document["plan"]["changes"] if c["group"] == "claude-sonnet-4-5"]
    steps: list[dict[str, Any]] = sonnet["limits"]
    [step] = [s for s in steps if s["limiter"] == OTPM]
    assert step["to_value"] == 250_000
    return step


def wanted_limits(document: dict[str, Any]) -> dict[str, Any]:
    limits: dict[str, dict[str, Any]] = document["desired"]["workspaces"]["Production"][
        "rate_limits"
    ]
    return limits["claude-sonnet-4-5"]


TAMPERED = [
    pytest.param(lambda d: first_step(d).update(to_value="250000"), id="plan: a string"),
    pytest.param(lambda d: first_step(d).update(to_value=True), id="plan: a boolean"),
    pytest.param(lambda d: first_step(d).update(to_value=2.5e5), id="plan: a float"),
    pytest.param(lambda d: first_step(d).update(to_value=-250_000), id="plan: negative"),
    pytest.param(lambda d: first_step(d).update(to_value=0), id="plan: zero"),
    pytest.param(
        lambda d: first_step(d).update(limiter="bogus_per_minute"), id="plan: unknown limiter"
    ),
    pytest.param(lambda d: first_step(d).update(extra=1), id="plan: unknown field"),
    pytest.param(
        lambda d: d["plan"]["changes"][0].update(kind="set_rate_limitz"), id="plan: unknown kind"
    ),
    pytest.param(lambda d: wanted_limits(d).update({OTPM: "250000"}), id="desired: a string"),
    pytest.param(lambda d: wanted_limits(d).update({OTPM: -250_000}), id="desired: negative"),
    pytest.param(
        lambda d: wanted_limits(d).update(bogus_per_minute=5), id="desired: unknown limiter"
    ),
]


@pytest.mark.parametrize("edit", TAMPERED)
def test_a_plan_with_tampered_limits_applies_nothing(
    in_tmp_cwd: Path, edit: Callable[[dict[str, Any]], None]
) -> None:
    saved_plan()
    reseal(edit)
    before = SANDBOX_FILE.read_text()
    refused, log = roster("apply", "--sandbox", "--yes", "plan.json")
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr.splitlines()[-1].startswith("Error: ")
    assert [e for e in log if e.method != "GET"] == []
    assert SANDBOX_FILE.read_text() == before


@pytest.mark.parametrize("edit", TAMPERED)
def test_a_plan_with_tampered_limits_is_refused_as_not_usable_before_any_request(
    in_tmp_cwd: Path, edit: Callable[[dict[str, Any]], None]
) -> None:
    # A value roster never writes is the file's fault, not the organization's: the file is
    # refused as it is read, rather than blamed on drift that did not happen.
    saved_plan()
    reseal(edit)
    refused, log = roster("apply", "--sandbox", "--yes", "plan.json")
    assert (refused.exit_code, refused.stdout) == (1, "")
    first, *rest = refused.stderr.splitlines()
    assert first.startswith("Error: plan.json: not a usable roster plan file ("), refused.stderr
    assert rest == []
    assert log == []


# --- what a plan reads ----------------------------------------------------------------------


def with_an_archived_workspace(store: Store, ids: dict[str, str]) -> None:
    old = store.create_workspace({"name": "Old"})
    store.rate_limits.set_overrides(old.id, BATCH_GROUP_ID, {RPM: 7})
    store.archive_workspace(old.id)


def requests_of(log: list[LogEntry]) -> Counter[tuple[str, str]]:
    return Counter((e.method, e.path) for e in log)


def test_a_plan_whose_files_give_no_rate_limits_reads_none(in_tmp_cwd: Path) -> None:
    roster("plan", "--sandbox", DATA / "rate-limits-none.yaml")  # the sandbox is made
    sandbox(with_an_archived_workspace)
    planned, log = roster("plan", "--sandbox", DATA / "rate-limits-none.yaml")
    assert planned.exit_code == 0, planned.stderr
    assert [e.path for e in log if "rate_limits" in e.path] == []
    assert {e.method for e in log} == {"GET"}


def test_a_plan_whose_files_give_rate_limits_reads_every_other_active_workspace_once(
    in_tmp_cwd: Path,
) -> None:
    roster("plan", "--sandbox", DATA / "rate-limits-none.yaml")
    sandbox(with_an_archived_workspace)
    _, without = roster("plan", "--sandbox", DATA / "rate-limits-none.yaml")
    planned, log = roster("plan", "--sandbox", PRODUCTION_FILE)
    assert planned.exit_code == 0, planned.stderr
    store = load_sandbox(SANDBOX_FILE)
    ids = workspace_ids(store)
    assert set(ids) == {"Default", "Production", "Research"}
    # Research too, which the files do not name: the plan adds up every workspace's overrides.
    # Not the Default workspace, which has the organization's limits, nor Old, archived.
    read = [("GET", f"{ORG}/rate_limits")]
    read += [
        ("GET", f"{ORG}/workspaces/{ids[name]}/rate_limits") for name in ("Production", "Research")
    ]
    assert requests_of(log) - requests_of(without) == Counter(read)
    assert requests_of(without) - requests_of(log) == Counter()
    assert {e.query for e in log if "rate_limits" in e.path} == {""}  # overrides only


# --- export, then plan ------------------------------------------------------------------------

EVERY_GROUP: dict[str, Overrides] = {
    "Production": {
        SONNET_4_GROUP_ID: {RPM: 2000, ITPM_CA: 9_000_000, OTPM: 300_000},  # one above the org
        BATCH_GROUP_ID: {RPM: 100, TPD: 5},  # a type the organization does not limit
        HAIKU_3_GROUP_ID: {ITPM: 1},
        TOKEN_COUNT_GROUP_ID: {RPM: 3},
    },
    "Research": {
        OPUS_4_GROUP_ID: {OTPM: 40_000},
        SONNET_4_GROUP_ID: {OTPM: 700_000},  # with Production's, more than the organization's
        HAIKU_4_GROUP_ID: dict.fromkeys(LIMITER_TYPES, 11),
        FILES_GROUP_ID: {RPM: 4},
        SKILLS_GROUP_ID: {RPM: 5},
        WEB_SEARCH_GROUP_ID: {TOOL_USES: 6},
    },
}


def test_export_then_plan_is_empty_with_overrides_on_every_group(in_tmp_cwd: Path) -> None:
    roster("plan", "--sandbox", PRODUCTION_FILE)  # the sandbox is made

    def edit(store: Store, ids: dict[str, str]) -> None:
        store.rate_limits.clear()
        with_overrides(store, EVERY_GROUP)

    sandbox(edit)
    exported, _ = roster("export", "--sandbox", "-o", "exported.yaml")
    assert exported.exit_code == 0, exported.stderr
    text = Path("exported.yaml").read_text(encoding="utf-8")
    names = ["claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5"]
    names += ["claude-3-5-haiku-latest", "batch", "token_count", "files", "skills", "web_search"]
    assert [f"      {name}:" in text.splitlines() for name in names] == [True] * len(names)
    planned, log = roster("plan", "--sandbox", "--format", "json", "exported.yaml")
    assert planned.exit_code == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert (plan["changes"], plan["manual"]) == ([], [])
    # The one value above the organization's limit is told at every plan; nothing else is.
    assert plan["rate_limits"] == [
        {
            "reason": "above_organization_limit",
            "workspace": "Production",
            "group": "claude-sonnet-4-5",
            "limiter": ITPM_CA,
            "value": 9_000_000,
            "org_limit": 4_000_000,
        }
    ]
    assert any("/rate_limits" in e.path for e in log)  # the exported file gives rate limits
    shown, _ = roster("plan", "--sandbox", "--detailed-exitcode", "exported.yaml")
    assert shown.exit_code == 0, shown.stdout


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=scenarios())
def test_export_then_plan_changes_no_rate_limit(drawn: Scenario) -> None:
    org = organization(drawn.have)

    async def exported() -> Current:
        return await fetch_state(
            org.client(), workspace_members_of=None, with_api_keys=False, rate_limits_of=None
        )

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "exported.yaml"
        path.write_text(render_roster_file(asyncio.run(exported())), encoding="utf-8")
        desired = load_config([path])
    plan = asyncio.run(org.plan(desired))
    assert plan.changes == ()
    told = sorted((n.reason, n.workspace, n.limiter, n.value) for n in plan.rate_limits)
    assert told == above_the_organization(drawn.have)


def above_the_organization(have: Mapping[str, Overrides]) -> list[tuple[str, str, str, int]]:
    """The overrides above the organization's limit, which every plan tells."""
    org = {g.id: g.org_limits() for g in CATALOGUE}
    return sorted(
        ("above_organization_limit", name, limiter, value)
        for name, groups in have.items()
        for group_id, limits in groups.items()
        for limiter, value in limits.items()
        if limiter in org[group_id] and value > org[group_id][limiter]
    )
