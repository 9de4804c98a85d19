"""The GitHub Action in action.yml, run step by step as a runner would: each step's shell script
with the env it declares, a fake GITHUB_* environment (event, output, summary and path files),
roster against --sandbox, and GitHub's API played by a small server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from roster.render_markdown import MARKDOWN_MARKER

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STARTUP = ROOT / "examples" / "startup" / "roster.yaml"
DUPLICATES = ROOT / "tests" / "data" / "bad" / "duplicate-across-files"
REPOSITORY = "tinyco/people"
TOKEN = "ghs_actiontesttoken0000"
SHA = "3d3c42e5aac5ba805825da76410c181273ba90b1"
# GitHub's default shell for `shell: bash`.
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


# --- GitHub's API, as far as the sticky comment uses it -----------------------------------------


@dataclass
class FakeGitHub:
    """Issue comments of one pull request, served in pages of ``page_size``."""

    comments: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    page_size: int = 2
    refuse: int = 0
    url: str = ""

    def handle(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any, str]:
        self.requests.append((method, path, body))
        if self.refuse:
            return self.refuse, {"message": "Resource not accessible by integration"}, ""
        comments = rf"/repos/{REPOSITORY}/issues/7/comments\?per_page=100(&page=\d+)?"
        listing = re.fullmatch(comments, path)
        if method == "GET" and listing:
            return self.page(int((listing.group(1) or "&page=1").split("=")[1]))
        if method == "POST" and path == f"/repos/{REPOSITORY}/issues/7/comments":
            return 201, self.add(body or {}), ""
        edit = re.fullmatch(rf"/repos/{REPOSITORY}/issues/comments/(\d+)", path)
        if method == "PATCH" and edit:
            found = next(c for c in self.comments if c["id"] == int(edit.group(1)))
            found["body"] = (body or {})["body"]
            return 200, found, ""
        return 404, {"message": "Not Found"}, ""

    def page(self, number: int) -> tuple[int, Any, str]:
        start = (number - 1) * self.page_size
        link = ""
        if start + self.page_size < len(self.comments):
            query = f"per_page=100&page={number + 1}"
            link = f'<{self.url}/repos/{REPOSITORY}/issues/7/comments?{query}>; rel="next"'
        return 200, self.comments[start : start + self.page_size], link

    def add(self, body: dict[str, Any], user_type: str = "Bot") -> dict[str, Any]:
        number = 100 + len(self.comments)
        created = {
            "id": number,
            "body": body["body"],
            "user": {"login": "github-actions[bot]", "type": user_type},
            "html_url": f"https://github.com/{REPOSITORY}/pull/7#issuecomment-{number}",
        }
        self.comments.append(created)
        return created


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer()

        def do_POST(self) -> None:
            self.answer()

        def do_PATCH(self) -> None:
            self.answer()

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.headers.append(dict(self.headers))
            status, data, link = fake.handle(self.command, self.path, body)
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


# --- a runner for a composite action ------------------------------------------------------------


@dataclass
class Run:
    outputs: dict[str, str]
    steps: dict[str, dict[str, str]]
    summary: str
    log: str
    failed_step: str | None
    path_added: list[str]


def parse_output_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT's two forms: name=value, and name<<DELIMITER ... DELIMITER."""
    found: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            found[name] = "\n".join(iter(lambda: next(lines), delimiter))
        elif line:
            name, value = line.split("=", 1)
            found[name] = value
    return found


