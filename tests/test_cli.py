"""The sync commands end to end: exact stdout, stderr and exit code, against the sandbox or the
emulator over real HTTP. Rendered plans are golden files under ``tests/data/golden/cli/``;
``ROSTER_REGEN_GOLDEN=1`` rewrites them (review the diff).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import Result

from roster.api.http import RetryPolicy
from roster.changes import PHASES
from roster.emulator.app import create_app
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.emulator.store import Store
from roster.sandbox import SANDBOX_FILE
from roster.saved_plan import fingerprint
from tests.support import run_cli
from tests.test_config import BAD, BAD_FILES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
STARTUP = EXAMPLES / "startup" / "roster.yaml"
GOLDEN = Path(__file__).parent / "data" / "golden" / "cli"

ADMIN_KEY = "sk-ant-admin01-cli-tests-Zq8yXw7v"
REGULAR_KEY = "sk-ant-api03-cli-tests-Pp4oNn3m"
SECRETS = (ADMIN_KEY, REGULAR_KEY)
ORG = "/v1/organizations"

TINYCO = "Organization: Tinyco (7b0c3f0e-5a1d-4c2e-9f3b-1d2e3f4a5b6c)\n"
NO_CHANGES = "No changes. The organization matches the roster files.\n"
NOT_A_TERMINAL = (
    "Error: apply needs a typed 'yes' and standard input is not a terminal; "
    "review `roster plan`, then run `roster apply --yes`\n"
)
DEBUG_LINE = re.compile(
    r"roster\.http: (?P<method>[A-Z]+) (?P<path>/[^?\s]*)(?:\?\S*)? -> (?P<status>\d{3}) "
    r"\(request-id (?P<request_id>req_\w+)\) in \d+ ms"
)


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def in_tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in an empty directory (so a fresh sandbox), with no key or URL set."""
    monkeypatch.chdir(tmp_path)
    for name in ("ANTHROPIC_ADMIN_KEY", "ROSTER_API_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(autouse=True)
def restore_roster_logger() -> Iterator[None]:
    # `roster --debug` adds a handler to the "roster" logger; one process runs many commands here.
    logger = logging.getLogger("roster")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def roster(*args: object, env: dict[str, str] | None = None) -> Result:
    """Runs ``roster ARGS`` as a user would; no traceback and no key may ever reach the output."""
    return run_cli(args, env=env, secrets=SECRETS)


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ROSTER_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs; review, then regenerate"


def lines(text: str) -> list[str]:
    return text.splitlines()


class Emulator:
    """The emulator served over real HTTP on 127.0.0.1, and its control endpoints."""

    def __init__(self, base: str, store: Store) -> None:
        self.base = base
        self.store = store

    def control(self, method: str, name: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.base}/_emulator/{name}", json=body, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def requests(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "requests")["requests"])

    def total(self) -> int:
        return int(self.control("GET", "requests")["counters"]["total"])

    def clear_log(self) -> None:
        self.control("DELETE", "requests")

    def fail(self, kind: str, method: str, path: str, times: int = 1, **extra: Any) -> None:
        fault = {"kind": kind, "method": method, "path": path, **extra}
        assert self.control("POST", "faults", {"faults": [fault] * times}) == {"queued": times}

    def user_id(self, email: str) -> str:
        user = self.store.user_by_email(email)
        assert user is not None, email
        return user.id


def serve_seeded() -> Iterator[Emulator]:
    store = generate(users=20, seed=1)
    with running_server(create_app(store)) as base:
        yield Emulator(base, store)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    yield from serve_seeded()


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[Emulator]:
    """One server for tests that never change the organization."""
    yield from serve_seeded()


def over_http(emulator: Emulator, key: str = ADMIN_KEY) -> tuple[list[str], dict[str, str]]:
    return ["--api-url", emulator.base], {"ANTHROPIC_ADMIN_KEY": key}


def export_roster(emulator: Emulator, path: Path) -> dict[str, Any]:
    """The seeded organization as a roster file, via `roster export`; returns its data."""
    options, env = over_http(emulator)
    result = roster("export", *options, "-o", path, env=env)
    assert (result.exit_code, result.stderr) == (0, f"Wrote {path}.\n")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def write_roster(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def members_with_role(emulator: Emulator, data: dict[str, Any], role: str) -> list[str]:
    """Members (not invitees) the exported ``data`` lists with ``role``, by email."""
    listed = (email for email, given in data["members"].items() if given == role)
    return sorted(email for email in listed if emulator.store.user_by_email(email) is not None)


def workspace_roles(store: Store, workspace: str) -> dict[str, str]:
    """The explicit members of ``workspace`` in ``store``, as {email: workspace role}."""
    state = store.to_json()
    [workspace_id] = [w["id"] for w in state["workspaces"] if w["name"] == workspace]
    emails = {user["id"]: user["email"] for user in state["users"]}
    return {
        emails[m["user_id"]]: m["workspace_role"]
        for m in state["workspace_members"]
        if m["workspace_id"] == workspace_id
    }


def expected_progress(plan_text: str, plan_json: str) -> list[set[str]]:
    """The progress lines apply prints for a plan, phase by phase (in any order within one)."""
    shown = [line for line in lines(plan_text) if re.match(r"  [+~-] ", line)]
    changes = json.loads(plan_json)["changes"]
    assert len(shown) == len(changes)
    phases: dict[int, set[str]] = {}
    for line, change in zip(shown, changes, strict=True):
        phases.setdefault(PHASES[change["kind"]], set()).add(f"{line}: done")
    return [phases[phase] for phase in sorted(phases)]


def assert_progress(stderr: str, phases: list[set[str]]) -> None:
    # Changes within a phase run concurrently, so they report in completion order.
    progress, start = lines(stderr), 0
    for phase in phases:
        assert set(progress[start : start + len(phase)]) == phase
        start += len(phase)
    assert start == len(progress)


def writes(emulator: Emulator) -> Counter[str]:
    return Counter(r["method"] for r in emulator.requests() if r["method"] != "GET")


# --- the sandbox: plan, apply, export -------------------------------------------------------------


def test_plan_sandbox_shows_the_sample_plan() -> None:
    result = roster("plan", "--sandbox", STARTUP)
    assert (result.exit_code, result.stderr) == (0, "")
    assert_golden("plan-startup.txt", result.stdout)
    assert "\x1b" not in result.stdout  # not a terminal: no colour


def test_plan_sandbox_as_json() -> None:
    result = roster("plan", "--sandbox", "--format", "json", STARTUP)
    assert (result.exit_code, result.stderr) == (0, "")
    assert_golden("plan-startup.json", result.stdout)
    assert '"format_version": 1' in result.stdout


def test_no_color_keeps_escape_codes_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    result = roster("plan", "--sandbox", STARTUP)
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout + result.stderr
    assert result.stdout == (GOLDEN / "plan-startup.txt").read_text(encoding="utf-8")


def test_apply_sandbox_then_only_the_manual_action_is_left(in_tmp_cwd: Path) -> None:
    applied = roster("apply", "--sandbox", "--yes", STARTUP)
    assert applied.exit_code == 0
    assert_golden("apply-startup.txt", applied.stdout)
    plan_text, plan_json = (GOLDEN / "plan-startup.txt", GOLDEN / "plan-startup.json")
    phases = expected_progress(plan_text.read_text(), plan_json.read_text())
    assert len(phases) > 1
    assert_progress(applied.stderr, phases)

    after = roster("plan", "--sandbox", STARTUP)
    assert (after.exit_code, after.stderr) == (0, "")
    assert_golden("plan-startup-after-apply.txt", after.stdout)
    assert after.stdout.endswith(
        "\nNo changes to apply. 1 manual action left for the Console (above).\n"
    )
    store = Store.load(in_tmp_cwd / SANDBOX_FILE)
    margaret = store.user_by_email("margaret@tinyco.io")
    assert margaret is not None
    assert margaret.role == "developer"
    assert store.user_by_email("intern@tinyco.io") is None
    assert workspace_roles(store, "Production") == {
        "linus@tinyco.io": "workspace_admin",
        "margaret@tinyco.io": "workspace_developer",
    }
    [production] = [w["id"] for w in store.to_json()["workspaces"] if w["name"] == "Production"]
    sonnet, batch = (store.rate_limits.entry_id_for(r) for r in ("claude-sonnet-4-5", "batch"))
    assert store.rate_limits.overrides(production) == {
        sonnet: {"output_tokens_per_minute": 400_000, "requests_per_minute": 2_000},
        batch: {"requests_per_minute": 100},  # not in the file: reported, left as it is
    }


def test_apply_again_has_nothing_to_apply() -> None:
    assert roster("apply", "--sandbox", "--yes", STARTUP).exit_code == 0
    again = roster("apply", "--sandbox", "--yes", STARTUP)
    assert (again.exit_code, again.stderr) == (0, "")
    plan_text = (GOLDEN / "plan-startup-after-apply.txt").read_text(encoding="utf-8")
    assert again.stdout == plan_text + "Nothing to apply.\n"


def test_export_then_plan_has_no_changes(in_tmp_cwd: Path) -> None:
    exported = roster("export", "--sandbox")
    assert (exported.exit_code, exported.stderr) == (0, "")
    assert_golden("export-startup.yaml", exported.stdout)
    (in_tmp_cwd / "exported.yaml").write_text(exported.stdout, encoding="utf-8")

    result = roster("plan", "--sandbox", "exported.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"{TINYCO}\n{NO_CHANGES}", "")


def test_export_to_a_file(in_tmp_cwd: Path) -> None:
    result = roster("export", "--sandbox", "-o", "out.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "Wrote out.yaml.\n")
    written = (in_tmp_cwd / "out.yaml").read_text(encoding="utf-8")
    assert written == (GOLDEN / "export-startup.yaml").read_text(encoding="utf-8")


def test_apply_without_yes_and_without_a_terminal_fetches_nothing(in_tmp_cwd: Path) -> None:
    result = roster("apply", "--sandbox", STARTUP)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", NOT_A_TERMINAL)
    assert not (in_tmp_cwd / SANDBOX_FILE).exists()


def test_apply_without_yes_leaves_an_existing_sandbox_alone(in_tmp_cwd: Path) -> None:
    assert roster("plan", "--sandbox", STARTUP).exit_code == 0
    before = (in_tmp_cwd / SANDBOX_FILE).read_bytes()
    result = roster("apply", "--sandbox", STARTUP)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", NOT_A_TERMINAL)
    assert (in_tmp_cwd / SANDBOX_FILE).read_bytes() == before


def test_organization_mismatch_is_refused(in_tmp_cwd: Path) -> None:
    path = in_tmp_cwd / "other.yaml"
    path.write_text("organization:\n  name: Other\nmembers:\n  ada@tinyco.io: admin\n")
    for command in (["plan"], ["apply", "--yes"]):
        result = roster(*command, "--sandbox", path)
        assert (result.exit_code, result.stdout) == (3, "")
        assert result.stderr == (
            "Error: the roster files are for 'Other' but the admin key belongs to 'Tinyco'"
            " (id 7b0c3f0e-5a1d-4c2e-9f3b-1d2e3f4a5b6c); check the key or the files'"
            " organization\n"
        )


def test_a_wrong_option_is_a_usage_error() -> None:
    result = roster("plan", "--sandbox", "--format", "xml", STARTUP)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: Invalid value for '--format' (env var: 'ROSTER_PLAN_FORMAT'):"
        " 'xml' is not one of 'text', 'json', 'markdown'.\n"
    )


# --- validate -------------------------------------------------------------------------------------

EXAMPLE_SUMMARIES = {
    "startup/roster.yaml": "Valid: 1 file, 10 members (policy.unmanaged: remove).",
    "enterprise": "Valid: 4 files, 23 members (policy.unmanaged: remove).",
    "enterprise/go-to-market.yaml": "Valid: 1 file, 6 members (policy.unmanaged: report).",
    "enterprise/org.yaml": "Valid: 1 file, 2 members (policy.unmanaged: remove).",
    "enterprise/platform.yaml": "Valid: 1 file, 9 members (policy.unmanaged: report).",
    "enterprise/research.yaml": "Valid: 1 file, 6 members (policy.unmanaged: report).",
}


def test_every_example_has_an_expected_summary() -> None:
    on_disk = {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.glob("*/*.yaml")}
    on_disk |= {p.name for p in EXAMPLES.iterdir() if len(list(p.glob("*.yaml"))) > 1}
    assert on_disk == set(EXAMPLE_SUMMARIES)


@pytest.mark.parametrize("name", sorted(EXAMPLE_SUMMARIES))
def test_validate_example(name: str) -> None:
    result = roster("validate", EXAMPLES / name)
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        EXAMPLE_SUMMARIES[name] + "\n",
        "",
    )


def test_validate_merges_several_paths() -> None:
    result = roster("validate", EXAMPLES / "enterprise" / "org.yaml", EXAMPLES / "enterprise")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        "Valid: 4 files, 23 members (policy.unmanaged: remove).\n",
        "",
    )


def bad_cases() -> list[Any]:
    return [
        pytest.param(
            BAD / name, BAD / name / named if named else BAD / name, line, message, id=name
        )
        for name, named, line, message in BAD_FILES
    ]


def assert_one_error_line(result: Result, named: Path, line: int, message: str) -> None:
    """The case's problem first; any others each on an ``Error:`` line, then their count."""
    assert (result.exit_code, result.stdout) == (1, "")
    first, *others = result.stderr.splitlines()
    assert result.stderr.endswith("\n")
    assert first.startswith(f"Error: {named}:{line}:")
    assert message.format(dir=BAD) in first
    if others:
        *more, count = others
        assert all(line.startswith("Error: ") for line in more)
        assert count == f"{len(others)} problems in 1 file."


def test_every_bad_file_is_a_case() -> None:
    assert {path.name for path in BAD.iterdir()} == {name for name, *_ in BAD_FILES}


@pytest.mark.parametrize(("path", "named", "line", "message"), bad_cases())
def test_validate_bad_file(path: Path, named: Path, line: int, message: str) -> None:
    assert_one_error_line(roster("validate", path), named, line, message)


@pytest.mark.parametrize(("path", "named", "line", "message"), bad_cases())
def test_a_bad_file_sends_no_request(
    shared_emulator: Emulator, path: Path, named: Path, line: int, message: str
) -> None:
    options, env = over_http(shared_emulator)
    shared_emulator.clear_log()
    for command in (["plan"], ["apply", "--yes"]):
        assert_one_error_line(roster(*command, *options, path, env=env), named, line, message)
    assert shared_emulator.total() == 0


# --- over real HTTP: keys, URLs, debug logs -------------------------------------------------------


def test_plan_over_http(shared_emulator: Emulator, in_tmp_cwd: Path) -> None:
    export_roster(shared_emulator, in_tmp_cwd / "org.yaml")
    options, env = over_http(shared_emulator)
    shared_emulator.clear_log()
    result = roster("plan", *options, "org.yaml", env=env)
    heading = "Organization: Northwind Labs (c386bbc4-cd61-4e30-98f1-6adf91b7584a)\n"
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"{heading}\n{NO_CHANGES}", "")
    requests = shared_emulator.requests()
    assert len(requests) >= 3
    assert {(r["method"], r["status"]) for r in requests} == {("GET", 200)}


