"""Time and memory of each stage of `roster plan` on seeded organizations of growing size.

For each size the organization is seeded with ``generate``, exported with ``render_roster_file``,
and the export edited to about 1 % changes (role changes, new invites, removals under
``policy: {unmanaged: remove}``). Then each stage runs on its own: ``load_config``,
``fetch_state`` (in process, and over real HTTP), ``compute_plan`` and ``render_text``.
Every size runs in a fresh child process so that its peak RSS is its own.

    python benchmarks/bench_plan.py [--users N ...] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette

from roster.api import AdminClient, make_http_client
from roster.config import load_config
from roster.credentials import Secret
from roster.desired import Desired
from roster.emulator.app import create_app
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.emulator.transport import InProcessTransport
from roster.export import render_roster_file
from roster.model import Current
from roster.plan import Plan, compute_plan
from roster.render import render_text
from roster.state import fetch_state

DEFAULT_SIZES = (1_000, 10_000, 50_000)
QUICK_SIZES = (1_000,)
TRACE_MAX = 10_000
SEED = 1
CHANGE_FRACTION = 0.01
KEY = Secret("sk-ant-admin01-benchmark-0000")
IN_PROCESS_URL = "https://api.anthropic.com"
NEXT_ROLE = {"user": "developer", "developer": "claude_code_user", "claude_code_user": "user"}
MEMBER_LINE = re.compile(r"^  (?P<email>[^\s#:]+): (?P<role>\w+)$")
WORKSPACE_MEMBER_LINE = re.compile(r"^      (?P<email>[^\s#:]+): \w+$")
POLICY = ("policy:", "  unmanaged: remove", '  max_removals: "100%"', "")
MB = 1024 * 1024

T = TypeVar("T")


@dataclass
class Stage:
    """One stage's numbers; the memory ones come from forked re-runs, after the timed pass."""

    name: str
    seconds: float
    maxrss_mb: float
    requests: int | None = None
    rss_growth_mb: float | None = None
    peak_mb: float | None = None


@dataclass
class SizeResult:
    users: int
    changes: dict[str, int]
    stages: list[Stage] = field(default_factory=list)
    routes: dict[str, int] = field(default_factory=dict)


# --- the desired file: the export, edited ---------------------------------------------------------


def edit_export(text: str, users: int, rng: random.Random) -> tuple[str, dict[str, int]]:
    """The exported file with ~1 % changes, and how many of each kind were made."""
    lines = text.splitlines()
    in_workspaces = {m["email"] for line in lines if (m := WORKSPACE_MEMBER_LINE.match(line))}
    candidates = [
        index
        for index, line in enumerate(lines)
        if (m := MEMBER_LINE.match(line))
        and m["role"] in NEXT_ROLE
        and m["email"] not in in_workspaces
    ]
    each = max(1, round(users * CHANGE_FRACTION / 3))
    picked = rng.sample(candidates, 2 * each)
    for index in picked[:each]:
        match = MEMBER_LINE.match(lines[index])
        assert match is not None
        lines[index] = f"  {match['email']}: {NEXT_ROLE[match['role']]}"
    removed = set(picked[each:])
    kept = [line for index, line in enumerate(lines) if index not in removed]
    domain = lines[candidates[0]].split("@")[1].split(":")[0]
    invites = [f"  bench.invitee.{n:05d}@{domain}: user" for n in range(each)]
    members = kept.index("members:")
    edited = [
        *kept[:members],
        *POLICY,
        *kept[members : members + 1],
        *invites,
        *kept[members + 1 :],
    ]
    changes = {"role changes": each, "invites": each, "removals": each}
    return "\n".join(edited) + "\n", changes


def write_files(folder: Path, text: str) -> None:
    """Members and workspaces in two files, as teams split them; roster merges the directory."""
    members, _, workspaces = text.partition("\nworkspaces:\n")
    (folder / "members.yaml").write_text(members + "\n", encoding="utf-8")
    (folder / "workspaces.yaml").write_text("workspaces:\n" + workspaces, encoding="utf-8")