class Runner:
    """Runs action.yml's steps in order, as GitHub does for a composite action."""

    def __init__(self, home: Path, event_name: str, payload: dict[str, Any], api: str) -> None:
        self.home = home
        self.workspace = home / "workspace"
        self.temp = home / "runner-temp"
        for folder in (self.workspace, self.temp):
            folder.mkdir(parents=True, exist_ok=True)
        self.files = {name: home / name for name in ("summary.md", "path.txt", "event.json")}
        for name in ("summary.md", "path.txt"):
            self.files[name].write_text("", encoding="utf-8")
        self.files["event.json"].write_text(json.dumps(payload), encoding="utf-8")
        self.event_name = event_name
        self.api = api

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
        return {
            **keep,
            "ROSTER_QUIET": "1",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTION_PATH": str(ROOT),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_EVENT_PATH": str(self.files["event.json"]),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_API_URL": self.api,
            "GITHUB_STEP_SUMMARY": str(self.files["summary.md"]),
            "GITHUB_PATH": str(self.files["path.txt"]),
            "RUNNER_TEMP": str(self.temp),
        }

    def run(self, inputs: dict[str, str], secrets: dict[str, str] | None = None) -> Run:
        defaults = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
        given = {name: self.expand(value, {}) for name, value in defaults.items()}
        unknown = set(inputs) - set(given)
        assert not unknown, f"action.yml has no input {sorted(unknown)}"
        given.update(inputs)
        steps: dict[str, dict[str, str]] = {}
        contexts = {"inputs": given, "steps": steps}
        log: list[str] = []
        failed = None
        for step in ACTION["runs"]["steps"]:
            assert "if" not in step, "the runner here runs every step; decide in the scripts"
            outputs, code, text = self.step(step, contexts, secrets or {})
            steps[step["id"]] = outputs
            log.append(text)
            if code != 0:
                failed = step["id"]
                break
        action_outputs = {
            name: self.expand(spec["value"], contexts) for name, spec in ACTION["outputs"].items()
        }
        return Run(
            outputs=action_outputs,
            steps=steps,
            summary=self.files["summary.md"].read_text(encoding="utf-8"),
            log="".join(log),
            failed_step=failed,
            path_added=self.files["path.txt"].read_text(encoding="utf-8").splitlines(),
        )

    def step(
        self, step: dict[str, Any], contexts: dict[str, Any], secrets: dict[str, str]
    ) -> tuple[dict[str, str], int, str]:
        if step["id"] == "install":
            return self.installed(), 0, ""
        assert step["shell"] == "bash"
        output = self.home / f"output-{step['id']}.txt"
        output.write_text("", encoding="utf-8")
        env = {**self.env(), **secrets, "GITHUB_OUTPUT": str(output)}
        env.update({k: self.expand(str(v), contexts) for k, v in step.get("env", {}).items()})
        script = self.home / f"{step['id']}.sh"
        script.write_text(step["run"], encoding="utf-8")
        done = subprocess.run(
            [*BASH, str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        outputs = parse_output_file(output.read_text(encoding="utf-8"))
        return outputs, done.returncode, done.stdout + done.stderr

    def installed(self) -> dict[str, str]:
        # The pinned install needs the package index; it is run for real by .ci/run. Here the
        # roster under test stands in for it, as the install step's outputs name it.
        roster = shutil.which("roster", path=str(Path(sys.executable).parent))
        assert roster is not None
        return {"python": sys.executable, "roster": roster}

    def expand(self, text: str, contexts: dict[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            github = {"token": TOKEN, "action_ref": SHA}
            if name.startswith("github."):
                return github[name.removeprefix("github.")]
            parts = name.split(".")
            if parts[0] == "inputs":
                return str(contexts["inputs"][parts[1]])
            if parts[0] == "steps" and parts[2] == "outputs":
                return contexts["steps"].get(parts[1], {}).get(parts[3], "")
            raise AssertionError(f"the runner here cannot evaluate ${{{{ {name} }}}}")

        return EXPRESSION.sub(value, text)


def pull_request_event(head: str | None = REPOSITORY) -> dict[str, Any]:
    return {
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"repo": None if head is None else {"full_name": head}},
            "base": {"repo": {"full_name": REPOSITORY}},
        },
        "repository": {"full_name": REPOSITORY},
    }


@pytest.fixture
def runner(tmp_path: Path, github: FakeGitHub) -> Runner:
    made = Runner(tmp_path, "pull_request", pull_request_event(), github.url)
    (made.workspace / "roster").mkdir()
    shutil.copy(STARTUP, made.workspace / "roster" / "roster.yaml")
    return made


def fork(runner: Runner, head: str | None) -> Runner:
    runner.files["event.json"].write_text(json.dumps(pull_request_event(head)), encoding="utf-8")
    return runner


def plan_markdown(runner: Runner) -> str:
    """What roster plan --format markdown prints for the runner's files, run directly."""
    done = subprocess.run(
        ["roster", "plan", "roster/", "--sandbox", "--format", "markdown"],
        cwd=runner.workspace,
        env={**os.environ, "ROSTER_QUIET": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


SANDBOX = {"flags": "--sandbox"}


# --- plan on a pull request ---------------------------------------------------------------------


def test_plan_posts_the_plan_as_a_new_comment_and_writes_it_to_the_summary(
    runner: Runner, github: FakeGitHub
) -> None:
    run = runner.run(SANDBOX)
    expected = plan_markdown(runner)
    assert run.failed_step is None, run.log
    assert run.outputs == {
        "exitcode": "2",
        "skipped": "false",
        "changes": "true",
        "plan-file": "plan.json",
        "comment": "created",
        "comment-url": f"https://github.com/{REPOSITORY}/pull/7#issuecomment-100",
    }
    assert run.summary == expected
    assert expected.startswith(MARKDOWN_MARKER)
    assert [(m, p) for m, p, _ in github.requests] == [
        ("GET", f"/repos/{REPOSITORY}/issues/7/comments?per_page=100"),
        ("POST", f"/repos/{REPOSITORY}/issues/7/comments"),
    ]
    assert github.requests[1][2] == {"body": expected}
    assert {h["Authorization"] for h in github.headers} == {f"Bearer {TOKEN}"}
    saved = json.loads((runner.workspace / "plan.json").read_text(encoding="utf-8"))
    assert saved["plan"]["summary"]["invite"] == 2
    assert TOKEN not in run.log


def test_plan_updates_the_bots_earlier_comment_found_by_the_marker_on_a_later_page(
    runner: Runner, github: FakeGitHub
) -> None:
    github.add({"body": "Looks good to me"}, user_type="User")
    github.add({"body": f"{MARKDOWN_MARKER}\nquoted by a person"}, user_type="User")
    github.add({"body": "CI is green"})
    github.add({"body": f"{MARKDOWN_MARKER}\n## roster plan, an older push"})
    run = runner.run(SANDBOX)
    expected = plan_markdown(runner)
    assert (run.outputs["comment"], run.outputs["comment-url"]) == (
        "updated",
        f"https://github.com/{REPOSITORY}/pull/7#issuecomment-103",
    )
    assert [(m, p) for m, p, _ in github.requests] == [
        ("GET", f"/repos/{REPOSITORY}/issues/7/comments?per_page=100"),
        ("GET", f"/repos/{REPOSITORY}/issues/7/comments?per_page=100&page=2"),
        ("PATCH", f"/repos/{REPOSITORY}/issues/comments/103"),
    ]
    assert [c["body"] for c in github.comments] == [
        "Looks good to me",
        f"{MARKDOWN_MARKER}\nquoted by a person",
        "CI is green",
        expected,
    ]


def test_a_second_run_updates_the_comment_the_first_one_made(
    runner: Runner, github: FakeGitHub
) -> None:
    first, second = runner.run(SANDBOX), runner.run(SANDBOX)
    assert (first.outputs["comment"], second.outputs["comment"]) == ("created", "updated")
    assert len(github.comments) == 1
    assert first.outputs["comment-url"] == second.outputs["comment-url"]


def test_a_plan_with_only_a_manual_action_left_passes_and_updates_the_comment(
    runner: Runner, github: FakeGitHub
) -> None:
    runner.run(SANDBOX)
    runner.run({"command": "apply", **SANDBOX})
    run = runner.run(SANDBOX)
    assert (run.outputs["exitcode"], run.outputs["changes"], run.failed_step) == ("2", "true", None)
    # Only the manual action is left: the Console must grant admin.
    assert "Manual" in run.summary
    assert run.outputs["comment"] == "updated"


def test_no_comment_when_turned_off(runner: Runner, github: FakeGitHub) -> None:
    run = runner.run({**SANDBOX, "comment": "false"})
    assert (run.outputs["comment"], run.outputs["exitcode"]) == ("", "2")
    assert github.requests == []
    assert "No comment on the pull request: the comment input is not true." in run.log


def test_a_refused_comment_fails_the_action_without_showing_the_token(
    runner: Runner, github: FakeGitHub
) -> None:
    github.refuse = 403
    run = runner.run(SANDBOX)
    assert run.failed_step == "comment"
    assert (
        "::error::GitHub's API refused to post the plan (GET 403: Resource not accessible by "
        "integration) (the workflow needs permissions: pull-requests: write)"
    ) in run.log
    assert TOKEN not in run.log


def test_a_plan_refused_by_a_safety_guard_is_posted_then_fails(
    runner: Runner, github: FakeGitHub
) -> None:
    (runner.workspace / "roster" / "roster.yaml").write_text(
        "policy:\n  unmanaged: remove\n  max_removals: 1\nmembers:\n  ada@tinyco.io: admin\n",
        encoding="utf-8",
    )
    run = runner.run(SANDBOX)
    assert (run.outputs["exitcode"], run.outputs["comment"], run.failed_step) == (
        "3",
        "created",
        "finish",
    )
    assert "::error::roster plan failed with exit code 3; see the log" in run.log
    assert github.comments[0]["body"].startswith(MARKDOWN_MARKER)


# --- forks --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "named"), [("someone/people", "someone/people"), (None, "a deleted fork")]
)
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_pull_request_from_a_fork_is_validated_then_skipped_not_failed(
    runner: Runner, github: FakeGitHub, command: str, head: str | None, named: str
) -> None:
    run = fork(runner, head).run({"command": command, **SANDBOX})
    reason = (
        f"roster did not {command} this pull request: it comes from {named}, and GitHub gives "
        "the workflows of pull requests from forks no secrets. The files are valid."
    )
    assert run.failed_step is None, run.log
    assert run.outputs == {
        "exitcode": "0",
        "skipped": "true",
        "changes": "",
        "plan-file": "",
        "comment": "",
        "comment-url": "",
    }
    assert run.summary == reason + "\n"
    assert f"::notice::{reason}" in run.log
    assert github.requests == []
    # Nothing read the organization: the sandbox was never created.
    assert not (runner.workspace / ".roster-sandbox.json").exists()


def test_broken_files_from_a_fork_still_fail(runner: Runner, github: FakeGitHub) -> None:
    target = runner.workspace / "roster"
    shutil.rmtree(target)
    shutil.copytree(DUPLICATES, target)
    run = fork(runner, "someone/people").run(SANDBOX)
    assert (run.outputs["exitcode"], run.outputs["skipped"], run.failed_step) == (
        "1",
        "false",
        "finish",
    )


# --- validate -----------------------------------------------------------------------------------


def test_validate_annotates_each_problem_and_fails(runner: Runner, github: FakeGitHub) -> None:
    target = runner.workspace / "roster"
    shutil.rmtree(target)
    shutil.copytree(DUPLICATES, target)
    run = runner.run({"command": "validate"})
    message = (
        "BOB@acme.com is listed twice; first at roster/a-platform.yaml:3 as bob@acme.com "
        "(emails ignore case)"
    )
    assert run.failed_step == "finish"
    assert run.outputs["exitcode"] == "1"
    # roster annotates the line itself; the action adds no second annotation.
    assert run.log.count(f"::error file=roster/b-research.yaml,line=4,col=3::{message}\n") == 1
    assert run.summary == (
        f"### roster validate\n\n```text\nroster/b-research.yaml:4:3: {message}\n```\n"
    )
    assert github.requests == []


def test_validate_passes_valid_files_offline(runner: Runner, github: FakeGitHub) -> None:
    run = runner.run({"command": "validate"})
    assert run.failed_step is None, run.log
    assert run.outputs["exitcode"] == "0"
    assert run.summary == (
        "### roster validate\n\nValid: 1 file, 10 members (policy.unmanaged: remove).\n"
    )
    assert not (runner.workspace / ".roster-sandbox.json").exists()
    assert github.requests == []


# --- apply on a push ----------------------------------------------------------------------------


def test_apply_plans_then_applies_that_plan_and_converges(
    tmp_path: Path, github: FakeGitHub
) -> None:
    runner = Runner(tmp_path, "push", {"ref": "refs/heads/main"}, github.url)
    (runner.workspace / "roster").mkdir()
    shutil.copy(STARTUP, runner.workspace / "roster" / "roster.yaml")
    run = runner.run({"command": "apply", **SANDBOX})
    assert run.failed_step is None, run.log
    assert run.outputs == {
        "exitcode": "0",
        "skipped": "false",
        "changes": "",
        "plan-file": "plan.json",
        "comment": "",
        "comment-url": "",
    }
    shown = subprocess.run(
        ["roster", "show", "--format", "markdown", "plan.json"],
        cwd=runner.workspace,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.summary.startswith(
        f"### roster apply\n\n{shown.stdout}\nWhat apply did:\n\n```text\n"
    )
    assert "Apply complete: 13 of 13 changes made." in run.summary
    assert run.summary.endswith("\n```\n")
    assert github.requests == []
    # After apply, a second plan has only the manual action left.
    again = runner.run({"command": "plan", **SANDBOX})
    assert "No changes to apply. 1 manual action left for the Console (above)." in again.log


def test_apply_only_flags_go_to_apply_alone(tmp_path: Path, github: FakeGitHub) -> None:
    runner = Runner(tmp_path, "push", {}, github.url)
    (runner.workspace / "roster").mkdir()
    shutil.copy(STARTUP, runner.workspace / "roster" / "roster.yaml")
    run = runner.run({"command": "apply", "flags": "--sandbox --allow-archive --max-rps 50"})
    assert (run.failed_step, run.outputs["exitcode"]) == (None, "0"), run.log


# --- inputs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "error"),
    [
        ({"command": "destroy"}, "command must be one of validate, plan, apply, not 'destroy'"),
        ({"flags": "--sandbox --out elsewhere.json"}, "the action sets --out itself; leave it out"),
        ({"flags": "--format=json"}, "the action sets --format itself; leave it out"),
        ({"command": "validate", "flags": "--sandbox"}, "validate takes no flags"),
    ],
)
def test_a_wrong_input_fails_in_one_line_before_roster_runs(
    runner: Runner, github: FakeGitHub, inputs: dict[str, str], error: str
) -> None:
    run = runner.run(inputs)
    assert run.failed_step == "run"
    assert f"::error::{error}" in run.log
    assert github.requests == []


def test_a_ref_that_can_move_is_warned_about(runner: Runner, github: FakeGitHub) -> None:
    step = next(s for s in ACTION["runs"]["steps"] if s["id"] == "run")
    assert step["env"]["ROSTER_ACTION_REF"] == "${{ github.action_ref }}"
    env = {**runner.env(), "ROSTER_COMMAND": "validate", "ROSTER_ACTION_REF": "main"}
    env["GITHUB_OUTPUT"] = str(runner.home / "output.txt")
    done = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "roster_action.py"), "run"],
        cwd=runner.workspace,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.startswith(
        "::warning::roster's action is used at 'main', which can move: pin it by a full commit SHA"
    )


# --- action.yml itself --------------------------------------------------------------------------


def test_the_action_is_composite_and_its_scripts_take_inputs_only_through_env() -> None:
    assert ACTION["runs"]["using"] == "composite"
    for step in ACTION["runs"]["steps"]:
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], f"{step['id']}: pass inputs through env"


