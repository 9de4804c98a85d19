"""Whether what apply reports is true, under faults, races and kill -9, against the emulator.

1. Faults: a plan of every kind of change, applied while 10, 25 and 50 % of requests fail
   (500, 503, 529, a connection dropped before or after the server acted). Each reported
   outcome is checked against the emulator's state: a change reported failed must not have been
   made, one reported made must be there. Then a second apply, without faults, must converge.
2. Races: two applies of one plan at once, over HTTP, both planning before either applies, so
   every change is raced. Both must report no failure, and the organization must be left with
   no duplicate invite nor workspace, and a next plan with nothing to do.
3. kill -9: `roster apply --yes` killed at a random moment, then run again: the organization
   must converge with no duplicate invite nor workspace.

    python benchmarks/bench_trust.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from roster.api import AdminClient, make_http_client
from roster.api.http import Requester, RetryPolicy
from roster.apply import ApplyReport, apply_plan
from roster.credentials import Secret
from roster.desired import Desired, DesiredWorkspace, Policy, RemovalLimit
from roster.emulator.app import create_app
from roster.emulator.oracle import made, pending_invites_per_email
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.emulator.store import Store
from roster.model import Current
from roster.plan import Plan, compute_plan
from roster.state import fetch_state

KEY = Secret("sk-ant-admin01-benchmark-0000")
NEXT_ROLE = {"user": "developer", "developer": "claude_code_user", "claude_code_user": "user"}
EVERY_FAULT = ["500", "503", "529", "drop_before", "drop_after"]
# roster's own retry budget, and one so tight that faults end many changes: the reports of
# those, read back or not, are what is measured.
BUDGETS = {"default": RetryPolicy(), "1 retry": RetryPolicy(max_attempts=2, max_refusals=2)}
NEW_WORKSPACES = ("bench-new-a", "bench-new-b")
KILL_LATENCY_MS = 40


@dataclass(frozen=True, slots=True)
class Settings:
    users: int
    changes: int
    fault_rates: tuple[float, ...]
    fault_seeds: int
    races: int
    kills: int


FULL = Settings(
    users=400, changes=400, fault_rates=(0.1, 0.25, 0.5), fault_seeds=3, races=20, kills=30
)
QUICK = Settings(users=120, changes=80, fault_rates=(0.5,), fault_seeds=1, races=2, kills=2)


# --- the organization and the plan ---------------------------------------------------------------


def desired_of(current: Current, changes: int) -> Desired:
    """About ``changes`` changes of every kind: role changes, invites, removals (and their
    keys), invites deleted, two new workspaces with members; everyone else stays as they are."""
    settable = [m for m in current.members if m.role in NEXT_ROLE]
    share = max(changes // 5, 2)
    moved, removed = settable[:share], settable[share : 2 * share]
    gone = {m.email for m in removed}
    members = {
        m.email: "admin" if m.role in {"owner", "primary_owner"} else m.role
        for m in current.members
    }
    members = {e: r for e, r in members.items() if e not in gone}
    members |= {m.email: NEXT_ROLE[m.role] for m in moved}
    domain = current.members[0].email.split("@")[1]
    members |= {f"bench.{n:04d}@{domain}": "user" for n in range(share)}
    plain = [m.email for m in moved if NEXT_ROLE[m.role] != "billing"]
    workspaces = {
        name: DesiredWorkspace(name, dict.fromkeys(plain[i::2][: share // 2], "workspace_user"))
        for i, name in enumerate(NEW_WORKSPACES)
    }
    policy = Policy(
        unmanaged="remove",
        max_removals=RemovalLimit(100, percent=True),
        api_keys_of_removed_members="deactivate",
        workspace_members="ignore",
    )
    return Desired(members, policy, workspaces=workspaces)


def client_for(base: str, *, seed: int = 0, retry: RetryPolicy | None = None) -> AdminClient:
    http = make_http_client(base, KEY)

    async def short(_: float) -> None:
        await asyncio.sleep(0)  # retries back off in no time: this measures truth, not speed

    policy = retry or RetryPolicy()
    requester = Requester(http, retry=policy, rng=random.Random(seed), sleep=short)
    return AdminClient(http, requester=requester)


async def planned(client: AdminClient, desired: Desired) -> tuple[Current, Plan]:
    current = await fetch_state(client, workspace_members_of=desired.workspaces.keys())
    return current, compute_plan(desired, current)


def duplicate_workspaces(store: Store) -> int:
    names = Counter(w["name"] for w in store.to_json()["workspaces"] if w["archived_at"] is None)
    return sum(count - 1 for count in names.values() if count > 1)


def duplicate_invites(store: Store) -> int:
    return sum(count - 1 for count in pending_invites_per_email(store).values() if count > 1)


def left_to_do(base: str, desired: Desired) -> int:
    return len(asyncio.run(planned(client_for(base), desired))[1].api_changes)


# --- 1. faults ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tally:
    changes: int = 0
    outcomes: Counter[str] | None = None
    failed_but_made: int = 0
    made_but_missing: int = 0
    duplicates: int = 0
    not_converged: int = 0

    def add(self, report: ApplyReport, store: Store) -> Tally:
        outcomes = Counter(self.outcomes or {})
        outcomes.update(r.outcome for r in report.results)
        wrong = [(r, made(store, r.change)) for r in report.results if r.outcome != "unknown"]
        return Tally(
            self.changes + len(report.results),
            outcomes,
            self.failed_but_made + sum(1 for r, there in wrong if there and not r.ok),
            self.made_but_missing + sum(1 for r, there in wrong if r.ok and not there),
            self.duplicates + duplicate_invites(store) + duplicate_workspaces(store),
            self.not_converged,
        )


def faults(settings: Settings) -> None:
    seeds = settings.fault_seeds
    print(f"1. Faults: every kind of change, kinds {', '.join(EVERY_FAULT)}, seeds 1-{seeds}")
    print(
        f"{'retries':>8} {'rate':>5} {'changes':>7} {'done':>5} {'already':>7} {'failed':>6}"
        f" {'unknown':>7} {'failed but made':>15} {'made but missing':>16} {'duplicates':>10}"
        f" {'converged':>9}"
    )
    for (budget, retry), rate in itertools.product(BUDGETS.items(), settings.fault_rates):
        tally = Tally()
        for seed in range(1, seeds + 1):
            tally = one_faulty_apply(settings, rate, seed, tally, retry)
        seen = tally.outcomes or Counter()
        failed = seen["failed"] + seen["skipped"]
        reported_made = seen["done"] + seen["already_done"]
        wrong_failed = f"{tally.failed_but_made} of {failed}"
        wrong_made = f"{tally.made_but_missing} of {reported_made}"
        converged = f"{seeds - tally.not_converged} of {seeds}"
        print(
            f"{budget:>8} {rate:>5.0%} {tally.changes:>7} {seen['done']:>5}"
            f" {seen['already_done']:>7}"
            f" {failed:>6} {seen['unknown']:>7} {wrong_failed:>15} {wrong_made:>16}"
            f" {tally.duplicates:>10} {converged:>9}"
        )


def one_faulty_apply(
    settings: Settings, rate: float, seed: int, tally: Tally, retry: RetryPolicy
) -> Tally:
    """Apply under faults and check every reported outcome; then apply again, and check that."""
    store = generate(settings.users, seed)
    app = create_app(store)
    with running_server(app) as base:
        current, _ = asyncio.run(planned(client_for(base), Desired({})))
        desired = desired_of(current, settings.changes)
        current, plan = asyncio.run(planned(client_for(base), desired))
        app.state.control.configure(
            {"fault_rate": rate, "fault_seed": seed, "fault_kinds": EVERY_FAULT}
        )
        faulty = client_for(base, seed=seed, retry=retry)
        report = asyncio.run(apply_plan(plan, faulty, current=current))
        app.state.control.configure({"fault_rate": 0})
        checked = tally.add(report, store)
        current, again = asyncio.run(planned(client_for(base), desired))
        asyncio.run(apply_plan(again, client_for(base), current=current))
        left = left_to_do(base, desired)
    return replace(checked, not_converged=checked.not_converged + (left > 0))


# --- 2. races -------------------------------------------------------------------------------------


def races(settings: Settings) -> None:
    print(f"\n2. Races: {settings.races} rounds of two applies of one plan at once, over HTTP")
    converged = failures = duplicates = already = changes = 0
    for round_number in range(1, settings.races + 1):
        store = generate(settings.users, 100 + round_number)
        app = create_app(store)
        app.state.control.configure({"latency_ms": 2})
        with running_server(app) as base:
            current, _ = asyncio.run(planned(client_for(base), Desired({})))
            desired = desired_of(current, settings.changes)
            reports = asyncio.run(two_at_once(base, desired))
            left = left_to_do(base, desired)
        changes += len(reports[0].results)
        failures += sum(len(r.failed) + len(r.unknown) for r in reports)
        already += sum(len(r.already_done) for r in reports)
        duplicates += duplicate_invites(store) + duplicate_workspaces(store)
        converged += left == 0
    print(f"  rounds converged         {converged} of {settings.races}")
    print(
        f"  changes per plan         {changes // max(settings.races, 1)} (each raced by both runs)"
    )
    print(f"  reported already done    {already} (the other run's work, not failures)")
    print(f"  reported failed/unknown  {failures}")
    print(f"  duplicates left          {duplicates} (pending invites and active workspaces)")


async def two_at_once(base: str, desired: Desired) -> list[ApplyReport]:
    clients = [client_for(base, seed=n) for n in (1, 2)]
    plans = await asyncio.gather(*(planned(c, desired) for c in clients))
    return list(
        await asyncio.gather(
            *(apply_plan(p, c, current=s) for c, (s, p) in zip(clients, plans, strict=True))
        )
    )


# --- 3. kill -9 -----------------------------------------------------------------------------------


def kills(settings: Settings) -> None:
    print(
        f"\n3. kill -9: {settings.kills} runs of roster apply killed at a random moment, then rerun"
    )
    rng = random.Random(9)
    converged = duplicates = killed = 0
    # Start-up and planning take about a second; the changes about as long again at 40 ms.
    window = 1.0 + settings.changes / 8 * KILL_LATENCY_MS / 1000 * 2
    with tempfile.TemporaryDirectory() as folder:
        for run in range(settings.kills):
            outcome = one_killed_apply(settings, Path(folder), run, rng.uniform(0.5, window))
            killed += outcome[0]
            converged += outcome[1]
            duplicates += outcome[2]
    print(f"  killed while applying    {killed} of {settings.kills}")
    print(f"  converged after a rerun  {converged} of {settings.kills}")
    print(f"  duplicates left          {duplicates} (pending invites and active workspaces)")


def one_killed_apply(
    settings: Settings, folder: Path, run: int, after: float
) -> tuple[bool, bool, int]:
    store = generate(settings.users, 200 + run)
    app = create_app(store)
    app.state.control.configure({"latency_ms": KILL_LATENCY_MS})
    with running_server(app) as base:
        current, _ = asyncio.run(planned(client_for(base), Desired({})))
        desired = desired_of(current, settings.changes)
        path = folder / f"roster-{run}.yaml"
        path.write_text(yaml.safe_dump(file_data(desired)), encoding="utf-8")
        command = [sys.executable, "-m", "roster", "apply", "--yes", str(path), "--api-url", base]
        env = {**os.environ, "ANTHROPIC_ADMIN_KEY": KEY.reveal()}
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(after)
        killed = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
        subprocess.run(command, env=env, capture_output=True, check=False, timeout=600)
        left = left_to_do(base, desired)
    return killed, left == 0, duplicate_invites(store) + duplicate_workspaces(store)


def file_data(desired: Desired) -> dict[str, Any]:
    policy = desired.policy
    return {
        "policy": {
            "unmanaged": policy.unmanaged,
            "max_removals": str(policy.max_removals),
            "api_keys_of_removed_members": policy.api_keys_of_removed_members,
            "workspace_members": policy.workspace_members,
        },
        "members": dict(desired.members),
        "workspaces": {
            name: {"members": dict(space.members)} for name, space in desired.workspaces.items()
        },
    }


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    return QUICK if parser.parse_args(argv).quick else FULL


def main() -> None:
    settings = parse_args()
    print(
        f"bench_trust: seeded organizations of {settings.users} members, plans of about"
        f" {settings.changes} changes of every kind; Python {sys.version.split()[0]}\n"
    )
    faults(settings)
    races(settings)
    kills(settings)


if __name__ == "__main__":
    main()
