"""Cold start of the roster CLI, which pre-commit hooks pay on every commit.

Wall time of fresh processes (`python -m roster --help`, `roster validate` on the startup
example, and a bare interpreter for reference), then where `import roster.cli` spends its time
according to `python -X importtime`.

    python benchmarks/bench_cli.py [--runs N] [--top N] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "startup" / "roster.yaml"
ROSTER = Path(sys.executable).with_name("roster")


@dataclass(frozen=True, slots=True)
class Import:
    """One line of ``-X importtime``: microseconds in the module alone and with its imports."""

    module: str
    self_us: int
    cumulative_us: int
    depth: int


CLICK = "python -c 'import click'"


def commands() -> list[tuple[str, list[str]]]:
    return [
        ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
        (CLICK, [sys.executable, "-c", "import click"]),
        ("python -m roster --help", [sys.executable, "-m", "roster", "--help"]),
        ("roster --help", [str(ROSTER), "--help"]),
        ("roster --version", [str(ROSTER), "--version"]),
        ("roster validate examples/startup", [str(ROSTER), "validate", str(EXAMPLE)]),
    ]


def wall_times(command: Sequence[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=REPO, env=env)
        times.append(time.perf_counter() - started)
    return times


def environments(cache: Path) -> list[tuple[str, dict[str, str]]]:
    """Without bytecode for roster's own modules (an editable install that may not write
    ``__pycache__``), and with it in a private cache (as an installed wheel has it)."""
    base = {**os.environ, "NO_COLOR": "1"}
    base.pop("PYTHONPYCACHEPREFIX", None)
    cached = {k: v for k, v in base.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return [
        ("no bytecode written", {**base, "PYTHONDONTWRITEBYTECODE": "1"}),
        ("bytecode cached", {**cached, "PYTHONPYCACHEPREFIX": str(cache)}),
    ]


def import_times(module: str, env: dict[str, str]) -> list[Import]:
    command = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    stderr = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stderr
    return [entry for line in stderr.splitlines() if (entry := parse_import(line)) is not None]


def parse_import(line: str) -> Import | None:
    # "import time:      self [us] |    cumulative | imported package"
    if not line.startswith("import time:"):
        return None
    fields = line.removeprefix("import time:").split("|")
    if len(fields) != 3 or not fields[0].strip().isdigit():
        return None
    name = fields[2].rstrip()
    depth = (len(name) - len(name.lstrip())) // 2
    return Import(name.strip(), int(fields[0]), int(fields[1]), depth)


def print_startup(runs: int, envs: list[tuple[str, dict[str, str]]]) -> None:
    print(f"Cold start, {runs} runs each after one warm-up run (seconds; x: / {CLICK})")
    print(f"{'command':<34} {'bytecode':<20} {'median':>7} {'min':>7} {'max':>7} {'x':>6}")
    for env_label, env in envs:
        reference = 0.0
        for label, command in commands():
            wall_times(command, 1, env)
            times = wall_times(command, runs, env)
            median = statistics.median(times)
            reference = median if label == CLICK else reference
            ratio = f"{median / reference:.2f}" if reference else "-"
            print(
                f"{label:<34} {env_label:<20} {median:>7.3f}"
                f" {min(times):>7.3f} {max(times):>7.3f} {ratio:>6}"
            )


def print_imports(module: str, top: int, env: dict[str, str]) -> None:
    import_times(module, env)  # warm the bytecode cache
    entries = import_times(module, env)
    total = next((e.cumulative_us for e in entries if e.module == module), 0)
    print(f"\n`import {module}`: {total / 1000:.1f} ms (python -X importtime, bytecode cached)")
    print(f"Top-level imports by cumulative time (top {top}):")
    # Entries one level below the imported module are its direct imports; depth 1 is the root.
    roots = sorted(
        (e for e in entries if e.depth <= 1 and e.module != module),
        key=lambda e: e.cumulative_us,
        reverse=True,
    )
    print(f"  {'module':<40} {'cumulative ms':>13} {'self ms':>8}")
    for entry in roots[:top]:
        print(
            f"  {entry.module:<40} {entry.cumulative_us / 1000:>13.1f} {entry.self_us / 1000:>8.1f}"
        )
    print(f"Time of their own by package, all their modules summed (top {top}):")
    for package, micros in by_package(entries)[:top]:
        print(f"  {package:<40} {micros / 1000:>13.1f}")


def by_package(entries: Sequence[Import]) -> list[tuple[str, int]]:
    """Self time summed per package (roster per subpackage), largest first."""
    totals: Counter[str] = Counter()
    for entry in entries:
        parts = entry.module.split(".")
        totals[".".join(parts[:2] if parts[0] == "roster" else parts[:1])] += entry.self_us
    return totals.most_common()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command (default 10)")
    parser.add_argument("--top", type=int, default=15, help="import entries to list (default 15)")
    parser.add_argument("--quick", action="store_true", help="3 runs per command")
    args = parser.parse_args()
    print(f"bench_cli: Python {sys.version.split()[0]}\n")
    with tempfile.TemporaryDirectory() as cache:
        envs = environments(Path(cache))
        print_startup(3 if args.quick else args.runs, envs)
        print_imports("roster.cli", args.top, envs[1][1])


if __name__ == "__main__":
    main()