# --- talking to the emulator ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the emulator answers: in process through ``transport``, or at an HTTP base URL."""

    base_url: str
    transport: httpx.AsyncBaseTransport | None = None

    def fetch(self, workspaces: Collection[str] | None) -> Current:
        # asyncio.run reprs its coroutine's result twice on the way out (Python 3.11, through
        # signal.getsignal), 0.6 s for a 50,000-member Current: so the result comes back aside.
        found: list[Current] = []
        asyncio.run(self._fetch(workspaces, found))
        return found[0]

    def control(self, method: str, path: str) -> Any:
        return asyncio.run(self._control(method, path))

    async def _fetch(self, workspaces: Collection[str] | None, found: list[Current]) -> None:
        async with make_http_client(self.base_url, KEY, transport=self.transport) as http:
            found.append(await fetch_state(AdminClient(http), workspace_members_of=workspaces))

    async def _control(self, method: str, path: str) -> Any:
        async with httpx.AsyncClient(base_url=self.base_url, transport=self.transport) as http:
            response = await http.request(method, f"/_emulator/{path}")
            response.raise_for_status()
            return response.json() if response.content else None


# --- measuring ------------------------------------------------------------------------------------


def maxrss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / MB


def seconds_of(function: Callable[[], object]) -> float:
    gc.collect()
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def traced_peak(function: Callable[[], object]) -> float:
    """Peak memory Python allocated while ``function`` ran, in MB (tracemalloc; slow)."""
    gc.collect()
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / MB


def rss_growth(function: Callable[[], object]) -> float:
    """How far ``function`` raises the resident set above where it started, in MB.

    Meant for a forked child, whose ``ru_maxrss`` starts at its RSS at the fork.
    """
    gc.collect()
    before = rss_mb()
    function()
    return max(0.0, maxrss_mb() - before)


