"""What a company checks before it gives roster an admin key stays true: the license is the one
pyproject.toml names, the security policy and changelog speak of this roster, and constraints.txt
pins every package roster runs with, at the versions this environment resolved.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import roster

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself needs tomli before 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONSTRAINTS = (ROOT / "constraints.txt").read_text(encoding="utf-8")
HERE = f"{sys.version_info.major}.{sys.version_info.minor}"


def pin_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pin", ROOT / ".ci" / "pin_dependencies.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PIN = pin_script()


# --- the license, the security policy, the changelog ------------------------------------------


def test_the_license_is_the_whole_apache_2_0_text_pyproject_names() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    sections = re.findall(r"^\s+(\d+)\. [A-Z]", text, re.M)
    assert sections == [str(n) for n in range(1, 10)]
    assert text.rstrip().endswith("limitations under the License.")


def test_the_security_policy_says_how_to_report_and_what_roster_does_with_the_key() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert "## Reporting a vulnerability" in text
    for promise in ("ANTHROPIC_ADMIN_KEY", "--api-key-file", "loopback", "never"):
        assert promise in text, promise


def test_the_changelog_starts_at_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## (\S+)", text, re.M)
    assert versions[0] == roster.__version__


def test_the_versioning_rule_covers_saved_plans_and_exit_codes() -> None:
    text = (ROOT / "docs" / "versioning.md").read_text(encoding="utf-8")
    for subject in ("format_version", "exit code", "action.yml", "<!-- roster-plan -->"):
        assert subject in text, subject


# --- constraints.txt ----------------------------------------------------------------------------


def pins() -> Iterator[tuple[str, Requirement]]:
    """(section header, requirement) for each pin in constraints.txt."""
    section = ""
    for line in CONSTRAINTS.splitlines():
        if line.startswith("# ") and line.endswith(":"):
            section = line
        elif line.strip() and not line.startswith("#"):
            yield section, Requirement(line)


def pinned_on(python: str) -> dict[str, str]:
    """The pinned version of each package, as pip reads the file on Python ``python``."""
    found: dict[str, str] = {}
    for _, requirement in pins():
        if requirement.marker is None or requirement.marker.evaluate({"python_version": python}):
            name = canonicalize_name(requirement.name)
            assert name not in found, f"{name} is pinned twice for Python {python}"
            found[name] = exact(requirement)
    return found


def exact(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", requirement
    return specifier.version


def test_every_pin_is_exact_and_varies_only_by_python_version() -> None:
    found = list(pins())
    assert found
    for section, requirement in found:
        assert section in (PIN.BUILD_HEADER, PIN.RUNTIME_HEADER), requirement
        exact(requirement)
        assert not requirement.extras, requirement
        assert requirement.url is None, requirement
        if requirement.marker is not None:
            assert set(re.findall(r"[a-z_]+(?= *[<>=!])", str(requirement.marker))) == {
                "python_version"
            }


@pytest.mark.parametrize("python", PIN.SUPPORTED)
@pytest.mark.parametrize(
    "requirement",
    [*PYPROJECT["project"]["dependencies"], *PYPROJECT["build-system"]["requires"]],
)
def test_every_dependency_pyproject_names_is_pinned_within_its_range(
    requirement: str, python: str
) -> None:
    wanted = Requirement(requirement)
    version = pinned_on(python).get(canonicalize_name(wanted.name))
    assert version is not None, f"{wanted.name} is not pinned for Python {python}"
    assert wanted.specifier.contains(version, prereleases=True), (wanted, version)


def runtime_closure() -> dict[str, metadata.Distribution]:
    """Every installed distribution roster needs to run here, following what each requires."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(requirements_here(metadata.distribution("claude-roster")))
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found[name] = metadata.distribution(name)
        todo.extend(requirements_here(found[name]))
    return found


def requirements_here(distribution: metadata.Distribution) -> Iterator[Requirement]:
    for text in distribution.requires or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            yield requirement


def test_the_pins_are_the_versions_this_environment_resolved() -> None:
    pinned = pinned_on(HERE)
    closure = runtime_closure()
    installed = {name: found.version for name, found in closure.items()}
    assert {name: pinned.get(name) for name in installed} == installed, (
        "constraints.txt is not what this environment runs: run .ci/pin_dependencies.py, or "
        "install with --constraint=constraints.txt"
    )
    runtime_pins = {
        canonicalize_name(r.name)
        for section, r in pins()
        if section == PIN.RUNTIME_HEADER and canonicalize_name(r.name) in pinned
        if exact(r) == pinned[canonicalize_name(r.name)]
    }
    assert runtime_pins <= set(closure), f"pinned but not needed: {runtime_pins - set(closure)}"


def test_each_pin_meets_what_the_other_pins_require() -> None:
    pinned = pinned_on(HERE)
    for name, distribution in runtime_closure().items():
        for requirement in requirements_here(distribution):
            version = pinned[canonicalize_name(requirement.name)]
            assert requirement.specifier.contains(version, prereleases=True), (name, requirement)


def test_ci_tests_the_oldest_and_newest_python_the_pins_are_made_for() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert f"extra_pythons=({PIN.SUPPORTED[0]} {PIN.SUPPORTED[-1]})" in run
    assert PYPROJECT["project"]["requires-python"] == f">={PIN.SUPPORTED[0]}"
    assert "pip install --quiet --constraint=constraints.txt -e '.[test]'" in run