def test_no_admin_key() -> None:
    result = roster("plan", STARTUP)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: no admin key: set ANTHROPIC_ADMIN_KEY or pass --api-key-file FILE"
        " (an Admin API key, sk-ant-admin01-..., from Console > Settings > Admin keys)\n"
    )


@pytest.mark.parametrize("command", [["plan", STARTUP], ["apply", "--yes", STARTUP], ["export"]])
def test_the_key_is_never_sent_in_clear(command: list[object]) -> None:
    env = {"ANTHROPIC_ADMIN_KEY": ADMIN_KEY}
    result = roster(command[0], "--api-url", "http://example.com", *command[1:], env=env)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: refusing to send the admin key in clear over http:// to example.com; use https://"
        " (plain http is allowed only for loopback addresses, such as a local emulator)\n"
    )


def test_the_api_url_can_come_from_the_environment(
    shared_emulator: Emulator, in_tmp_cwd: Path
) -> None:
    export_roster(shared_emulator, in_tmp_cwd / "org.yaml")
    shared_emulator.clear_log()
    env = {"ANTHROPIC_ADMIN_KEY": ADMIN_KEY, "ROSTER_API_URL": shared_emulator.base}
    result = roster("plan", "org.yaml", env=env)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.endswith(NO_CHANGES)
    assert shared_emulator.total() > 0


