"""The CI recipes in ``examples/ci/`` and the pre-commit hook stay true: they parse, run on the
right events, apply one at a time, keep the key out of logs, pin what they run by commit SHA,
use only inputs the action has, and every roster command line in them is one the CLI accepts,
flags and values included. The hook checks the roster directory as one whole.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from roster.cli import main

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / "examples" / "ci" / "github"
GITLAB = ROOT / "examples" / "ci" / "gitlab" / ".gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
ACTION = ROOT / "action.yml"
CI_DOC = ROOT / "docs" / "ci.md"
DUPLICATES = ROOT / "tests" / "data" / "bad" / "duplicate-across-files"
# roster's own action, as the recipes name it until you put in its repository and commit.
ROSTER_ACTION = "OWNER/roster@COMMIT_SHA"
ROSTER_REPOSITORY = "OWNER/roster"
# Third-party actions, each by the commit its release tag points to, as read from the action's
# own repository.
PINNED_ACTIONS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
}
RECIPES = [GITHUB / "roster-plan.yml", GITHUB / "roster-apply.yml", GITLAB]
KEY = "ANTHROPIC_ADMIN_KEY"
# The admin key, and the key that signs saved plans between the plan and apply steps.
SECRET_NAMES = {KEY, "ROSTER_PLAN_KEY"}
GITLAB_TOKEN = "ROSTER_GITLAB_TOKEN"
# Shell words after which a new command starts.
COMMAND_STARTS = {";", "&&", "||", "|", "(", "then", "do", "else"}
GITLAB_SCRIPTS = ("before_script", "script", "after_script")


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    return document


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as the boolean true.
    found = workflow.get("on", workflow.get(True))
    assert isinstance(found, dict)
    return found


def github_scripts(workflow: dict[str, Any]) -> Iterator[str]:
    for job in workflow["jobs"].values():
        yield from (step["run"] for step in job["steps"] if "run" in step)


def gitlab_jobs(pipeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: job for name, job in pipeline.items() if isinstance(job, dict)}


def gitlab_scripts(pipeline: dict[str, Any]) -> Iterator[str]:
    for job in gitlab_jobs(pipeline).values():
        for key in GITLAB_SCRIPTS:
            yield from job.get(key, [])


def scripts(path: Path) -> list[str]:
    document = load(path)
    found = gitlab_scripts(document) if path == GITLAB else github_scripts(document)
    return list(found)


def shell_lines(script: str) -> Iterator[str]:
    """The lines the shell runs, without here-documents (their text is another program's)."""
    heredoc = ""
    for line in script.splitlines():
        if heredoc:
            heredoc = "" if line.strip() == heredoc else heredoc
            continue
        start = re.search(r"<<-?\s*'?\"?(\w+)", line)
        heredoc = start.group(1) if start else ""
        if not line.strip().startswith("#"):
            yield line


def words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def roster_commands(script: str) -> Iterator[list[str]]:
    """Each ``roster ...`` command in a shell script, as its words after ``roster``."""
    for line in shell_lines(script):
        tokens = words(line)
        for index, token in enumerate(tokens):
            if token == "roster" and (index == 0 or tokens[index - 1] in COMMAND_STARTS):
                rest = tokens[index + 1 :]
                ends = [i for i, t in enumerate(rest) if set(t) <= set("();<>|&")]
                yield rest[: ends[0]] if ends else rest


def recipe_commands() -> list[tuple[str, list[str]]]:
    return [
        (f"{path.name}: roster {' '.join(command)}", command)
        for path in RECIPES
        for script in scripts(path)
        for command in roster_commands(script)
    ]


COMMANDS = recipe_commands()


def resolve(args: list[str]) -> tuple[click.Command, list[str]]:
    """The roster command ``args`` name, and the arguments left for it."""
    command: click.Command = main
    rest = list(args)
    while isinstance(command, click.Group):
        name = rest.pop(0)
        found = command.get_command(click.Context(command), name)
        assert found is not None, f"roster has no command {name!r}"
        command = found
    return command, rest


def option_names(command: click.Command) -> set[str]:
    return {name for param in command.params for name in param.opts if name.startswith("-")}


# --- parsing and triggers ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [*RECIPES, HOOKS], ids=lambda p: p.name)
def test_every_recipe_parses(path: Path) -> None:
    assert yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_plan_workflow_runs_on_pull_requests_touching_the_roster_files() -> None:
    workflow = load(GITHUB / "roster-plan.yml")
    assert set(triggers(workflow)) == {"pull_request"}
    assert "roster/**" in triggers(workflow)["pull_request"]["paths"]
    assert workflow["permissions"]["pull-requests"] == "write"


def test_the_apply_workflow_runs_on_main_one_at_a_time() -> None:
    workflow = load(GITHUB / "roster-apply.yml")
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert "roster/**" in triggers(workflow)["push"]["paths"]
    assert workflow["concurrency"] == {"group": "roster-apply", "cancel-in-progress": False}


def test_gitlab_plans_merge_requests_and_applies_one_at_a_time_on_the_default_branch() -> None:
    jobs = gitlab_jobs(load(GITLAB))
    plan_rule, apply_rule = jobs["roster-plan"]["rules"][0], jobs["roster-apply"]["rules"][0]
    assert plan_rule["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in apply_rule["if"]
    assert jobs["roster-apply"]["resource_group"] == "roster-apply"
    assert "resource_group" not in jobs["roster-plan"]


def steps_using(workflow: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").split("@")[0] == action
    ]


@pytest.mark.parametrize(
    ("name", "command"), [("roster-plan.yml", "plan"), ("roster-apply.yml", "apply")]
)
def test_the_github_recipes_run_roster_through_the_action(name: str, command: str) -> None:
    workflow = load(GITHUB / name)
    (step,) = steps_using(workflow, ROSTER_REPOSITORY)
    assert step["uses"] == ROSTER_ACTION
    assert step["with"] == {"command": command, "path": "roster/"}
    inputs = yaml.safe_load(ACTION.read_text(encoding="utf-8"))["inputs"]
    assert set(step["with"]) <= set(inputs)
    assert list(github_scripts(workflow)) == [], "the action runs roster; the recipe only calls it"


def test_the_plan_jobs_post_the_sticky_comment_and_keep_the_saved_plan() -> None:
    workflow = load(GITHUB / "roster-plan.yml")
    (roster,) = steps_using(workflow, ROSTER_REPOSITORY)
    inputs = yaml.safe_load(ACTION.read_text(encoding="utf-8"))["inputs"]
    assert inputs["comment"]["default"] == "true"
    (upload,) = steps_using(workflow, "actions/upload-artifact")
    assert upload["with"]["path"] == "plan.json"
    assert upload["if"] == f"always() && steps.{roster['id']}.outputs.skipped != 'true'"
    gitlab_plan = gitlab_jobs(load(GITLAB))["roster-plan"]
    # The marker is roster's own, imported from the roster the job installed.
    script = "\n".join(gitlab_plan["script"])
    assert "from roster.render_markdown import MARKDOWN_MARKER as marker" in script
    assert gitlab_plan["artifacts"]["paths"] == ["plan.json"]


# --- pinning ----------------------------------------------------------------------------------


def uses_lines(path: Path) -> list[str]:
    return re.findall(r"^\s*(?:- )?uses: (.*)$", path.read_text(encoding="utf-8"), re.M)


@pytest.mark.parametrize("name", ["roster-plan.yml", "roster-apply.yml"])
def test_every_action_the_recipes_use_is_pinned_by_a_full_commit_sha(name: str) -> None:
    for line in uses_lines(GITHUB / name):
        if line == ROSTER_ACTION:
            continue
        action, rest = line.split("@", 1)
        sha, tag = PINNED_ACTIONS[action]
        assert rest == f"{sha} # {tag}", f"{name}: {line}"


def test_the_docs_say_how_to_fill_in_rosters_own_pin() -> None:
    doc = CI_DOC.read_text(encoding="utf-8")
    assert "## Pinning" in doc
    assert "OWNER/roster@COMMIT_SHA" in doc
    assert "ROSTER_COMMIT" in doc


def test_gitlab_installs_the_reviewed_commit_from_the_repository_with_the_pins() -> None:
    pipeline = load(GITLAB)
    assert pipeline["variables"]["ROSTER_COMMIT"] == "COMMIT_SHA"
    setup = pipeline[".roster"]["before_script"]
    assert 'test "$(git -C /tmp/roster-source rev-parse HEAD)" = "$ROSTER_COMMIT"' in setup
    install = "bash /tmp/roster-source/.ci/install-roster /tmp/roster-source /tmp/roster-venv"
    assert install in setup
    assert not any("pip install" in line for line in gitlab_scripts(pipeline))


# --- the roster commands in them -------------------------------------------------------------

# The GitHub recipes leave the commands to the action, whose runs tests/test_action.py checks.
EXPECTED = {
    (".gitlab-ci.yml", "validate roster/"),
    (".gitlab-ci.yml", "plan roster/ --format markdown --out plan.json --detailed-exitcode"),
    (".gitlab-ci.yml", "plan roster/ --out plan.json"),
    (".gitlab-ci.yml", "apply plan.json roster/ --yes"),
}


def test_the_recipes_validate_plan_save_and_apply_the_saved_plan() -> None:
    found = {(label.split(":")[0], " ".join(command)) for label, command in COMMANDS}
    assert found >= EXPECTED


@pytest.mark.parametrize(("label", "command"), COMMANDS, ids=[label for label, _ in COMMANDS])
def test_every_roster_command_in_the_recipes_exists_with_its_flags(
    label: str, command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found, arguments = resolve(command)
    flags = {word.split("=")[0] for word in arguments if word.startswith("-")}
    assert flags <= option_names(found), f"{label}: unknown {sorted(flags - option_names(found))}"
    # Parse as the CLI would, in a checkout-like directory, so choices and arguments are checked.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "roster").mkdir()
    (tmp_path / "plan.json").write_text("{}", encoding="utf-8")
    found.make_context(f"roster {found.name}", arguments)


# --- the key stays out of logs ----------------------------------------------------------------


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


@pytest.mark.parametrize("name", ["roster-plan.yml", "roster-apply.yml"])
def test_github_passes_the_key_only_from_secrets_through_env(name: str) -> None:
    workflow = load(GITHUB / name)
    mentions = [(p, v) for p, v in leaves(workflow) if isinstance(v, str) and "secrets." in v]
    assert mentions
    for path, value in mentions:
        assert path[-2] == "env", path
        assert path[-1] in SECRET_NAMES, path
        assert value == f"${{{{ secrets.{path[-1]} }}}}"


def test_gitlab_takes_the_secrets_from_project_variables() -> None:
    pipeline = load(GITLAB)
    defined = [pipeline.get("variables", {})] + [
        job.get("variables", {}) for job in gitlab_jobs(pipeline).values()
    ]
    assert all(KEY not in variables and GITLAB_TOKEN not in variables for variables in defined)
    assert all("CI_DEBUG_TRACE" not in variables for variables in defined)
    token_uses = re.findall(rf".*{GITLAB_TOKEN}.*", "\n".join(gitlab_scripts(pipeline)))
    assert [use.strip() for use in token_uses] == [
        f'"PRIVATE-TOKEN": os.environ["{GITLAB_TOKEN}"],'
    ]


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.name)
def test_no_script_prints_a_secret_or_traces_commands(path: Path) -> None:
    for script in scripts(path):
        assert KEY not in script
        assert not re.search(r"\bset\s+-\w*x", script), script
        assert "xtrace" not in script
        for line in shell_lines(script):
            printed = re.search(r"\b(echo|printf)\b.*", line)
            assert not printed or not re.search(r"KEY|TOKEN|secrets", printed.group()), line


# --- the pre-commit hook ----------------------------------------------------------------------


def hook() -> dict[str, Any]:
    (found,) = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(found, dict)
    return found


def test_the_pre_commit_hook_validates_the_roster_directory_as_one_whole() -> None:
    found = hook()
    assert found["id"] == "roster-validate"
    assert found["language"] == "python"
    # Never the changed files alone, and never split across runs: pre-commit passes no file
    # names and runs the hook once.
    assert (found["pass_filenames"], found["require_serial"]) == (False, True)
    program, *command = shlex.split(found["entry"])
    assert program == "roster"
    validate, arguments = resolve([*command, *found["args"]])
    assert (validate.name, arguments) == ("validate", ["roster/"])
    files = re.compile(found["files"])
    assert all(files.search(p) for p in ["roster/team.yaml", "roster/research/models.yml"])
    assert not any(files.search(p) for p in ["README.md", "roster/notes.txt", "x/roster/a.yaml"])


def run_hook(repository: Path, filenames: list[str]) -> subprocess.CompletedProcess[str]:
    """The hook's command as pre-commit runs it: entry, args, then file names if it passes any."""
    found = hook()
    program, *entry = shlex.split(found["entry"])
    roster = Path(sys.executable).parent / program
    passed = filenames if found["pass_filenames"] else []
    return subprocess.run(
        [str(roster), *entry, *found["args"], *passed],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_hook_refuses_one_email_in_two_files(tmp_path: Path) -> None:
    (tmp_path / "roster").mkdir()
    for source in sorted(DUPLICATES.iterdir()):
        (tmp_path / "roster" / source.name).write_bytes(source.read_bytes())
    # A commit that changes only the second file: the first one is still checked.
    done = run_hook(tmp_path, ["roster/b-research.yaml"])
    assert done.returncode == 1
    assert done.stderr == (
        "Error: roster/b-research.yaml:4:3: BOB@acme.com is listed twice; first at "
        "roster/a-platform.yaml:3 as bob@acme.com (emails ignore case)\n"
    )


def test_each_file_alone_passes_which_is_why_the_hook_checks_the_directory(tmp_path: Path) -> None:
    for source in sorted(DUPLICATES.iterdir()):
        (tmp_path / source.name).write_bytes(source.read_bytes())
        alone = subprocess.run(
            [str(Path(sys.executable).parent / "roster"), "validate", source.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert alone.returncode == 0, alone.stderr


def test_the_hook_passes_a_sound_directory(tmp_path: Path) -> None:
    (tmp_path / "roster").mkdir()
    (tmp_path / "roster" / "team.yaml").write_text("members:\n  ada@tinyco.io: user\n")
    done = run_hook(tmp_path, ["roster/team.yaml"])
    assert (done.returncode, done.stderr) == (0, "")


def test_the_docs_pin_the_hook_by_a_commit_sha_not_a_missing_tag() -> None:
    for text in (HOOKS.read_text(encoding="utf-8"), CI_DOC.read_text(encoding="utf-8")):
        assert "rev: v0.1.0" not in text
        assert "rev: <full 40-character commit SHA>" in text


# --- the monthly list of idle seats -----------------------------------------------------------

IDLE_GITHUB = GITHUB / "roster-idle-seats.yml"
IDLE_GITLAB = GITLAB.parent / "roster-idle-seats.yml"
IDLE_RECIPES = [IDLE_GITHUB, IDLE_GITLAB]
IDLE_COMMAND = ["activity", "--idle", "--format", "markdown"]
# What roster activity's markdown starts with, and the label that, with it, names the one issue.
ACTIVITY_MARKER = "<!-- roster-activity -->"
IDLE_LABEL = "roster-idle-seats"
IDLE_TITLE = "Idle seats to review"
IDLE_REPORT = (
    f"{ACTIVITY_MARKER}\n### Idle seats\n\n| email | role | last active |\n|---|---|---|\n"
    "| ada@tinyco.io | user | never |\n"
)
ADMIN_KEY = "sk-ant-admin01-idle-seats-test"
GITHUB_TOKEN = "ghs_idleseatstesttoken00"
GITLAB_TOKEN_VALUE = "glpat-idle-seats-test"
PEOPLE = "tinyco/people"
RUN_URL = f"https://github.com/{PEOPLE}/actions/runs/42"
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
# GitHub's default shell for a `run:` step on Linux.
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="the fake gh runs --jq with jq")


def idle_scripts(path: Path) -> list[str]:
    document = load(path)
    return list(
        gitlab_scripts(document) if path.parent.name == "gitlab" else github_scripts(document)
    )


def idle_job() -> dict[str, Any]:
    return load(IDLE_GITLAB)["roster-idle-seats"]


def is_monthly(cron: str) -> bool:
    """Once a month: a fixed minute, hour and day of the month that every month has."""
    minute, hour, day, month, weekday = cron.split()
    fixed = all(field.isdigit() for field in (minute, hour, day))
    return fixed and 1 <= int(day) <= 28 and (month, weekday) == ("*", "*")


@pytest.mark.parametrize("path", IDLE_RECIPES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_idle_seat_recipes_parse(path: Path) -> None:
    assert load(path)


def test_the_idle_seats_workflow_runs_monthly_and_on_demand() -> None:
    on = triggers(load(IDLE_GITHUB))
    assert set(on) == {"schedule", "workflow_dispatch"}
    (schedule,) = on["schedule"]
    assert is_monthly(schedule["cron"]), schedule
    assert not is_monthly("17 6 * * 1")
    assert not is_monthly("17 6 31 * *")


def test_the_idle_seats_workflow_reads_the_code_and_writes_issues_and_nothing_else() -> None:
    workflow = load(IDLE_GITHUB)
    assert workflow["permissions"] == {"contents": "read", "issues": "write"}
    assert all("permissions" not in job for job in workflow["jobs"].values())
    # One run at a time: a run by hand and a scheduled one cannot both open an issue.
    assert workflow["concurrency"] == {"group": "roster-idle-seats", "cancel-in-progress": False}


def test_the_idle_seats_workflow_installs_the_pinned_roster_through_the_action() -> None:
    workflow = load(IDLE_GITHUB)
    (step,) = steps_using(workflow, ROSTER_REPOSITORY)
    assert step["uses"] == ROSTER_ACTION
    # validate is offline: the action installs roster and puts it on PATH, without the key.
    assert step["with"] == {"command": "validate", "path": "roster/"}
    assert "env" not in step
    inputs = yaml.safe_load(ACTION.read_text(encoding="utf-8"))["inputs"]
    assert set(step["with"]) <= set(inputs)
    for line in uses_lines(IDLE_GITHUB):
        if line != ROSTER_ACTION:
            action, rest = line.split("@", 1)
            sha, tag = PINNED_ACTIONS[action]
            assert rest == f"{sha} # {tag}", line


@pytest.mark.parametrize("path", IDLE_RECIPES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_idle_seat_recipes_run_roster_activity_idle_as_markdown(path: Path) -> None:
    commands = [command for script in idle_scripts(path) for command in roster_commands(script)]
    assert commands == [IDLE_COMMAND]


IDLE_COMMANDS = [
    (f"{path.parent.name}/{path.name}: roster {' '.join(command)}", command)
    for path in IDLE_RECIPES
    for script in idle_scripts(path)
    for command in roster_commands(script)
]


@pytest.mark.parametrize(
    ("label", "command"), IDLE_COMMANDS, ids=[label for label, _ in IDLE_COMMANDS]
)
def test_every_roster_command_in_the_idle_seat_recipes_exists_with_its_flags(
    label: str, command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    test_every_roster_command_in_the_recipes_exists_with_its_flags(
        label, command, tmp_path, monkeypatch
    )


def test_the_idle_seats_workflow_gives_the_key_to_the_roster_step_only() -> None:
    (job,) = load(IDLE_GITHUB)["jobs"].values()
    mentions = [(p, v) for p, v in leaves(job) if isinstance(v, str) and "secrets." in v]
    assert [(p[-2:], v) for p, v in mentions] == [(("env", KEY), f"${{{{ secrets.{KEY} }}}}")]
    (roster_step,) = [s for s in job["steps"] if "roster activity" in s.get("run", "")]
    assert roster_step["env"] == {KEY: f"${{{{ secrets.{KEY} }}}}"}
    (issue_step,) = [s for s in job["steps"] if "gh issue" in s.get("run", "")]
    assert issue_step["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert KEY not in issue_step["env"]


@pytest.mark.parametrize("path", IDLE_RECIPES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_idle_seat_script_prints_a_secret_or_traces_commands(path: Path) -> None:
    for script in idle_scripts(path):
        assert KEY not in script
        assert not re.search(r"\bset\s+-\w*x", script), script
        assert "xtrace" not in script
        for line in shell_lines(script):
            printed = re.search(r"\b(echo|printf)\b.*", line)
            assert not printed or not re.search(r"KEY|TOKEN|secrets", printed.group()), line


def test_the_gitlab_idle_seats_job_runs_on_schedules_only_with_the_pinned_install() -> None:
    job, pipeline = idle_job(), load(GITLAB)
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert job["extends"] == ".roster"
    assert job["stage"] in pipeline["stages"]
    assert job["resource_group"] == "roster-idle-seats"
    # The plan and apply jobs never run on a schedule, so a scheduled pipeline is this job alone.
    rules = [
        rule["if"] for other in gitlab_jobs(pipeline).values() for rule in other.get("rules", [])
    ]
    assert rules
    assert not any("schedule" in rule for rule in rules)


def test_the_gitlab_idle_seats_job_takes_its_secrets_from_project_variables() -> None:
    job = idle_job()
    assert "variables" not in job
    script = "\n".join(job["script"])
    # The token is read in one place, the header that sends it to GitLab's API.
    reads = [line.strip() for line in script.splitlines() if f'environ["{GITLAB_TOKEN}"]' in line]
    assert reads == [f'"PRIVATE-TOKEN": os.environ["{GITLAB_TOKEN}"],']
    assert "CI_DEBUG_TRACE" not in script


# The fake gh: records each call (and the body file it is given), serves the issues and labels
# of a state folder filtered as GitHub would, and runs --jq with jq, as gh runs it with gojq.
FAKE_GH = """
import json, os, subprocess, sys
from pathlib import Path

state, args = Path(os.environ["FAKE_GH_STATE"]), sys.argv[1:]
def option(name):
    return args[args.index(name) + 1] if name in args else None
body = option("--body-file")
call = {
    "args": args,
    "body": Path(body).read_text(encoding="utf-8") if body else None,
    "env": sorted(k for k in ("ANTHROPIC_ADMIN_KEY", "GH_REPO", "GH_TOKEN") if k in os.environ),
}
with open(state / "calls.jsonl", "a", encoding="utf-8") as log:
    log.write(json.dumps(call) + "\\n")
def listed(name, keep):
    rows = [row for row in json.loads((state / name).read_text()) if keep(row)]
    fields = option("--json").split(",")
    data = json.dumps([{f: row[f] for f in fields} for row in rows])
    done = subprocess.run(["jq", "-r", option("--jq")], input=data, capture_output=True,
                          text=True, check=True)
    sys.stdout.write(done.stdout)
if args[:2] == ["issue", "list"]:
    listed("issues.json", lambda row: option("--label") in row["labels"]
           and row["state"] == option("--state"))
elif args[:2] == ["label", "list"]:
    listed("labels.json", lambda row: True)
elif args[:2] in (["issue", "create"], ["issue", "edit"], ["label", "create"]):
    print("https://github.com/tinyco/people/issues/1")
else:
    sys.exit(f"fake gh: unexpected {args}")
"""

# The fake roster: the one command the recipes run, only with the key, printing FAKE_REPORT.
FAKE_ROSTER = """#!/bin/sh
[ "$*" = "activity --idle --format markdown" ] || { echo "fake roster: $*" >&2; exit 2; }
[ -n "$ANTHROPIC_ADMIN_KEY" ] || { echo "fake roster: no key" >&2; exit 1; }
[ -z "$FAKE_ROSTER_FAILS" ] || { echo "Error: the API could not be reached" >&2; exit 1; }
cat "$FAKE_REPORT"
"""


def fake_tools(home: Path, report: str) -> dict[str, str]:
    """A folder with the fake gh and roster, and the environment they read."""
    tools = home / "bin"
    tools.mkdir()
    (tools / "gh").write_text(f"#!{sys.executable}\n{FAKE_GH}", encoding="utf-8")
    (tools / "roster").write_text(FAKE_ROSTER, encoding="utf-8")
    for tool in tools.iterdir():
        tool.chmod(0o755)
    (home / "report.md").write_text(report, encoding="utf-8")
    return {
        "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "FAKE_REPORT": str(home / "report.md"),
    }


def gh_issue(number: int, body: str = IDLE_REPORT, **rest: Any) -> dict[str, Any]:
    found = {
        "number": number,
        "author": {"is_bot": True, "login": "app/github-actions"},
        "body": body,
        "labels": [IDLE_LABEL],
        "state": "open",
    }
    return {**found, **rest}


@dataclass
class IdleRun:
    failed_step: str | None
    log: str
    calls: list[dict[str, Any]]
    summary: str

    def commands(self) -> list[list[str]]:
        return [call["args"][:2] for call in self.calls]

    def only(self, command: list[str]) -> dict[str, Any]:
        (found,) = [call for call in self.calls if call["args"][:2] == command]
        return found


@dataclass
class IdleWorkflow:
    """The idle-seats job's shell steps run in order, as a runner would, with the fakes."""

    home: Path
    issues: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    report: str = IDLE_REPORT
    roster_fails: bool = False

    def run(self) -> IdleRun:
        state, temp, summary = self.home / "gh", self.home / "runner-temp", self.home / "summary.md"
        for folder in (state, temp):
            folder.mkdir()
        (state / "issues.json").write_text(json.dumps(self.issues), encoding="utf-8")
        labels = [{"name": name} for name in self.labels]
        (state / "labels.json").write_text(json.dumps(labels), encoding="utf-8")
        summary.write_text("", encoding="utf-8")
        base = {
            **fake_tools(self.home, self.report),
            "FAKE_GH_STATE": str(state),
            "RUNNER_TEMP": str(temp),
            "GITHUB_STEP_SUMMARY": str(summary),
            **({"FAKE_ROSTER_FAILS": "1"} if self.roster_fails else {}),
        }
        failed, log = self.steps(base)
        calls_file = state / "calls.jsonl"
        calls = calls_file.read_text(encoding="utf-8").splitlines() if calls_file.exists() else []
        return IdleRun(failed, log, [json.loads(c) for c in calls], summary.read_text("utf-8"))

    def steps(self, base: dict[str, str]) -> tuple[str | None, str]:
        (job,) = load(IDLE_GITHUB)["jobs"].values()
        log = []
        for step in (step for step in job["steps"] if "run" in step):
            env = {**base, **{k: expand(str(v)) for k, v in step.get("env", {}).items()}}
            script = self.home / "step.sh"
            script.write_text(step["run"], encoding="utf-8")
            done = subprocess.run(
                [*BASH, str(script)], env=env, capture_output=True, text=True, check=False
            )
            log.append(done.stdout + done.stderr)
            if done.returncode != 0:
                return step["name"], "".join(log)
        return None, "".join(log)


def expand(text: str) -> str:
    contexts = {
        f"secrets.{KEY}": ADMIN_KEY,
        "github.token": GITHUB_TOKEN,
        "github.repository": PEOPLE,
        "github.server_url": "https://github.com",
        "github.run_id": "42",
    }
    return EXPRESSION.sub(lambda match: contexts[match.group(1)], text)


def footer_follows_the_report(body: str) -> bool:
    return body.startswith(IDLE_REPORT) and "To remove a seat, ask the person first" in body


@needs_jq
def test_the_first_run_makes_the_label_and_opens_the_issue(tmp_path: Path) -> None:
    # Closed last month: a new one is opened, not the old one reopened.
    run = IdleWorkflow(tmp_path, issues=[gh_issue(5, state="closed")]).run()
    assert run.failed_step is None, run.log
    assert run.commands() == [
        ["issue", "list"],
        ["label", "list"],
        ["label", "create"],
        ["issue", "create"],
    ]
    created = run.only(["issue", "create"])
    args = created["args"]
    assert args[args.index("--title") + 1] == IDLE_TITLE
    assert args[args.index("--label") + 1] == IDLE_LABEL
    assert footer_follows_the_report(created["body"])
    assert run.only(["label", "create"])["args"][2] == IDLE_LABEL
    assert run.summary == IDLE_REPORT
    # gh gets the repository's token and never the admin key.
    assert all(call["env"] == ["GH_REPO", "GH_TOKEN"] for call in run.calls)


@needs_jq
def test_a_label_that_exists_is_not_made_again(tmp_path: Path) -> None:
    run = IdleWorkflow(tmp_path, labels=["bug", "Roster-Idle-Seats"]).run()
    assert run.failed_step is None, run.log
    assert run.commands() == [["issue", "list"], ["label", "list"], ["issue", "create"]]


@needs_jq
def test_the_open_issue_is_edited_not_opened_again(tmp_path: Path) -> None:
    run = IdleWorkflow(tmp_path, issues=[gh_issue(12)], labels=[IDLE_LABEL]).run()
    assert run.failed_step is None, run.log
    assert run.commands() == [["issue", "list"], ["issue", "edit"]]
    edited = run.only(["issue", "edit"])
    assert edited["args"][:3] == ["issue", "edit", "12"]
    assert footer_follows_the_report(edited["body"])


@needs_jq
def test_only_the_oldest_issue_a_bot_opened_with_the_list_is_edited(tmp_path: Path) -> None:
    issues = [
        gh_issue(15),
        gh_issue(12),
        # A person's issue that quotes the list, and another bot's issue with the label.
        gh_issue(3, author={"is_bot": False, "login": "ada", "id": "U_1", "name": "Ada"}),
        gh_issue(2, body="Dependencies to update"),
    ]
    run = IdleWorkflow(tmp_path, issues=issues, labels=[IDLE_LABEL]).run()
    assert run.failed_step is None, run.log
    assert run.commands() == [["issue", "list"], ["issue", "edit"]]
    assert run.only(["issue", "edit"])["args"][2] == "12"


@needs_jq
def test_issues_that_are_not_the_list_leave_it_to_a_new_one(tmp_path: Path) -> None:
    issues = [
        gh_issue(3, author={"is_bot": False, "login": "ada", "id": "U_1", "name": "Ada"}),
        gh_issue(2, body="Dependencies to update"),
        gh_issue(1, labels=["bug"]),
    ]
    run = IdleWorkflow(tmp_path, issues=issues, labels=[IDLE_LABEL]).run()
    assert run.commands() == [["issue", "list"], ["label", "list"], ["issue", "create"]]


def test_a_failed_report_touches_no_issue(tmp_path: Path) -> None:
    run = IdleWorkflow(tmp_path, issues=[gh_issue(12)], roster_fails=True).run()
    assert run.failed_step == "List idle seats"
    assert "Error: the API could not be reached" in run.log
    assert run.calls == []


def test_output_that_is_not_the_list_is_not_posted(tmp_path: Path) -> None:
    run = IdleWorkflow(tmp_path, issues=[gh_issue(12)], report="").run()
    assert run.failed_step == "Open or update the issue"
    assert "::error::roster printed no list of idle seats to post" in run.log
    assert run.calls == []


@needs_jq
def test_a_list_too_long_for_an_issue_is_cut_at_a_line_and_says_where_the_rest_is(
    tmp_path: Path,
) -> None:
    rows = "".join(f"| person{n:05}@tinyco.io | user | never |\n" for n in range(5000))
    report = IDLE_REPORT + rows
    run = IdleWorkflow(tmp_path, issues=[gh_issue(12)], report=report).run()
    assert run.failed_step is None, run.log
    body = run.only(["issue", "edit"])["body"]
    assert len(body) <= 65536 < len(report)
    kept, note = body.split("\n\n_The list is cut to fit an issue", 1)
    assert report.startswith(kept + "\n")
    assert RUN_URL in note
    assert run.summary == report


# --- GitLab's issues API, as far as the idle-seats job uses it --------------------------------


@dataclass
class FakeGitLab:
    """One project's issues: listed by label and state, oldest first, edited and added."""

    issues: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    tokens: list[str | None] = field(default_factory=list)
    url: str = ""

    def handle(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        self.requests.append((method, path, body))
        issues = "/api/v4/projects/7/issues"
        where, _, query = path.partition("?")
        if method == "GET" and where == "/api/v4/user":
            return 200, {"id": ROSTER_BOT}
        if method == "GET" and where == issues:
            return 200, self.listed(dict(urllib.parse.parse_qsl(query)))
        if method == "POST" and where == issues:
            issue = {"iid": len(self.issues) + 1, "state": "opened", "author": {"id": ROSTER_BOT}}
            self.issues.append({**issue, **(body or {})})
            return 201, {"web_url": f"https://gitlab.example/{PEOPLE}/-/issues/1"}
        if method == "PUT" and where.startswith(f"{issues}/"):
            return 200, {"web_url": f"https://gitlab.example/{PEOPLE}/-/issues/{where[-1]}"}
        return 404, {"message": "404 Not found"}

    def listed(self, query: dict[str, str]) -> list[dict[str, Any]]:
        assert (query["order_by"], query["sort"]) == ("created_at", "asc")
        return sorted(
            (
                issue
                for issue in self.issues
                if query["labels"] in issue["labels"].split(",")
                and issue["state"] == query["state"]
            ),
            key=lambda issue: issue["iid"],
        )


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    fake = FakeGitLab()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer()

        def do_POST(self) -> None:
            self.answer()

        def do_PUT(self) -> None:
            self.answer()

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.tokens.append(self.headers.get("PRIVATE-TOKEN"))
            status, data = fake.handle(self.command, self.path, body)
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
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


def run_gitlab_idle_job(
    home: Path, gitlab: FakeGitLab, report: str = IDLE_REPORT
) -> subprocess.CompletedProcess[str]:
    """The job's script as the runner runs it (each line in turn, stopping at a failure)."""
    script = home / "script.sh"
    script.write_text("\n".join(idle_job()["script"]), encoding="utf-8")
    env = {
        **fake_tools(home, report),
        # GitLab hands every masked variable to the whole job.
        KEY: ADMIN_KEY,
        GITLAB_TOKEN: GITLAB_TOKEN_VALUE,
        "CI_API_V4_URL": f"{gitlab.url}/api/v4",
        "CI_PROJECT_ID": "7",
    }
    return subprocess.run(
        ["bash", "-e", str(script)], cwd=home, env=env, capture_output=True, text=True, check=False
    )


# The id of the user the job's token belongs to.
ROSTER_BOT = 42


def gl_issue(iid: int, description: str = IDLE_REPORT, **rest: Any) -> dict[str, Any]:
    mine = {"author": {"id": ROSTER_BOT}}
    return {"iid": iid, "description": description, "labels": IDLE_LABEL, "state": "opened",
            **mine, **rest}  # fmt: skip


def test_gitlab_opens_one_confidential_labelled_issue_when_none_is_open(
    tmp_path: Path, gitlab: FakeGitLab
) -> None:
    gitlab.issues = [gl_issue(1, state="closed")]
    done = run_gitlab_idle_job(tmp_path, gitlab)
    assert done.returncode == 0, done.stderr
    (me, listing, (method, path, body)) = gitlab.requests
    assert me[:2] == ("GET", "/api/v4/user")
    assert listing[:2] == (
        "GET",
        "/api/v4/projects/7/issues?labels=roster-idle-seats&state=opened"
        "&order_by=created_at&sort=asc&per_page=100",
    )
    assert (method, path) == ("POST", "/api/v4/projects/7/issues")
    assert body is not None
    assert (body["title"], body["labels"], body["confidential"]) == (IDLE_TITLE, IDLE_LABEL, True)
    assert footer_follows_the_report(body["description"])
    assert gitlab.tokens == [GITLAB_TOKEN_VALUE] * 3
    assert "Opened the issue: https://gitlab.example/" in done.stdout


def test_gitlab_edits_the_oldest_open_issue_with_the_list(
    tmp_path: Path, gitlab: FakeGitLab
) -> None:
    gitlab.issues = [
        gl_issue(1, author={"id": 7}),  # a person's, with roster's list pasted in: left alone
        gl_issue(2, description="Who should we ask about the idle seats?"),
        gl_issue(4),
        gl_issue(6),
        gl_issue(8, labels="bug"),
    ]
    done = run_gitlab_idle_job(tmp_path, gitlab)
    assert done.returncode == 0, done.stderr
    assert [(m, p.split("?")[0]) for m, p, _ in gitlab.requests] == [
        ("GET", "/api/v4/user"),
        ("GET", "/api/v4/projects/7/issues"),
        ("PUT", "/api/v4/projects/7/issues/4"),
    ]
    body = gitlab.requests[2][2]
    assert body is not None
    assert (set(body), body["confidential"]) == ({"description", "confidential"}, True)
    assert footer_follows_the_report(body["description"])


def test_gitlab_posts_nothing_when_roster_printed_no_list(
    tmp_path: Path, gitlab: FakeGitLab
) -> None:
    done = run_gitlab_idle_job(tmp_path, gitlab, report="")
    assert done.returncode != 0
    assert "roster printed no list of idle seats to post" in done.stderr
    assert gitlab.requests == []


def test_the_docs_say_how_to_install_the_idle_seats_recipes() -> None:
    doc = CI_DOC.read_text(encoding="utf-8")
    section = doc.split("## Idle seats, monthly", 1)[1].split("\n## ", 1)[0]
    schedule = triggers(load(IDLE_GITHUB))["schedule"][0]["cron"]
    for needed in (
        "examples/ci/github/roster-idle-seats.yml",
        "examples/ci/gitlab/roster-idle-seats.yml",
        "roster activity --idle --format markdown",
        f"`{schedule}`",
        "issues: write",
        "`api`",
        GITLAB_TOKEN,
        IDLE_LABEL,
        "a question for a person, not a verdict",
    ):
        assert needed in section, needed


def test_roster_activity_starts_with_the_marker_the_recipes_look_for(tmp_path: Path) -> None:
    (job,) = load(IDLE_GITHUB)["jobs"].values()
    (issue_step,) = [s for s in job["steps"] if "gh issue" in s.get("run", "")]
    assert issue_step["env"]["REPORT_MARKER"] == ACTIVITY_MARKER
    assert f'"{ACTIVITY_MARKER}"' in "\n".join(idle_job()["script"])
    # The sandbox keeps its organization in the working directory.
    done = subprocess.run(
        [str(Path(sys.executable).parent / "roster"), *IDLE_COMMAND, "--sandbox"],
        cwd=tmp_path,
        env={**os.environ, "ROSTER_QUIET": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{ACTIVITY_MARKER}\n")
