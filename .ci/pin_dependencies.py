"""Write constraints.txt: the exact version of every package roster needs to build and run.

For each supported Python found on this machine, pip resolves pyproject.toml's dependencies and
build requirements afresh, as a new install would; a package resolved alike everywhere gets one
pin, one resolved differently gets a pin per Python version. Run it to move to newer releases:

    python3 .ci/pin_dependencies.py && git diff constraints.txt
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
# The oldest and newest Python roster supports, and those in between.
SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
HEADER = """\
# The exact versions roster is built and run with, its own dependencies' dependencies included.
# The GitHub Action and the GitLab recipe install exactly these (.ci/install-roster), and CI tests
# with them. Written by .ci/pin_dependencies.py; tests/test_adoption.py keeps it true.
"""
BUILD_HEADER = "# Building roster's wheel (pyproject.toml [build-system]):"
RUNTIME_HEADER = "# Running roster (pyproject.toml [project] dependencies):"


def main() -> None:
    pyproject = read_pyproject()
    runtime = pyproject["project"]["dependencies"]
    build = pyproject["build-system"]["requires"]
    resolved = {version: resolve(python, [*runtime, *build]) for version, python in pythons()}
    if not resolved:
        sys.exit("no supported Python found: need one of " + ", ".join(SUPPORTED))
    build_names = set().union(*(closure(build, found) for found in resolved.values()))
    CONSTRAINTS.write_text(render(resolved, build_names), encoding="utf-8")
    print(f"wrote {CONSTRAINTS.name} for Python {', '.join(resolved)}")


def read_pyproject() -> dict[str, Any]:
    if sys.version_info < (3, 11):
        sys.exit("run this with Python 3.11 or newer, which reads TOML")
    # Only there from 3.11 on, which mypy, checking for 3.10, cannot know here.
    import tomllib  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pythons() -> Iterator[tuple[str, str]]:
    for version in SUPPORTED:
        found = pyenv_python(version) or on_path(f"python{version}")
        if found:
            yield version, found
        else:
            print(f"Python {version} not found; its pins are left out", file=sys.stderr)


def on_path(name: str) -> str | None:
    found = shutil.which(name)
    # A pyenv shim names every version pyenv knows, installed or selected or not.
    return None if found is None or "/shims/" in found else found


def pyenv_python(version: str) -> str | None:
    root = Path.home() / ".pyenv" / "versions"
    candidates = sorted(root.glob(f"{version}.*/bin/python{version}"))
    return str(candidates[-1]) if candidates else None


def resolve(python: str, requirements: list[str]) -> dict[str, tuple[str, list[str]]]:
    """Each package pip would install for ``requirements``: its version and what it requires."""
    with tempfile.TemporaryDirectory() as scratch:
        venv = Path(scratch) / "venv"
        # Only interpreters found above and pip's own arguments are run.
        subprocess.run([python, "-m", "venv", str(venv)], check=True)  # noqa: S603
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)  # noqa: S603
        report = Path(scratch) / "report.json"
        install = ["install", "--dry-run", "--ignore-installed", "--only-binary=:all:"]
        resolve = [*pip, *install, "--report", str(report), *requirements]
        subprocess.run(resolve, check=True)  # noqa: S603
        found = json.loads(report.read_text(encoding="utf-8"))["install"]
    return {
        canonical(item["metadata"]["name"]): (
            item["metadata"]["version"],
            item["metadata"].get("requires_dist", []),
        )
        for item in found
    }


def closure(requirements: Iterable[str], found: dict[str, tuple[str, list[str]]]) -> set[str]:
    """The names ``requirements`` reach in ``found``, following what each package requires."""
    reached: set[str] = set()
    todo = [requirement_name(r) for r in requirements]
    while todo:
        name = todo.pop()
        if name in reached or name not in found:
            continue
        reached.add(name)
        todo.extend(requirement_name(r) for r in found[name][1])
    return reached


def render(resolved: dict[str, dict[str, tuple[str, list[str]]]], build: set[str]) -> str:
    names = sorted(set().union(*resolved.values()))
    sections = [
        (BUILD_HEADER, [n for n in names if n in build]),
        (RUNTIME_HEADER, [n for n in names if n not in build]),
    ]
    lines = [HEADER]
    for header, members in sections:
        lines.append(header)
        lines.extend(line for name in members for line in pins(name, resolved))
        lines.append("")
    return "\n".join(lines)


def pins(name: str, resolved: dict[str, dict[str, tuple[str, list[str]]]]) -> Iterator[str]:
    axis = list(resolved)
    by_version: dict[str, list[str]] = defaultdict(list)
    for python, found in resolved.items():
        if name in found:
            by_version[found[name][0]].append(python)
    for version, where in sorted(by_version.items(), key=lambda item: axis.index(item[1][0])):
        marker = python_marker(where, axis)
        yield f"{name}=={version}" + (f" ; {marker}" if marker else "")


def python_marker(where: list[str], axis: list[str]) -> str:
    """A marker true on the Pythons ``where`` of ``axis``, as a range where it is one."""
    start, end = axis.index(where[0]), axis.index(where[-1]) + 1
    if where != axis[start:end]:
        return " or ".join(f'python_version == "{python}"' for python in where)
    bounds = [f'python_version >= "{axis[start]}"'] if start > 0 else []
    bounds += [f'python_version < "{axis[end]}"'] if end < len(axis) else []
    return " and ".join(bounds)


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return canonical(match.group(1))


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


if __name__ == "__main__":
    main()