def test_every_input_is_documented_and_used() -> None:
    steps_text = yaml.safe_dump(ACTION["runs"]["steps"])
    for name, spec in ACTION["inputs"].items():
        assert spec["description"].strip(), name
        assert f"inputs.{name}" in steps_text, f"input {name} is never used"
    assert set(ACTION["inputs"]) == {
        "command",
        "path",
        "flags",
        "plan-file",
        "comment",
        "github-token",
        "python",
    }


def test_the_action_installs_roster_from_its_own_checkout_with_the_pins() -> None:
    install = next(s for s in ACTION["runs"]["steps"] if s["id"] == "install")
    first = install["run"].splitlines()[0]
    assert first == (
        'bash "$GITHUB_ACTION_PATH/.ci/install-roster" "$GITHUB_ACTION_PATH" '
        '"$RUNNER_TEMP/roster-venv" "$ROSTER_PYTHON"'
    )
    script = (ROOT / ".ci" / "install-roster").read_text(encoding="utf-8")
    assert '--no-deps --only-binary=:all: --requirement "$constraints"' in script
    assert '--no-deps --no-build-isolation "$source_dir"' in script
    assert '"${pip[@]}" check' in script


def test_the_output_file_parser_reads_both_forms() -> None:
    text = "a=1\nb<<EOF\nline one\nline=two\nEOF\nc=x=y\n"
    assert parse_output_file(text) == {"a": "1", "b": "line one\nline=two", "c": "x=y"}