def in_fork(function: Callable[[], float]) -> float:
    """``function()`` run in a forked child, so that the memory it measures is its own."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            os.write(write, repr(function()).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    return float(answer)


class Pipeline:
    """One seeded organization, its edited roster files, and each stage as a method."""

    def __init__(self, app: Starlette, path: Path) -> None:
        self.app = app
        self.path = path
        self.in_process = Endpoint(IN_PROCESS_URL, InProcessTransport(app))
        self.http = Endpoint("")
        self.desired: Desired | None = None
        self.current: Current | None = None
        self.plan: Plan | None = None

    def load(self) -> None:
        self.desired = load_config([self.path])

    def fetch_in_process(self) -> None:
        self.current = self.in_process.fetch(self._workspaces())

    def fetch_over_http(self) -> None:
        self.http.fetch(self._workspaces())

    def compute(self) -> None:
        assert self.desired is not None
        assert self.current is not None
        self.plan = compute_plan(self.desired, self.current)

    def render(self) -> None:
        assert self.plan is not None
        render_text(self.plan, color=False)

    def stages(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("load_config", self.load),
            ("fetch_state (in process)", self.fetch_in_process),
            ("fetch_state (HTTP)", self.fetch_over_http),
            ("compute_plan", self.compute),
            ("render_text", self.render),
        ]

    def endpoint_of(self, stage: Callable[[], None]) -> Endpoint | None:
        """The emulator the stage sends requests to, if any (HTTP: once ``run`` serves it)."""
        if stage == self.fetch_in_process:
            return self.in_process
        return self.http if stage == self.fetch_over_http else None

    def run(self, stage: Callable[[], None], how: Callable[[Callable[[], None]], T]) -> T:
        """``how(stage)``, with the HTTP server up if the stage needs it (outside the measure)."""
        if stage != self.fetch_over_http:
            return how(stage)
        # The server runs only for this stage, so no thread is alive when stages are forked.
        with running_server(self.app) as base_url:
            self.http = Endpoint(base_url)
            return how(stage)

    def counted(self, stage: Callable[[], None]) -> tuple[float, dict[str, Any]]:
        """The stage's seconds, and the emulator's request counters for it alone."""
        endpoint = self.endpoint_of(stage)
        if endpoint is None:
            return seconds_of(stage), {}
        endpoint.control("DELETE", "requests")
        seconds = seconds_of(stage)
        return seconds, endpoint.control("GET", "requests")["counters"]

    def _workspaces(self) -> Collection[str]:
        assert self.desired is not None
        return self.desired.workspaces.keys()


def run_size(users: int, trace: bool) -> SizeResult:
    """Every stage for one size: timed in turn, then each again in a fork for its memory."""
    started = time.perf_counter()
    app = create_app(generate(users, SEED))
    seed_row = Stage("(setup) seed the emulator", time.perf_counter() - started, maxrss_mb())
    current = Endpoint(IN_PROCESS_URL, InProcessTransport(app)).fetch(None)
    started = time.perf_counter()
    text = render_roster_file(current)
    export_row = Stage("(setup) render_roster_file", time.perf_counter() - started, maxrss_mb())
    del current
    edited, changes = edit_export(text, users, random.Random(SEED))
    with tempfile.TemporaryDirectory() as folder:
        write_files(Path(folder), edited)
        pipeline = Pipeline(app, Path(folder))
        result = SizeResult(users, changes, [seed_row, export_row])
        result.stages += measure(pipeline, trace, result.routes)
    assert pipeline.plan is not None
    result.changes["planned API changes"] = len(pipeline.plan.api_changes)
    return result


def measure(pipeline: Pipeline, trace: bool, routes: dict[str, int]) -> list[Stage]:
    rows = []
    for name, stage in pipeline.stages():
        seconds, counters = pipeline.run(stage, pipeline.counted)
        rows.append(Stage(name, seconds, maxrss_mb(), counters.get("total")))
        if stage == pipeline.fetch_in_process:
            routes.update(counters["by_route"])
    for row, (_, stage) in zip(rows, pipeline.stages(), strict=True):
        row.rss_growth_mb = in_fork(functools.partial(pipeline.run, stage, rss_growth))
        if trace:
            row.peak_mb = in_fork(functools.partial(pipeline.run, stage, traced_peak))
    return rows


# --- the parent: one child process per size, one table --------------------------------------------


def run_child(users: int, trace: bool) -> SizeResult:
    command = [sys.executable, __file__, "--child", "--users", str(users)]
    command += ["--trace-max", str(users if trace else 0)]
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    data = json.loads(output)
    data["stages"] = [Stage(**row) for row in data["stages"]]
    return SizeResult(**data)


def number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_results(results: list[SizeResult]) -> None:
    header = (
        f"{'users':>7}  {'stage':<27} {'seconds':>8} {'requests':>8}"
        f" {'RSS +MB':>8} {'traced MB':>9} {'maxrss MB':>9}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        for stage in result.stages:
            print(
                f"{result.users:>7,}  {stage.name:<27} {stage.seconds:>8.3f}"
                f" {number(stage.requests, 0):>8} {number(stage.rss_growth_mb, 1):>8}"
                f" {number(stage.peak_mb, 1):>9} {stage.maxrss_mb:>9.0f}"
            )
        print()
    print("Changes made to the exported file, and the plan's API changes:")
    for result in results:
        listed = ", ".join(f"{count} {kind}" for kind, count in result.changes.items())
        print(f"  {result.users:>7,} users: {listed}")
    print("\nRequests of one fetch_state (members of every workspace the files list):")
    for result in results:
        routes = ", ".join(f"{route} x{count}" for route, count in result.routes.items())
        print(f"  {result.users:>7,} users: {routes}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--users", type=int, nargs="+", help=f"organization sizes (default {DEFAULT_SIZES})"
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run: sizes {QUICK_SIZES}")
    parser.add_argument(
        "--trace-max",
        type=int,
        default=TRACE_MAX,
        help="measure tracemalloc peaks up to this size (slow: ~4x the stage's time)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sizes = args.users or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if args.child:
        print(json.dumps(asdict(run_size(sizes[0], trace=sizes[0] <= args.trace_max))))
        return
    print(
        f"bench_plan: seed {SEED}, ~{CHANGE_FRACTION:.0%} changes, Python {sys.version.split()[0]}"
    )
    print("seconds: one run. RSS +MB: how far the stage, run alone in a fork, raised the RSS.")
    print(f"traced MB: tracemalloc peak (sizes <= {args.trace_max:,}). maxrss: process high-water.")
    print("Memory includes the emulator's, which runs in the same process.\n")
    print_results([run_child(users, users <= args.trace_max) for users in sizes])


if __name__ == "__main__":
    main()
