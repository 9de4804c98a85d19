"""`apply_plan` against the emulator over real HTTP: concurrency, rate limits and faults.

Each run seeds a fresh organization, plans N changes (half new invites, half role changes),
configures the emulator (latency, rate limit, faults), applies, then reads the emulator's request
log and checks convergence: a second plan has no API changes, and nobody has two pending invites.

Rate limits are the emulator's real-server kind (a per-second window, 429 with a whole-second
retry-after and no retry-after-ms), met with roster's default flags; each is printed as the
ratio of its wall time to the bound (changes / limit), the median of three runs.

    python benchmarks/bench_apply.py [--users N] [--changes N ...] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from roster.api import AdminClient, make_http_client
from roster.apply import ApplyReport, apply_plan
from roster.credentials import Secret
from roster.desired import Desired, Policy
from roster.emulator.app import create_app
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.model import Current
from roster.plan import Plan, compute_plan
from roster.state import fetch_state

KEY = Secret("sk-ant-admin01-benchmark-0000")
SEED = 1
NEXT_ROLE = {"user": "developer", "developer": "claude_code_user", "claude_code_user": "user"}
NO_TROUBLE = {"latency_ms": 0, "rate_limit_rps": None, "fault_rate": 0}
FAULTS = {"fault_rate": 0.05, "fault_kinds": ["500", "529", "drop_before", "drop_after"]}
LIMITS = (20, 50, 100)
FAULTS_IN_LIMITS = 0.10
RUNS = 3


@dataclass(frozen=True, slots=True)
class Settings:
    users: int
    changes: tuple[int, ...]
    concurrency: tuple[int, ...]
    latency_ms: float
    limited_changes: int
    fault_changes: int
    max_serial_seconds: float
    runs: int = RUNS


DEFAULTS = Settings(
    users=2_000,
    changes=(200, 1_000),
    concurrency=(1, 4, 8, 16),
    latency_ms=50,
    limited_changes=1_000,
    fault_changes=1_000,
    max_serial_seconds=30,
)
QUICK = Settings(
    users=500,
    changes=(40,),
    concurrency=(1, 8),
    latency_ms=50,
    limited_changes=100,
    fault_changes=100,
    max_serial_seconds=5,
    runs=1,
)


@dataclass(frozen=True, slots=True)
class Run:
    """What one apply did, as the client and the emulator's request log saw it."""

    changes: int
    seconds: float
    report: ApplyReport
    counters: dict[str, Any]
    left: int
    duplicates: int

    @property
    def per_second(self) -> float:
        return self.changes / self.seconds

    @property
    def check(self) -> str:
        failed = len(self.report.failed)
        ok = self.left == 0 and self.duplicates == 0
        return f"{'ok' if ok else 'NOT CONVERGED'}: {self.left} left, {failed} failed"


# --- the organization and the plan ---------------------------------------------------------------