def error_request(stderr_line: str, emulator: Emulator) -> dict[str, Any]:
    """The logged request an ``Error:`` line names, by its request-id."""
    named = re.search(r"\(request-id (req_\w+)\)$", stderr_line)
    assert named is not None, stderr_line
    matching = [r for r in emulator.requests() if r["request_id"] == named.group(1)]
    assert len(matching) == 1, stderr_line
    return matching[0]


def test_a_regular_api_key_warns_then_fails_with_the_403(shared_emulator: Emulator) -> None:
    options, env = over_http(shared_emulator, key=REGULAR_KEY)
    shared_emulator.clear_log()
    result = roster("plan", *options, STARTUP, env=env)
    assert (result.exit_code, result.stdout) == (1, "")
    warning, error = lines(result.stderr)
    assert warning == (
        "Warning: the key looks like a regular API key (sk-ant-api...), not an Admin API key"
        " (sk-ant-admin01-...): the Admin API will likely answer 403, unless it is a scoped Claude"
        " Enterprise admin key. Create an admin key in Console > Settings > Admin keys"
    )
    request = error_request(error, shared_emulator)
    assert request["status"] == 403
    assert error == (
        f"Error: GET {request['path']} 403: the key may not do this: it is not an admin key, or"
        " the organization's plan has no access to the Admin API (API said: this endpoint"
        " requires an Admin API key (sk-ant-admin...)) [permission_error]"
        f" (request-id {request['request_id']})"
    )


