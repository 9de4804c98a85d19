"""The steps of roster's GitHub Action (action.yml): run roster, post the plan, then pass or fail.

Each step is a subcommand. It reads the action's inputs from environment variables that
action.yml sets, and writes what GitHub reads: GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and workflow
commands on stdout. Standard library only, so it runs before and after roster is installed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COMMANDS = ("validate", "plan", "apply")
# Set by the action itself for plan, so a flag cannot move the plan where later steps miss it.
ACTION_SETS = ("--format", "--out", "--detailed-exitcode")
# Options only apply takes: the plan made before applying goes without them.
APPLY_ONLY = ("--allow-archive", "--yes")
PULL_REQUEST_EVENTS = (
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "pull_request_review_comment",
)
CHANGES = 2  # roster plan --detailed-exitcode: there is something to do
DEFAULT_API_URL = "https://api.github.com"
MAX_COMMENT_PAGES = 50
HTTP_TIMEOUT_SECONDS = 30
FULL_SHA = re.compile(r"[0-9a-f]{40}")


class ActionError(Exception):
    """A wrong input or a failed request, told in one line as a GitHub error annotation."""


# --- the environment the action gives a step ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inputs:
    command: str
    paths: list[str]
    flags: list[str]
    plan_file: str
    roster: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        command = env.get("ROSTER_COMMAND", "").strip()
        if command not in COMMANDS:
            raise ActionError(f"command must be one of {', '.join(COMMANDS)}, not {command!r}")
        inputs = cls(
            command=command,
            paths=shlex.split(env.get("ROSTER_PATH", "")) or ["roster/"],
            flags=shlex.split(env.get("ROSTER_FLAGS", "")),
            plan_file=env.get("ROSTER_PLAN_FILE", "").strip() or "plan.json",
            roster=env.get("ROSTER_BIN", "").strip() or "roster",
        )
        inputs.check_flags()
        return inputs

    def check_flags(self) -> None:
        if self.command == "validate" and self.flags:
            raise ActionError("validate takes no flags: they are for plan and apply")
        for flag in self.flags:
            if flag.split("=")[0] in ACTION_SETS:
                raise ActionError(f"the action sets {flag.split('=')[0]} itself; leave it out")

    @property
    def plan_flags(self) -> list[str]:
        return [flag for flag in self.flags if flag not in APPLY_ONLY]


def event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path or not Path(path).is_file():
        return {}
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    return payload if isinstance(payload, dict) else {}


def pull_request(env: Mapping[str, str]) -> dict[str, Any] | None:
    if env.get("GITHUB_EVENT_NAME", "") not in PULL_REQUEST_EVENTS:
        return None
    found = event(env).get("pull_request")
    return found if isinstance(found, dict) else None


def fork_of(env: Mapping[str, str]) -> str | None:
    """The fork a pull request comes from, or None if this run is not for one from a fork."""
    found = pull_request(env)
    if found is None:
        return None
    head = (found.get("head") or {}).get("repo")
    if not head:
        return "a deleted fork"
    base = (found.get("base") or {}).get("repo") or event(env).get("repository") or {}
    head_name = str(head.get("full_name", ""))
    return None if head_name == base.get("full_name") else head_name


# --- what a step writes -------------------------------------------------------------------------


def set_outputs(env: Mapping[str, str], **outputs: str) -> None:
    with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as file:
        for name, value in outputs.items():
            file.write(f"{name.replace('_', '-')}={value}\n")


def add_summary(env: Mapping[str, str], markdown: str) -> None:
    with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as file:
        file.write(markdown if markdown.endswith("\n") else markdown + "\n")


def command_text(text: str) -> str:
    """``text`` made safe for a workflow command's message: it cannot start another command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def annotate(level: str, message: str) -> None:
    print(f"::{level}::{command_text(message)}")


def fenced(text: str) -> str:
    """``text`` as a code block no line of it can close early."""
    runs = [len(run) for run in re.findall(r"`{3,}", text)]
    fence = "`" * max([3, *(n + 1 for n in runs)])
    return f"{fence}text\n{text.rstrip()}\n{fence}\n"


# --- run: validate, plan or apply ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Result:
    exitcode: int
    stdout: str


def roster(inputs: Inputs, *args: str, show: bool = True) -> Result:
    """Run roster with ``args``; its stderr goes to the log, its stdout too when ``show``."""
    done = subprocess.run(  # noqa: S603 - the roster the action installed, arguments as a list
        [inputs.roster, *args], stdout=subprocess.PIPE, text=True, check=False
    )
    if show:
        sys.stdout.write(done.stdout)
        sys.stdout.flush()
    return Result(done.returncode, done.stdout)


