"""The conventions people reach for: options from the environment, colour switches, tables as
wide as the terminal (or whole when written to a file), and shell completion. Exact output.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result

from roster.cli import terminal
from tests.support import run_cli

EXAMPLE = Path(__file__).parent.parent / "examples" / "startup" / "roster.yaml"
LONG_EMAIL = "a.very.long.name.for.a.person.who.joined.recently@subsidiary.tinyco.io"


def roster(*args: object, **env: str) -> Result:
    return run_cli(args, env=env, secrets=[])


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ANTHROPIC_ADMIN_KEY", "ROSTER_API_URL", "NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


# --- options from the environment ------------------------------------------------------------


def test_an_option_comes_from_roster_and_its_long_name() -> None:
    from_flag = roster("plan", "--sandbox", "--format", "json", EXAMPLE)
    from_env = roster("plan", EXAMPLE, ROSTER_SANDBOX="1", ROSTER_PLAN_FORMAT="json")
    assert from_env.exit_code == from_flag.exit_code == 0
    assert json.loads(from_env.stdout) == json.loads(from_flag.stdout)


def test_a_flag_on_the_command_line_wins_over_the_environment() -> None:
    result = roster("plan", "--sandbox", "--format", "text", EXAMPLE, ROSTER_PLAN_FORMAT="json")
    assert result.stdout.startswith("Organization: Tinyco")


def test_help_names_each_variable() -> None:
    shown = " ".join(roster("plan", "--help").stdout.split())  # as if click wrapped nothing
    assert "[env var: ROSTER_PLAN_FORMAT; default: text]" in shown
    assert "[env var: ROSTER_MAX_RPS; x>=0.1]" in shown
    assert "[env var: ROSTER_PLAN_OUT]" in shown
    assert "[env var: ROSTER_PLAN_DETAILED_EXITCODE]" in shown
    members = " ".join(roster("members", "--help").stdout.split())
    assert "[env var: ROSTER_MEMBERS_FORMAT; default: table]" in members
    assert "[env var: ROSTER_MAX_RPS; x>=0.1]" in members
    assert "[env var: ROSTER_DEBUG]" in " ".join(roster("--help").stdout.split())


def test_each_command_reads_its_own_variables() -> None:
    Path("roster.yaml").write_text(EXAMPLE.read_text())
    # A format for plan leaves validate alone, and an export file leaves schema's alone.
    env = {"ROSTER_PLAN_FORMAT": "markdown", "ROSTER_EXPORT_OUTPUT": "roster.yaml"}
    assert roster("validate", "roster.yaml", **env).stdout.startswith("Valid: 1 file")
    schema = roster("schema", **env)
    assert (schema.exit_code, schema.stderr) == (0, "")
    assert json.loads(schema.stdout)["title"] == "roster file"
    assert Path("roster.yaml").read_text() == EXAMPLE.read_text()


def test_a_wrong_value_from_the_environment_is_a_usage_error_naming_it() -> None:
    result = roster("plan", "--sandbox", EXAMPLE, ROSTER_MAX_RPS="fast")
    assert result.exit_code == 2
    assert "Invalid value for '--max-rps' (env var: 'ROSTER_MAX_RPS')" in result.stderr


def test_no_guard_is_lifted_from_the_environment() -> None:
    # Without a terminal and without --yes, apply refuses: ROSTER_YES is not read.
    result = roster("apply", "--sandbox", EXAMPLE, ROSTER_YES="1", ROSTER_FORCE="1")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: apply needs a typed 'yes'")
    helped = roster("apply", "--help").stdout
    assert "ROSTER_YES" not in helped
    assert "ROSTER_FORCE" not in helped
    assert "ROSTER_ALLOW_ARCHIVE" not in helped


# --- colour ------------------------------------------------------------------------------------


def test_force_color_colours_a_plan_that_is_not_on_a_terminal() -> None:
    plain = roster("plan", "--sandbox", EXAMPLE).stdout
    forced = roster("plan", "--sandbox", EXAMPLE, FORCE_COLOR="1").stdout
    assert "\x1b[" not in plain
    assert "\x1b[1mOrganization: Tinyco" in forced


def test_no_color_wins_over_force_color() -> None:
    both = roster("plan", "--sandbox", EXAMPLE, FORCE_COLOR="1", NO_COLOR="1").stdout
    assert "\x1b[" not in both


# --- table width -------------------------------------------------------------------------------


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_width_is_columns_then_the_terminal_then_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert terminal.table_width() is None
    monkeypatch.setattr(sys, "stdout", FakeTerminal())
    monkeypatch.setattr(terminal.shutil, "get_terminal_size", lambda: os.terminal_size((132, 40)))
    assert terminal.table_width() == 132
    monkeypatch.setenv("COLUMNS", "100")
    assert terminal.table_width() == 100
    monkeypatch.setenv("COLUMNS", "12")
    assert terminal.table_width() == terminal.MIN_WIDTH
    monkeypatch.setenv("COLUMNS", "wide")
    assert terminal.table_width() == 132


def with_long_member() -> None:
    text = EXAMPLE.read_text().replace("members:\n", f"members:\n  {LONG_EMAIL}: user\n", 1)
    Path("roster.yaml").write_text(text)
    assert roster("apply", "--sandbox", "--yes", "roster.yaml").exit_code == 0


def test_members_written_to_a_file_keep_every_cell_whole() -> None:
    with_long_member()
    result = roster("members", "--sandbox")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if LONG_EMAIL in line)
    assert line.split() == [LONG_EMAIL, "user", "pending", line.split()[-1]]
    assert "…" not in result.stdout


def test_members_are_cut_to_columns() -> None:
    with_long_member()
    result = roster("members", "--sandbox", COLUMNS="60")
    assert "…" in result.stdout
    assert LONG_EMAIL not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 60


# --- shell completion ----------------------------------------------------------------------------


def complete(shell: str, words: str, cword: int) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "from roster.cli import main; main(prog_name='roster')"],
        env={
            **os.environ,
            "_ROSTER_COMPLETE": f"{shell}_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_bash_completes_commands_options_and_choices() -> None:
    assert complete("bash", "roster pl", 1) == "plain,plan\n"
    assert complete("bash", "roster plan --for", 2) == "plain,--format\nplain,--force\n"
    choices = "plain,text\nplain,json\nplain,markdown\n"
    assert complete("bash", "roster plan --format ", 3) == choices
    assert complete("bash", "roster members --role ", 3).splitlines()[0] == "plain,admin"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_completion_script(shell: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from roster.cli import main; main(prog_name='roster')"],
        env={**os.environ, "_ROSTER_COMPLETE": f"{shell}_source"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "_roster_completion" in result.stdout
    assert f"_ROSTER_COMPLETE={shell}_complete" in result.stdout