def debug_lines(stderr: str) -> tuple[list[tuple[str, str, int, str]], list[str]]:
    """The ``--debug`` request lines as (method, path, status, request-id), and the other lines."""
    logged, other = [], []
    for line in lines(stderr):
        match = DEBUG_LINE.fullmatch(line)
        if match is None:
            other.append(line)
        else:
            logged.append(
                (match["method"], match["path"], int(match["status"]), match["request_id"])
            )
    return logged, other


def logged_requests(emulator: Emulator) -> list[tuple[str, str, int, str]]:
    return [(r["method"], r["path"], r["status"], r["request_id"]) for r in emulator.requests()]


def test_debug_logs_every_request_and_the_retry(
    shared_emulator: Emulator, in_tmp_cwd: Path
) -> None:
    export_roster(shared_emulator, in_tmp_cwd / "org.yaml")
    options, env = over_http(shared_emulator)
    shared_emulator.clear_log()
    shared_emulator.fail("529", "GET", f"{ORG}/users")
    result = roster("--debug", "plan", *options, "org.yaml", env=env)
    assert result.exit_code == 0
    assert result.stdout.endswith(NO_CHANGES)
    logged, other = debug_lines(result.stderr)
    assert other == []
    assert sorted(logged) == sorted(logged_requests(shared_emulator))
    assert ("GET", f"{ORG}/users", 529) in {entry[:3] for entry in logged}


