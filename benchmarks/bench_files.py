"""Large roster files: loading against the YAML parser, planning's growth, and peak memory.

An organization of 100,000 members is seeded and served by `roster emulator serve` in a process
of its own; its export, cut to 20 workspaces of 500 members, is the roster file. Printed, each
beside the figure it is held to, all measured in this run:

1. `roster validate FILE` against a bare interpreter loading the same file with PyYAML's
   CSafeLoader, in fresh processes (the median of 3), and `load_config` against `yaml.load`
   in this process;
2. the peak RSS of `roster plan FILE` against the served organization;
3. `compute_plan` at 10,000 and 100,000 members, and how a plain dict join over the same members
   grows between the two sizes (the cost of a lookup in a large dict on this machine).

    python benchmarks/bench_files.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from roster.api import AdminClient, make_http_client
from roster.config import load_config
from roster.credentials import Secret
from roster.emulator.app import create_app
from roster.emulator.seed import generate
from roster.emulator.transport import InProcessTransport
from roster.export import render_roster_file
from roster.model import Current
from roster.plan import compute_plan
from roster.state import fetch_state

KEY = Secret("sk-ant-admin01-benchmark-0000")
ROSTER = Path(sys.executable).with_name("roster")
SEED = 1


def seconds(function: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(command: Sequence[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(command, check=True, capture_output=True, env=env)


def current_of(users: int) -> Current:
    app = create_app(generate(users, SEED))

    async def fetch() -> Current:
        transport = InProcessTransport(app)
        async with make_http_client("https://api.anthropic.com", KEY, transport=transport) as http:
            return await fetch_state(AdminClient(http), workspace_members_of=None)

    return asyncio.run(fetch())


def cut_file(text: str, path: Path, workspaces: int = 20, members: int = 500) -> None:
    """The export with its first ``workspaces`` workspaces of at most ``members`` members."""
    data = yaml.load(text, Loader=yaml.CSafeLoader)
    kept = dict(list(data.get("workspaces", {}).items())[:workspaces])
    for section in kept.values():
        if section and "members" in section:
            section["members"] = dict(list(section["members"].items())[:members])
    data["workspaces"] = kept
    path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False), encoding="utf-8")


# --- 1. loading ----------------------------------------------------------------------------------


def loading(path: Path, runs: int) -> None:
    size = path.stat().st_size / 2**20
    print(f"1. Loading {path.name} ({size:.1f} MiB)")
    parse = [sys.executable, "-c", f"import yaml; yaml.load(open({str(path)!r}), yaml.CSafeLoader)"]
    peer = seconds(lambda: run(parse), runs)
    ours = seconds(lambda: run([str(ROSTER), "validate", str(path)]), runs)
    print(f"  python + yaml.load(CSafeLoader)  {peer:7.2f} s")
    print(f"  roster validate                  {ours:7.2f} s   {ours / peer:.2f}x  (target 1.5x)")
    text = path.read_text(encoding="utf-8")
    in_peer = seconds(lambda: yaml.load(text, Loader=yaml.CSafeLoader), runs)
    in_ours = seconds(lambda: load_config([path]), runs)
    print(
        f"  in process: load_config {in_ours:.2f} s, yaml.load {in_peer:.2f} s:"
        f" {in_ours / in_peer:.2f}x"
    )


# --- 3. planning's growth ------------------------------------------------------------------------


def growth(sizes: Sequence[int], folder: Path) -> None:
    small, large = sizes
    print(f"\n3. compute_plan at {small:,} and {large:,} members (export planned against itself)")
    plans, joins = {}, {}
    for users in sizes:
        current = current_of(users)
        path = folder / f"plan-{users}.yaml"
        path.write_text(render_roster_file(current), encoding="utf-8")
        desired = load_config([path])
        plans[users] = seconds(lambda: compute_plan(desired, current))  # noqa: B023
        wanted = dict(desired.members)
        joins[users] = seconds(
            lambda: {m.id: wanted.get(m.email, m.role) for m in current.members}  # noqa: B023
        )
        print(
            f"  {users:>7,} members  compute_plan {plans[users]:7.3f} s   dict join"
            f" {joins[users] * 1000:7.1f} ms"
        )
    factor = large / small
    plan_growth, join_growth = plans[large] / plans[small], joins[large] / joins[small]
    print(
        f"  growth x{factor:g} in size: compute_plan x{plan_growth:.1f} (target 11),"
        f" dict join x{join_growth:.1f}"
    )


# --- 2. memory -----------------------------------------------------------------------------------


PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True,"
    " capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def memory(path: Path, url: str, env: dict[str, str]) -> None:
    print("\n2. Peak RSS of roster plan, the organization served from another process")
    command = [sys.executable, "-c", PEAK, str(ROSTER), "plan", str(path), "--api-url", url]
    started = time.perf_counter()
    peak = int(subprocess.run(command, check=True, capture_output=True, env=env, text=True).stdout)
    elapsed = time.perf_counter() - started
    print(
        f"  roster plan {path.name}: {elapsed:.1f} s, peak RSS {peak / 1024:.0f} MB (target 200 MB)"
    )


class Served:
    """The seeded organization, served by `roster emulator serve` in a process of its own."""

    def __init__(self, users: int, folder: Path) -> None:
        state = folder / "org.json"
        generate(users, SEED).save(state)
        self.process = subprocess.Popen(
            [str(ROSTER), "emulator", "serve", "--state", str(state), "--port", "0"],
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.url = self.process.stderr.readline().split("listening on ")[1].split()[0]
        self.env = {**os.environ, "ANTHROPIC_ADMIN_KEY": KEY.reveal()}

    def roster_file(self, folder: Path) -> Path:
        exported = folder / "export.yaml"
        run([str(ROSTER), "export", "--api-url", self.url, "-o", str(exported)], self.env)
        path = folder / "roster.yaml"
        cut_file(exported.read_text(encoding="utf-8"), path)
        return path

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 and 1,000 members")
    quick = parser.parse_args(argv).quick
    small, large = (1_000, 10_000) if quick else (10_000, 100_000)
    print(f"bench_files: seed {SEED}; Python {sys.version.split()[0]}\n")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        served = Served(large, folder)
        try:
            path = served.roster_file(folder)
            loading(path, 3)
            memory(path, served.url, served.env)
        finally:
            served.stop()
        growth((small, large), folder)


if __name__ == "__main__":
    main()