def run(env: Mapping[str, str]) -> int:
    inputs = Inputs.from_env(env)
    warn_unless_pinned(env)
    checked = validate(inputs, env)
    if checked.exitcode != 0 or inputs.command == "validate":
        set_outputs(env, exitcode=str(checked.exitcode), skipped="false")
        return 0
    fork = fork_of(env)
    if fork is not None:
        skip(inputs, fork, env)
        return 0
    if inputs.command == "plan":
        plan(inputs, env)
    else:
        apply(inputs, env)
    return 0


def warn_unless_pinned(env: Mapping[str, str]) -> None:
    ref = env.get("ROSTER_ACTION_REF", "")
    if ref and not FULL_SHA.fullmatch(ref):
        annotate(
            "warning",
            f"roster's action is used at {ref!r}, which can move: pin it by a full commit SHA, "
            "as it runs with the organization's admin key",
        )


def validate(inputs: Inputs, env: Mapping[str, str]) -> Result:
    # Under GitHub Actions roster itself annotates each problem on its line.
    checked = roster(inputs, "validate", *inputs.paths)
    if checked.exitcode == 0:
        if inputs.command == "validate":
            add_summary(env, f"### roster validate\n\n{checked.stdout.strip()}\n")
        return checked
    # Messages quote the files: shown as text, so no name in them is read as markdown.
    problems = [located(problem) for problem in json_problems(inputs)]
    listed = fenced("\n".join(problems)) if problems else "See the log.\n"
    add_summary(env, f"### roster validate\n\n{listed}")
    return checked


def located(problem: Mapping[str, Any]) -> str:
    where = [str(problem.get(k)) for k in ("file", "line", "column") if problem.get(k) is not None]
    return f"{':'.join(where)}: {problem.get('message', '')}"


def json_problems(inputs: Inputs) -> list[dict[str, Any]]:
    listed = roster(inputs, "validate", "--format", "json", *inputs.paths, show=False)
    try:
        found = json.loads(listed.stdout)
    except json.JSONDecodeError:
        return []
    return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []


def skip(inputs: Inputs, fork: str, env: Mapping[str, str]) -> None:
    reason = (
        f"roster did not {inputs.command} this pull request: it comes from {fork}, and GitHub "
        "gives the workflows of pull requests from forks no secrets. The files are valid."
    )
    annotate("notice", reason)
    add_summary(env, f"{reason}\n")
    set_outputs(env, exitcode="0", skipped="true")


def plan(inputs: Inputs, env: Mapping[str, str]) -> None:
    markdown = Path(env["RUNNER_TEMP"]) / "roster-plan.md"
    options = ["--format", "markdown", "--out", inputs.plan_file, "--detailed-exitcode"]
    planned = roster(inputs, "plan", *inputs.paths, *options, *inputs.flags, show=False)
    markdown.write_text(planned.stdout, encoding="utf-8")
    printed = bool(planned.stdout.strip())
    if planned.exitcode == CHANGES and printed:
        # The comment may be cut to GitHub's size limit; the log keeps every line.
        roster(inputs, "show", inputs.plan_file)
    add_summary(env, planned.stdout if printed else no_plan("plan", planned.exitcode))
    set_outputs(
        env,
        exitcode=str(planned.exitcode),
        skipped="false",
        changes=str(planned.exitcode == CHANGES and printed).lower(),
        plan_file=inputs.plan_file if Path(inputs.plan_file).is_file() else "",
        plan_markdown=str(markdown) if printed else "",
    )


def apply(inputs: Inputs, env: Mapping[str, str]) -> None:
    planned = roster(inputs, "plan", *inputs.paths, "--out", inputs.plan_file, *inputs.plan_flags)
    sections = ["### roster apply\n"]
    code = planned.exitcode
    if code == 0:
        shown = roster(inputs, "show", "--format", "markdown", inputs.plan_file, show=False)
        sections.append(shown.stdout)
        # Given the roster files too, apply checks that the plan is the plan of these files.
        applied = roster(inputs, "apply", inputs.plan_file, *inputs.paths, "--yes", *inputs.flags)
        sections += ["What apply did:\n", fenced(applied.stdout)]
        code = applied.exitcode
    else:
        sections.append(fenced(planned.stdout))
    if code != 0:
        sections.append(no_plan("apply", code))
    add_summary(env, "\n".join(sections))
    plan_file = inputs.plan_file if Path(inputs.plan_file).is_file() else ""
    set_outputs(env, exitcode=str(code), skipped="false", plan_file=plan_file)


def no_plan(command: str, exitcode: int) -> str:
    return f"roster {command} failed with exit code {exitcode}: see the step's log.\n"


# --- comment: the plan on the pull request ------------------------------------------------------


def marker() -> str:
    # The one marker roster's markdown renderer starts every plan with; never a copy of it.
    from roster.render_markdown import MARKDOWN_MARKER  # noqa: PLC0415

    return MARKDOWN_MARKER