def test_debug_through_a_failure_that_outlasts_the_retries(
    shared_emulator: Emulator, in_tmp_cwd: Path
) -> None:
    export_roster(shared_emulator, in_tmp_cwd / "org.yaml")
    options, env = over_http(shared_emulator)
    shared_emulator.clear_log()
    attempts = RetryPolicy().max_refusals  # 429s prove nothing was done: their own budget
    shared_emulator.fail("429", "GET", f"{ORG}/users", times=attempts, retry_after=0.01)
    result = roster("--debug", "plan", *options, "org.yaml", env=env)
    assert (result.exit_code, result.stdout) == (1, "")
    logged, other = debug_lines(result.stderr)
    assert set(logged) <= set(logged_requests(shared_emulator))
    assert [entry[:3] for entry in logged].count(("GET", f"{ORG}/users", 429)) == attempts
    [error] = other
    request = error_request(error, shared_emulator)
    assert error == (
        f"Error: GET {ORG}/users 429: rate limited by the Admin API; slow down (lower"
        " --max-concurrency or set --max-rps) and try again later (API said: rate limit"
        f" exceeded) [rate_limit_error] (after {attempts} attempts)"
        f" (request-id {request['request_id']})"
    )


def test_debug_with_a_refused_key_never_shows_it(shared_emulator: Emulator) -> None:
    options, env = over_http(shared_emulator, key=REGULAR_KEY)
    shared_emulator.clear_log()
    result = roster("--debug", "plan", *options, STARTUP, env=env)
    assert (result.exit_code, result.stdout) == (1, "")
    logged, other = debug_lines(result.stderr)
    # The first refusal ends the command; requests still in flight then go unlogged.
    assert set(logged) <= set(logged_requests(shared_emulator))
    assert {entry[2] for entry in logged} == {403}
    assert [line.split(":")[0] for line in other] == ["Warning", "Error"]
    refused = error_request(other[1], shared_emulator)
    assert (refused["method"], refused["path"], 403, refused["request_id"]) in logged


# --- the removal guard ----------------------------------------------------------------------------


def mass_removal(emulator: Emulator, directory: Path) -> tuple[Path, list[str]]:
    """A roster that keeps everyone but three developers, allowing one removal."""
    data = export_roster(emulator, directory / "org.yaml")
    leaving = members_with_role(emulator, data, "developer")[:3]
    for listing in [data, *data.get("workspaces", {}).values()]:
        listing["members"] = {
            email: role for email, role in listing["members"].items() if email not in leaving
        }
    data["policy"] = {"unmanaged": "remove", "max_removals": 1}
    return write_roster(directory / "mass-removal.yaml", data), leaving


def test_plan_refuses_too_many_removals(emulator: Emulator, in_tmp_cwd: Path) -> None:
    path, _ = mass_removal(emulator, in_tmp_cwd)
    options, env = over_http(emulator)
    result = roster("plan", *options, path, env=env)
    assert result.exit_code == 3
    assert_golden("plan-mass-removal.txt", result.stdout)
    assert result.stderr == (
        "Error: plan removes 3 of 20 members (15.0%), over policy.max_removals 1;"
        " review the plan or pass --force\n"
    )
    forced = roster("plan", *options, "--force", path, env=env)
    assert (forced.exit_code, forced.stdout, forced.stderr) == (0, result.stdout, "")


def test_apply_refuses_too_many_removals_and_changes_nothing(
    emulator: Emulator, in_tmp_cwd: Path
) -> None:
    path, leaving = mass_removal(emulator, in_tmp_cwd)
    options, env = over_http(emulator)
    emulator.clear_log()
    result = roster("apply", "--yes", *options, path, env=env)
    assert result.exit_code == 3
    assert result.stdout == (GOLDEN / "plan-mass-removal.txt").read_text(encoding="utf-8")
    assert result.stderr == (
        "Error: plan removes 3 of 20 members (15.0%), over policy.max_removals 1;"
        " review the plan or pass --force\n"
    )
    assert writes(emulator) == Counter()
    assert all(emulator.store.user_by_email(email) is not None for email in leaving)


def test_apply_with_force_removes_them(emulator: Emulator, in_tmp_cwd: Path) -> None:
    path, leaving = mass_removal(emulator, in_tmp_cwd)
    leaving_paths = {f"{ORG}/users/{emulator.user_id(email)}" for email in leaving}
    options, env = over_http(emulator)
    emulator.clear_log()
    result = roster("apply", "--yes", "--force", *options, path, env=env)
    assert result.exit_code == 0
    plan_text = (GOLDEN / "plan-mass-removal.txt").read_text(encoding="utf-8")
    shown = [line for line in lines(plan_text) if re.match(r"  [+~-] ", line)]
    # Their workspace memberships go with them: one request each, not one per workspace too.
    assert {line.split(" (")[0] for line in shown} == {f"  - remove {email}" for email in leaving}
    total = len(shown)
    assert result.stdout == plan_text + f"Apply complete: {total} of {total} changes made.\n"
    assert sorted(lines(result.stderr)) == sorted(f"{line}: done" for line in shown)
    removals = [r["path"] for r in emulator.requests() if r["method"] == "DELETE"]
    assert sorted(removals) == sorted(leaving_paths)
    assert [emulator.store.user_by_email(email) for email in leaving] == [None, None, None]
    final = roster("plan", *options, path, env=env)
    assert (final.exit_code, final.stderr) == (0, "")
    assert final.stdout.endswith(NO_CHANGES)