def desired_with_changes(current: Current, changes: int) -> Desired:
    """Role changes for half of ``changes`` members and invites for the other half.

    ``unmanaged: ignore`` leaves everyone else out of the plan.
    """
    movable = [m for m in current.members if m.role in NEXT_ROLE][: changes // 2]
    domain = current.members[0].email.split("@")[1]
    members = {m.email: NEXT_ROLE[m.role] for m in movable}
    invites = changes - len(movable)
    members |= {f"bench.invitee.{n:05d}@{domain}": "user" for n in range(invites)}
    return Desired(members=members, policy=Policy(unmanaged="ignore"))


async def plan_for(base_url: str, desired: Desired) -> tuple[Plan, Current]:
    async with make_http_client(base_url, KEY) as http:
        current = await fetch_state(AdminClient(http), workspace_members_of=())
    return compute_plan(desired, current), current


async def pending_duplicates(base_url: str) -> int:
    async with make_http_client(base_url, KEY) as http:
        pending = await AdminClient(http).list_invites(statuses=["pending"])
    per_email = Counter(str(invite["email"]).lower() for invite in pending)
    return sum(count - 1 for count in per_email.values() if count > 1)


async def timed_apply(
    base_url: str, plan: Plan, concurrency: int, max_rps: float | None
) -> tuple[ApplyReport, float]:
    async with make_http_client(base_url, KEY) as http:
        client = AdminClient(http, max_concurrency=concurrency, max_rps=max_rps)
        started = time.perf_counter()
        report = await apply_plan(plan, client)
        return report, time.perf_counter() - started


def control(base_url: str, method: str, path: str, body: Any = None) -> Any:
    with httpx.Client(base_url=base_url) as http:
        response = http.request(method, f"/_emulator/{path}", json=body)
        response.raise_for_status()
        return response.json() if response.content else None


def run_once(
    users: int,
    changes: int,
    config: dict[str, Any],
    concurrency: int = 8,
    max_rps: float | None = None,
) -> Run:
    """Seed, plan, configure the emulator, apply, and check what came of it."""
    app = create_app(generate(users, SEED))
    with running_server(app) as base_url:
        initial = asyncio.run(plan_for(base_url, Desired(members={})))[1]
        desired = desired_with_changes(initial, changes)
        plan = asyncio.run(plan_for(base_url, desired))[0]
        assert len(plan.api_changes) == changes, len(plan.api_changes)
        control(base_url, "POST", "config", config)
        control(base_url, "DELETE", "requests")
        report, seconds = asyncio.run(timed_apply(base_url, plan, concurrency, max_rps))
        counters = control(base_url, "GET", "requests")["counters"]
        control(base_url, "POST", "config", NO_TROUBLE)
        again = asyncio.run(plan_for(base_url, desired))[0]
        duplicates = asyncio.run(pending_duplicates(base_url))
    return Run(changes, seconds, report, counters, len(again.api_changes), duplicates)


# --- the three experiments ------------------------------------------------------------------------


def concurrency_sweep(settings: Settings) -> None:
    latency = settings.latency_ms
    print(f"1. Latency {latency:g} ms per request, no rate limit, no faults")
    print(f"{'changes':>7} {'conc.':>5} {'seconds':>8} {'requests':>8} {'changes/s':>9}  check")
    for changes in settings.changes:
        for concurrency in settings.concurrency:
            serial = changes * latency / 1000 / concurrency
            if serial > settings.max_serial_seconds:
                print(f"{changes:>7} {concurrency:>5}  skipped: at least {serial:.0f} s")
                continue
            run = run_once(settings.users, changes, {"latency_ms": latency}, concurrency)
            print(
                f"{changes:>7} {concurrency:>5} {run.seconds:>8.2f} {run.counters['total']:>8}"
                f" {run.per_second:>9.1f}  {run.check}"
            )


def rate_limited(settings: Settings) -> None:
    changes, latency = settings.limited_changes, settings.latency_ms
    print(
        f"\n2. Real-server rate limits, {changes} changes, {latency:g} ms latency, default flags"
        f" (median of {settings.runs}); with {FAULTS_IN_LIMITS:.0%} faults, one run each"
    )
    print(
        f"{'limit':>6} {'faults':>6} {'seconds':>8} {'bound':>6} {'wall/bound':>10}"
        f" {'requests':>8} {'429s':>5} {'refused':>8}  check"
    )
    for limit in LIMITS:
        config = {"latency_ms": latency, "rate_limit_per_second": limit}
        runs = [run_once(settings.users, changes, config) for _ in range(settings.runs)]
        limited_row(limit, "-", sorted(runs, key=lambda r: r.seconds)[len(runs) // 2])
        faulty = {**config, **FAULTS, "fault_rate": FAULTS_IN_LIMITS, "fault_seed": 1}
        limited_row(limit, f"{FAULTS_IN_LIMITS:.0%}", run_once(settings.users, changes, faulty))


def limited_row(limit: int, faults: str, run: Run) -> None:
    bound = run.changes / limit
    refusals = run.counters["by_status"].get("429", 0)
    share = refusals / run.counters["total"]
    print(
        f"{limit:>6} {faults:>6} {run.seconds:>8.2f} {bound:>6.1f} {run.seconds / bound:>10.2f}"
        f" {run.counters['total']:>8} {refusals:>5} {share:>8.1%}  {run.check}"
    )


def with_faults(settings: Settings) -> None:
    changes = settings.fault_changes
    kinds = ", ".join(FAULTS["fault_kinds"])  # type: ignore[arg-type]
    print(f"\n3. Faults: rate {FAULTS['fault_rate']}, kinds {kinds}, seed 1; {changes} changes")
    run = run_once(settings.users, changes, {**FAULTS, "fault_seed": 1})
    counters = run.counters
    injected = ", ".join(f"{kind} x{count}" for kind, count in counters["faults"].items())
    by_status = ", ".join(f"{status} x{count}" for status, count in counters["by_status"].items())
    lookups = counters["by_route"].get("GET /v1/organizations/invites", 0)
    print(f"  seconds            {run.seconds:.2f} ({run.per_second:.1f} changes/s)")
    print(f"  requests           {counters['total']} for {changes} changes")
    print(f"  extra requests     {counters['total'] - changes} (retries and invite look-ups)")
    print(f"  invite look-ups    {lookups} (GET /invites after a lost POST)")
    print(f"  faults injected    {injected or 'none'}")
    print(f"  responses          {by_status}")
    print(f"  failed changes     {len(run.report.failed)}")
    for result in run.report.failed[:5]:
        print(f"    {result.change.kind} {result.change.email}: {result.error}")
    print(f"  duplicate invites  {run.duplicates} (emails with more than one pending invite)")
    print(f"  check              {run.check}")


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--users", type=int, help="members of the seeded organization")
    parser.add_argument("--changes", type=int, nargs="+", help="plan sizes for the sweep")
    parser.add_argument("--concurrency", type=int, nargs="+", help="max_concurrency values")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    changes = tuple(args.changes or base.changes)
    return Settings(
        users=args.users or max(base.users, *changes),
        changes=changes,
        concurrency=tuple(args.concurrency or base.concurrency),
        latency_ms=base.latency_ms,
        limited_changes=base.limited_changes,
        fault_changes=base.fault_changes,
        max_serial_seconds=base.max_serial_seconds,
        runs=base.runs,
    )


def main() -> None:
    settings = parse_args()
    print(
        f"bench_apply: {settings.users:,}-member organization (seed {SEED}), changes are half"
        f" invites, half role changes; Python {sys.version.split()[0]}\n"
    )
    concurrency_sweep(settings)
    rate_limited(settings)
    with_faults(settings)


if __name__ == "__main__":
    main()