def comment(env: Mapping[str, str]) -> int:
    why_not = reason_not_to_comment(env)
    if why_not:
        print(f"No comment on the pull request: {why_not}.")
        return 0
    body = Path(env["ROSTER_PLAN_MARKDOWN"]).read_text(encoding="utf-8")
    if not body.startswith(marker()):
        annotate("warning", "roster printed no plan to post; see the log")
        return 0
    github = GitHub.from_env(env)
    number = int((pull_request(env) or {})["number"])
    done, url = github.post_sticky(number, body, marker())
    print(f"{done.capitalize()} the plan comment: {url}")
    set_outputs(env, comment=done, comment_url=url)
    return 0


def reason_not_to_comment(env: Mapping[str, str]) -> str:
    if env.get("ROSTER_COMMAND") != "plan":
        return "only plan posts one"
    if env.get("ROSTER_COMMENT", "true").strip().lower() != "true":
        return "the comment input is not true"
    if env.get("ROSTER_SKIPPED") == "true":
        return "the plan was skipped"
    if pull_request(env) is None:
        return "this run is not for a pull request"
    if not env.get("ROSTER_PLAN_MARKDOWN"):
        return "roster printed no plan"
    return ""


@dataclass(frozen=True, slots=True)
class GitHub:
    """The few calls of GitHub's REST API the sticky comment needs."""

    api: str
    repository: str
    token: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GitHub:
        api = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        if not env.get("GITHUB_TOKEN"):
            raise ActionError("no github-token to post the plan with")
        return cls(api=api, repository=env["GITHUB_REPOSITORY"], token=env["GITHUB_TOKEN"])

    def post_sticky(self, number: int, body: str, mark: str) -> tuple[str, str]:
        """Update the earlier plan comment, or add the first one: ('updated' | 'created', url)."""
        issue = f"{self.api}/repos/{self.repository}/issues"
        sticky = next((c for c in self.comments(number) if is_sticky(c, mark)), None)
        if sticky is not None:
            _, updated = self.call("PATCH", f"{issue}/comments/{sticky['id']}", {"body": body})
            return "updated", str(updated["html_url"])
        _, created = self.call("POST", f"{issue}/{number}/comments", {"body": body})
        return "created", str(created["html_url"])

    def comments(self, number: int) -> Iterator[dict[str, Any]]:
        url: str | None = (
            f"{self.api}/repos/{self.repository}/issues/{number}/comments?per_page=100"
        )
        for _ in range(MAX_COMMENT_PAGES):
            if url is None:
                return
            headers, page = self.call("GET", url)
            yield from page
            url = self.next_page(headers.get("Link", ""))

    def next_page(self, link: str) -> str | None:
        found = re.search(r'<([^>]+)>;\s*rel="next"', link)
        # The token goes to GitHub's API and nowhere else, whatever a header says.
        if found and found.group(1).startswith(f"{self.api}/"):
            return found.group(1)
        return None

    def call(self, method: str, url: str, data: object = None) -> tuple[Mapping[str, str], Any]:
        # GITHUB_API_URL: GitHub's https API, GitHub Enterprise's, or a test's loopback server.
        request = urllib.request.Request(  # noqa: S310
            url,
            data=None if data is None else json.dumps(data).encode(),
            method=method,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "User-Agent": "roster-action",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
        try:
            opened = urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS)  # noqa: S310
            with opened as response:
                return response.headers, json.load(response)
        except urllib.error.HTTPError as exc:
            raise ActionError(http_problem(method, exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ActionError(f"could not reach GitHub's API to post the plan: {reason}") from None


def is_sticky(found: Mapping[str, Any], mark: str) -> bool:
    # Only a comment an app or Actions wrote: a person's comment quoting a plan stays theirs.
    user = found.get("user") or {}
    return user.get("type") == "Bot" and str(found.get("body") or "").startswith(mark)


def http_problem(method: str, exc: urllib.error.HTTPError) -> str:
    try:
        message = str(json.load(exc).get("message", ""))
    except (ValueError, AttributeError):
        message = ""
    hint = " (the workflow needs permissions: pull-requests: write)" if exc.code == 403 else ""
    said = f": {message[:200]}" if message else ""
    return f"GitHub's API refused to post the plan ({method} {exc.code}{said}){hint}"


# --- finish: pass or fail -----------------------------------------------------------------------


def finish(env: Mapping[str, str]) -> int:
    command, code = env.get("ROSTER_COMMAND", ""), env.get("ROSTER_EXITCODE", "")
    passed = code == "0" or (
        command == "plan" and code == "2" and env.get("ROSTER_CHANGES") == "true"
    )
    if passed:
        return 0
    annotate("error", f"roster {command} failed with exit code {code or 'unknown'}; see the log")
    return 1


STEPS: dict[str, Callable[[Mapping[str, str]], int]] = {
    "run": run,
    "comment": comment,
    "finish": finish,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in STEPS:
        print(f"usage: roster_action.py {{{'|'.join(STEPS)}}}", file=sys.stderr)
        return 2
    try:
        return STEPS[argv[0]](os.environ)
    except ActionError as exc:
        annotate("error", str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