# --- apply with failures, then convergence --------------------------------------------------------


def test_apply_reports_a_failed_change_and_a_rerun_converges(
    emulator: Emulator, in_tmp_cwd: Path
) -> None:
    data = export_roster(emulator, in_tmp_cwd / "org.yaml")
    stuck, promoted = members_with_role(emulator, data, "user")[:2]
    data["members"] |= {stuck: "developer", promoted: "developer", "new.hire@example.com": "user"}
    path = write_roster(in_tmp_cwd / "roster.yaml", data)
    options, env = over_http(emulator)
    attempts = RetryPolicy().max_refusals  # 429s prove nothing was done: their own budget
    emulator.clear_log()
    emulator.fail(
        "429", "POST", f"{ORG}/users/{emulator.user_id(stuck)}", attempts, retry_after=0.01
    )

    first = roster("apply", "--yes", *options, path, env=env)
    assert first.exit_code == 1
    assert_golden("apply-with-failure.txt", first.stdout)
    assert first.stdout.endswith("Apply finished with failures: 2 of 3 changes made.\n")
    failed = [r for r in emulator.requests() if r["status"] == 429]
    assert len(failed) == attempts
    reason = (
        f"POST {ORG}/users/{emulator.user_id(stuck)} 429: rate limited by the Admin API; slow"
        " down (lower --max-concurrency or set --max-rps) and try again later (API said: rate"
        f" limit exceeded) [rate_limit_error] (after {attempts} attempts)"
        f" (request-id {failed[-1]['request_id']})"
    )
    progress = lines(first.stderr)
    assert set(progress[:3]) == {
        "  + invite new.hire@example.com as user: done",
        f"  ~ change {promoted} from user to developer: done",
        f"  ~ change {stuck} from user to developer: FAILED: {reason}",
    }
    assert progress[3:] == [
        f"  ~ change {stuck} from user to developer: FAILED: {reason}",
        "Error: 1 of 3 changes failed (listed above); fix the cause and run roster apply again:"
        " it only does what is left",
    ]
    assert emulator.store.user_by_email(promoted).role == "developer"  # type: ignore[union-attr]
    assert emulator.store.user_by_email(stuck).role == "user"  # type: ignore[union-attr]

    emulator.clear_log()
    second = roster("apply", "--yes", *options, path, env=env)
    assert (second.exit_code, second.stderr) == (
        0,
        f"  ~ change {stuck} from user to developer: done\n",
    )
    assert second.stdout.endswith("\nApply complete: 1 of 1 changes made.\n")
    assert writes(emulator) == Counter({"POST": 1})

    final = roster("plan", *options, path, env=env)
    heading = "Organization: Northwind Labs (c386bbc4-cd61-4e30-98f1-6adf91b7584a)\n"
    assert (final.exit_code, final.stdout, final.stderr) == (0, f"{heading}\n{NO_CHANGES}", "")


# --- saved plans and --detailed-exitcode ---------------------------------------------------------


def test_detailed_exitcode_says_whether_there_is_anything_to_do(tmp_path: Path) -> None:
    assert roster("plan", "--sandbox", "--detailed-exitcode", STARTUP).exit_code == 2
    assert roster("apply", "--sandbox", "--yes", STARTUP).exit_code == 0
    # Only the manual action is left: that is still drift between the files and the organization.
    assert roster("plan", "--sandbox", "--detailed-exitcode", STARTUP).exit_code == 2
    exported = tmp_path / "exported.yaml"
    assert roster("export", "--sandbox", "-o", exported).exit_code == 0
    assert roster("plan", "--sandbox", "--detailed-exitcode", exported).exit_code == 0
    broken = BAD / "typo-role.yaml"
    assert roster("plan", "--sandbox", "--detailed-exitcode", broken).exit_code == 1


def test_a_saved_plan_is_applied_exactly(tmp_path: Path) -> None:
    saved = roster("plan", "--sandbox", "--out", "plan.json", STARTUP)
    assert saved.exit_code == 0
    assert saved.stderr == (
        f"Saved the plan to plan.json; apply it with: roster apply --sandbox plan.json {STARTUP}\n"
    )
    applied = roster("apply", "--sandbox", "--yes", "plan.json", STARTUP)
    assert applied.exit_code == 0
    assert applied.stdout.startswith(saved.stdout)
    assert "Apply complete: 13 of 13 changes made." in applied.stdout
    after = roster("plan", "--sandbox", "--format", "json", STARTUP)
    assert json.loads(after.stdout)["changes"] == []


