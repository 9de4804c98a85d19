"""The CI recipes in ``examples/ci/`` and the pre-commit hook stay true: they parse, run on the
right events, apply one at a time, keep the key out of logs, pin what they run by commit SHA,
use only inputs the action has, and every roster command line in them is one the CLI accepts,
flags and values included. The hook checks the roster directory as one whole.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
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
