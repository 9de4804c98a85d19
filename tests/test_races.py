"""Two applies at once against one organization, over real HTTP: a re-run CI job, a laptop and
CI. Neither may corrupt the organization: no duplicate invite, no duplicate workspace left, the
losing run reports what the other did as already done, and the next plan is empty.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from roster.api import AdminClient, make_http_client
from roster.api.http import Requester, RetryPolicy
from roster.apply import ApplyReport, apply_plan
from roster.desired import Desired, DesiredWorkspace, Policy, RemovalLimit
from roster.emulator.app import create_app
from roster.emulator.server import running_server
from roster.emulator.store import Store
from roster.model import Current
from roster.plan import Plan, compute_plan
from roster.state import fetch_state
from tests.support import KEY, make_store

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = {f"p{n}@example.io": "user" for n in range(12)}
NEW_SPACES = ("new-a", "new-b", "new-c")


def starting_store() -> Store:
    people = dict(PEOPLE) | {"boss@example.io": "admin", "gone@example.io": "developer"}
    invites = {"old@example.io": ("user", False), "later@example.io": ("user", False)}
    return make_store(
        people,
        invites,
        {"Production": {"p0@example.io": "workspace_user", "gone@example.io": "workspace_user"}},
        keys={"gone-key": "gone@example.io"},
    )


def desired_state() -> Desired:
    emails = list(PEOPLE)
    members = dict.fromkeys(emails[:6], "developer") | dict.fromkeys(emails[6:], "user")
    # The emulator's own first admin, and one that roster files name.
    members |= {"admin@example.com": "admin", "boss@example.io": "admin", "new0@example.io": "user"}
    members |= {f"new{n}@example.io": "claude_code_user" for n in range(1, 5)}
    members |= {"later@example.io": "developer"}
    spaces = {
        name: DesiredWorkspace(name, dict.fromkeys(emails[i : i + 4], "workspace_developer"))
        for i, name in enumerate(NEW_SPACES)
    }
    spaces["Production"] = DesiredWorkspace("Production", {"p1@example.io": "workspace_admin"})
    policy = Policy(
        unmanaged="remove", max_removals=RemovalLimit(100), api_keys_of_removed_members="deactivate"
    )
    return Desired(members, policy, workspaces=spaces)


def client_for(base: str) -> AdminClient:
    http = make_http_client(base, KEY)

    async def short_sleep(_: float) -> None:
        await asyncio.sleep(0)

    requester = Requester(http, retry=RetryPolicy(), rng=random.Random(0), sleep=short_sleep)
    return AdminClient(http, requester=requester)


async def planned(client: AdminClient, desired: Desired) -> tuple[Current, Plan]:
    current = await fetch_state(client, workspace_members_of=desired.workspaces.keys())
    return current, compute_plan(desired, current)


def assert_organization_whole(store: Store, desired: Desired) -> None:
    state = store.to_json()
    now = store.now_text()
    pending = Counter(
        i["email"]
        for i in state["invites"]
        if not i["deleted"] and i["accepted_at"] is None and i["expires_at"] > now
    )
    assert [email for email, count in pending.items() if count > 1] == []
    names = Counter(w["name"] for w in state["workspaces"] if w["archived_at"] is None)
    assert [name for name, count in names.items() if count > 1] == []
    assert set(NEW_SPACES) <= set(names)


@pytest.fixture
def served() -> Iterator[tuple[str, Store]]:
    store = starting_store()
    app = create_app(store)
    app.state.control.configure({"latency_ms": 3})
    with running_server(app) as base:
        yield base, store


def test_two_applies_of_one_plan_at_once_converge_without_a_person(
    served: tuple[str, Store],
) -> None:
    base, store = served
    desired = desired_state()

    async def race() -> tuple[ApplyReport, ApplyReport, Plan, ApplyReport]:
        first, second = client_for(base), client_for(base)
        # Both plan before either applies: the worst case, where every change is raced.
        (seen_a, plan_a), (seen_b, plan_b) = await asyncio.gather(
            planned(first, desired), planned(second, desired)
        )
        assert plan_a.api_changes == plan_b.api_changes
        reports = await asyncio.gather(
            apply_plan(plan_a, first, current=seen_a), apply_plan(plan_b, second, current=seen_b)
        )
        third = client_for(base)
        _, after = await planned(third, desired)
        rerun = await apply_plan(after, third)
        return reports[0], reports[1], after, rerun

    report_a, report_b, after, rerun = asyncio.run(race())
    for report in (report_a, report_b):
        assert report.ok, [(r.change.kind, r.outcome, str(r.error)) for r in report.results]
    already = [r.change.kind for r in (*report_a.already_done, *report_b.already_done)]
    assert "invite" in already
    assert "create_workspace" in already
    assert after.api_changes == ()
    assert rerun.results == ()
    assert_organization_whole(store, desired)


def test_a_workspace_created_twice_keeps_the_oldest_and_archives_the_empty_twin(
    served: tuple[str, Store],
) -> None:
    base, store = served
    desired = Desired(
        {"admin@example.com": "admin", "boss@example.io": "admin", "p0@example.io": "user"},
        workspaces={"new-a": DesiredWorkspace("new-a", {"p0@example.io": "workspace_user"})},
    )

    async def race() -> list[ApplyReport]:
        clients = [client_for(base) for _ in range(3)]
        plans = await asyncio.gather(*(planned(c, desired) for c in clients))
        return await asyncio.gather(
            *(apply_plan(p, c, current=s) for c, (s, p) in zip(clients, plans, strict=True))
        )

    reports = asyncio.run(race())
    assert all(report.ok for report in reports)
    state = store.to_json()
    named = sorted(
        (w for w in state["workspaces"] if w["name"] == "new-a"), key=lambda w: w["created_at"]
    )
    active = [w for w in named if w["archived_at"] is None]
    assert len(named) > 1  # the race happened: more than one run created it
    assert len(active) == 1
    assert active[0]["id"] == min(named, key=lambda w: (w["created_at"], w["id"]))["id"]
    members = [m for m in state["workspace_members"] if m["workspace_id"] == active[0]["id"]]
    assert [m["workspace_role"] for m in members] == ["workspace_user"]
    # Every twin that was archived was empty: nobody was ever added to a twin.
    assert all(
        m["workspace_id"] == active[0]["id"]
        for m in state["workspace_members"]
        if m["workspace_id"] in {w["id"] for w in named}
    )


def test_duplicate_workspaces_made_by_hand_block_only_themselves(
    served: tuple[str, Store], tmp_path: Path
) -> None:
    base, _ = served
    for _ in range(2):
        response = httpx.post(
            f"{base}/v1/organizations/workspaces",
            json={"name": "Twins"},
            headers={"x-api-key": KEY.reveal(), "anthropic-version": "2023-06-01"},
        )
        response.raise_for_status()
    path = tmp_path / "roster.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "members": {
                    "admin@example.com": "admin",
                    "boss@example.io": "admin",
                    "p0@example.io": "developer",
                },
                "workspaces": {"Twins": {"members": {"p0@example.io": "workspace_user"}}},
            }
        ),
        encoding="utf-8",
    )
    result = roster_process("plan", path, "--format", "json", base=base)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert [c["kind"] for c in plan["changes"]] == ["update_role"]
    [manual] = [m for m in plan["manual"] if m["workspace"] == "Twins"]
    assert "all but one of the 2 active workspaces named 'Twins'" in manual["note"]


def roster_process(*args: object, base: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANTHROPIC_ADMIN_KEY": KEY.reveal(), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "roster", *map(str, args), "--api-url", base],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_two_apply_processes_at_once_converge(served: tuple[str, Store], tmp_path: Path) -> None:
    base, store = served
    desired = desired_state()
    path = tmp_path / "roster.yaml"
    path.write_text(yaml.safe_dump(file_data(desired)), encoding="utf-8")
    env = {**os.environ, "ANTHROPIC_ADMIN_KEY": KEY.reveal(), "NO_COLOR": "1"}
    command = [sys.executable, "-m", "roster", "apply", "--yes", str(path), "--api-url", base]
    runs = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr
        assert "FAILED" not in stderr
        # The later run may plan after the first one applied: then it has nothing left to do.
        assert stdout.splitlines()[-1].startswith(("Apply complete:", "Nothing to apply."))
    again = roster_process("plan", path, "--detailed-exitcode", base=base)
    assert again.returncode == 0, again.stdout
    assert_organization_whole(store, desired)


def file_data(desired: Desired) -> dict[str, Any]:
    policy = desired.policy
    return {
        "policy": {
            "unmanaged": policy.unmanaged,
            "max_removals": int(policy.max_removals.amount),
            "api_keys_of_removed_members": policy.api_keys_of_removed_members,
        },
        "members": dict(desired.members),
        "workspaces": {
            name: {"members": dict(space.members)} for name, space in desired.workspaces.items()
        },
    }


def test_a_twin_that_cannot_be_checked_is_reported_not_hidden(served: tuple[str, Store]) -> None:
    base, store = served
    desired = Desired(
        {"admin@example.com": "admin", "boss@example.io": "admin", "p0@example.io": "user"},
        workspaces={"new-a": DesiredWorkspace("new-a", {"p0@example.io": "workspace_user"})},
    )
    # The check for an empty twin lists the workspace's keys: let that fail, every attempt.
    fault = {"kind": "500", "method": "GET", "path": "/v1/organizations/api_keys"}

    async def race() -> list[ApplyReport]:
        clients = [client_for(base) for _ in range(2)]
        plans = await asyncio.gather(*(planned(c, desired) for c in clients))
        async with httpx.AsyncClient() as control:
            queued = await control.post(f"{base}/_emulator/faults", json={"faults": [fault] * 20})
            queued.raise_for_status()
        return await asyncio.gather(
            *(apply_plan(p, c, current=s) for c, (s, p) in zip(clients, plans, strict=True))
        )

    reports = asyncio.run(race())
    creates = [
        r for report in reports for r in report.results if r.change.kind == "create_workspace"
    ]
    twins = [
        w for w in store.to_json()["workspaces"] if w["name"] == "new-a" and not w["archived_at"]
    ]
    assert len(twins) == 2  # the race happened, and the empty twin could not be archived
    unknown = [r for r in creates if r.outcome == "unknown"]
    assert unknown, [(r.outcome, r.note) for r in creates]
    assert "archive the empty one" in unknown[0].note
    assert not all(report.ok for report in reports)