def test_a_stale_saved_plan_is_refused_and_the_drift_named(tmp_path: Path) -> None:
    assert roster("plan", "--sandbox", "--out", "plan.json", STARTUP).exit_code == 0
    promoted = write_roster(
        tmp_path / "other.yaml",
        {"members": {"margaret@tinyco.io": "billing"}, "policy": {"unmanaged": "ignore"}},
    )
    assert roster("apply", "--sandbox", "--yes", promoted).exit_code == 0
    sandbox_before = SANDBOX_FILE.read_text()
    stale = roster("apply", "--sandbox", "--yes", "plan.json")
    assert stale.exit_code == 1
    assert stale.stdout == ""
    assert lines(stale.stderr) == [
        "The organization changed since the plan was made:",
        "  member margaret@tinyco.io role: user -> billing",
        # Billing members hold workspace_billing in every workspace, by the API's rules.
        "  workspace membership Production / margaret@tinyco.io appeared",
        "  workspace membership Research / margaret@tinyco.io appeared",
        "Error: the organization changed since the plan was made"
        f" ({json.loads(Path('plan.json').read_text())['created_at']}) in ways that change the"
        " plan; nothing was applied: run roster plan again",
    ]
    assert SANDBOX_FILE.read_text() == sandbox_before


def test_a_tampered_saved_plan_is_refused_before_any_request(emulator: Emulator) -> None:
    options, env = over_http(emulator)
    roster_file = export_roster(emulator, Path("roster.yaml"))
    roster_file["members"]["new.person@example.com"] = "user"
    write_roster(Path("roster.yaml"), roster_file)
    assert roster("plan", *options, "--out", "plan.json", "roster.yaml", env=env).exit_code == 0
    text = Path("plan.json").read_text()
    assert ADMIN_KEY not in text
    assert '"to_role": "user"' in text
    Path("plan.json").write_text(text.replace('"to_role": "user"', '"to_role": "developer"'))
    emulator.clear_log()
    refused = roster("apply", *options, "--yes", "plan.json", env=env)
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: plan.json: the plan file was modified after roster wrote it; plan again\n"
    )
    assert emulator.total() == 0


PLAN_KEY = "k" * 16 + "-plan-signing-key-for-tests-0123"


def reseal(path: Path, edit: Any) -> None:
    """What anyone who can write the artifact can do: edit it, and recompute its digest."""
    document = json.loads(path.read_text())
    edit(document)
    body = {k: v for k, v in document.items() if k != "digest"}
    path.write_text(json.dumps({**body, "digest": fingerprint(body)}))


def invite_evil(document: dict[str, Any], email: str = "evil@example.org") -> None:
    document["desired"]["members"][email] = "user"
    evil = {
        "kind": "invite",
        "email": email,
        "from_role": None,
        "to_role": "user",
        "user_id": None,
        "invite_id": None,
        "note": "",
        "workspace": None,
        "workspace_id": None,
        "key_id": None,
    }
    document["plan"]["changes"].insert(0, evil)


@pytest.mark.parametrize("evil", ["evil@example.org", "__evil@attacker.example"])
def test_a_resealed_plan_is_refused_when_its_roster_files_are_at_hand(
    emulator: Emulator, in_tmp_cwd: Path, evil: str
) -> None:
    options, env = over_http(emulator)
    export_roster(emulator, in_tmp_cwd / "roster.yaml")
    assert roster("plan", *options, "--out", "plan.json", "roster.yaml", env=env).exit_code == 0
    reseal(in_tmp_cwd / "plan.json", lambda document: invite_evil(document, evil))
    emulator.clear_log()
    refused = roster("apply", *options, "--yes", "plan.json", "roster.yaml", env=env)
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"Error: the plan was not made from roster.yaml: members.{evil}: in the plan,"
        " not in the files; nothing was applied: plan again from these files\n"
    )
    assert emulator.total() == 0


def first_member(document: dict[str, Any]) -> str:
    return next(iter(document["desired"]["members"]))


RESEALS = {
    "organization name not text": lambda d: d["plan"]["organization"].update(name=123),
    "unknown held-back kind": lambda d: d["plan"].update(
        held_back=[{"kind": "nope", "email": "a", "role": "b", "wanted_role": None}]
    ),
    "max_removals nan%": lambda d: d["desired"]["policy"].update(max_removals="nan%"),
    "max_removals inf%": lambda d: d["desired"]["policy"].update(max_removals="inf%"),
    "a role that is a list": lambda d: d["desired"]["members"].update({first_member(d): ["x"]}),
}


@pytest.mark.parametrize("edit", list(RESEALS))
def test_a_resealed_plan_with_values_roster_never_writes_is_one_line(
    emulator: Emulator, in_tmp_cwd: Path, edit: str
) -> None:
    options, env = over_http(emulator)
    export_roster(emulator, in_tmp_cwd / "roster.yaml")
    assert roster("plan", *options, "--out", "plan.json", "roster.yaml", env=env).exit_code == 0
    reseal(in_tmp_cwd / "plan.json", RESEALS[edit])
    emulator.clear_log()
    refused = roster("apply", *options, "--yes", "plan.json", env=env)
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: plan.json: not a usable roster plan file (")
    assert refused.stderr.count("\n") == 1
    assert emulator.total() == 0


def test_a_signature_that_is_not_ascii_is_refused_in_one_line(
    emulator: Emulator, in_tmp_cwd: Path
) -> None:
    options, env = over_http(emulator)
    env = {**env, "ROSTER_PLAN_KEY": PLAN_KEY}
    export_roster(emulator, in_tmp_cwd / "roster.yaml")
    assert roster("plan", *options, "--out", "plan.json", "roster.yaml", env=env).exit_code == 0
    reseal(in_tmp_cwd / "plan.json", lambda d: d.update(signature="hmac-sha256:\u00e9"))
    refused = roster("apply", *options, "--yes", "plan.json", "roster.yaml", env=env)
    assert refused.exit_code == 1
    assert "Error: plan.json: the plan's signature does not match" in refused.stderr


def test_a_signed_plan_applies_and_a_resealed_one_is_refused(
    emulator: Emulator, in_tmp_cwd: Path
) -> None:
    options, env = over_http(emulator)
    env = {**env, "ROSTER_PLAN_KEY": PLAN_KEY}
    data = export_roster(emulator, in_tmp_cwd / "roster.yaml")
    data["members"]["new.person@example.com"] = "user"
    write_roster(in_tmp_cwd / "roster.yaml", data)
    saved = roster("plan", *options, "--out", "plan.json", "roster.yaml", env=env)
    assert saved.stderr == (
        "Saved the plan to plan.json (signed with ROSTER_PLAN_KEY);"
        f" apply it with: roster apply --api-url {emulator.base} plan.json roster.yaml\n"
    )
    text = (in_tmp_cwd / "plan.json").read_text()
    assert PLAN_KEY not in text
    assert json.loads(text)["signature"].startswith("hmac-sha256:")
    (in_tmp_cwd / "signed.json").write_text(text)

    reseal(in_tmp_cwd / "plan.json", invite_evil)
    emulator.clear_log()
    forged = roster("apply", *options, "--yes", "plan.json", env=env)
    assert (forged.exit_code, forged.stderr) == (
        1,
        "Error: plan.json: the plan's signature does not match: it was changed after it was"
        " signed, or signed with another ROSTER_PLAN_KEY; nothing was applied\n",
    )
    reseal(in_tmp_cwd / "plan.json", lambda document: document.pop("signature"))
    unsigned = roster("apply", *options, "--yes", "plan.json", env=env)
    assert unsigned.exit_code == 1
    assert "Error: plan.json: the plan is not signed, and ROSTER_PLAN_KEY is set" in unsigned.stderr
    without_key = roster("apply", *options, "--yes", "signed.json", env=over_http(emulator)[1])
    assert without_key.exit_code == 1
    assert "the plan is signed, but ROSTER_PLAN_KEY is not set" in without_key.stderr
    assert emulator.total() == 0

    applied = roster("apply", *options, "--yes", "signed.json", "roster.yaml", env=env)
    assert applied.exit_code == 0, applied.stderr
    assert applied.stdout.endswith("Apply complete: 1 of 1 changes made.\n")
    assert PLAN_KEY not in applied.stdout + applied.stderr


def test_a_plan_key_too_short_to_sign_with_is_refused_before_any_request(
    emulator: Emulator, in_tmp_cwd: Path
) -> None:
    options, env = over_http(emulator)
    export_roster(emulator, in_tmp_cwd / "roster.yaml")
    emulator.clear_log()
    short = roster(
        "plan", *options, "--out", "plan.json", "roster.yaml", env={**env, "ROSTER_PLAN_KEY": "abc"}
    )
    assert (short.exit_code, short.stderr) == (
        1,
        "Error: ROSTER_PLAN_KEY is too short to sign plans with: use at least 32 random"
        " characters (for example: openssl rand -hex 32)\n",
    )
    assert emulator.total() == 0
    assert not (in_tmp_cwd / "plan.json").exists()


def test_a_saved_plan_keeps_the_exact_removal_limit_and_apply_enforces_it(in_tmp_cwd: Path) -> None:
    data = yaml.safe_load(roster("export", "--sandbox").stdout)
    del data["members"]["linus@tinyco.io"]
    del data["workspaces"]["Production"]["members"]["linus@tinyco.io"]
    data["policy"] = {"unmanaged": "remove", "max_removals": "12.4999999%"}
    path = write_roster(in_tmp_cwd / "r.yaml", data)
    assert roster("plan", "--sandbox", "--force", "--out", "p.json", path).exit_code == 0
    refused = roster("apply", "--sandbox", "--yes", "p.json", path)
    assert refused.exit_code == 3
    assert refused.stderr.endswith(
        "over policy.max_removals 12.4999999% (0); review the plan or pass --force\n"
    )
