"""The README stays true: every command is documented, every exit code explained, and the
commands it tells people to copy exist and do what it shows.
"""

from __future__ import annotations

import inspect
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from roster import errors
from roster.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")

TRY_IT = "pip install . && roster plan --sandbox examples/startup/roster.yaml"
TRY_IT_EXAMPLE = "examples/startup/roster.yaml"
RUN_TESTS = "pip install -e '.[test]' && pytest"


def walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group``, as ('emulator serve', command), groups included."""
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        here = (*path, name)
        yield " ".join(here), command
        if isinstance(command, click.Group):
            yield from walk(command, here)


COMMANDS = dict(walk(main))
LEAVES = sorted(name for name, command in COMMANDS.items() if not isinstance(command, click.Group))


def section(title: str) -> str:
    """The README's text under ``## title``, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match is not None, f"README has no '## {title}' section"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the first markdown table in ``text``, cell by cell."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[2:]]


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", README, re.M | re.S)


def test_the_walk_finds_every_command() -> None:
    assert {"validate", "plan", "apply", "export", "emulator", "emulator serve"} <= set(COMMANDS)


@pytest.mark.parametrize("name", ["", *sorted(COMMANDS)])
def test_every_command_has_help(name: str) -> None:
    command = COMMANDS[name] if name else main
    assert command.help
    assert command.help.strip()
    first_line = command.help.strip().splitlines()[0]
    assert len(first_line) > 10, f"'roster {name}' needs a helpful first line of help"


@pytest.mark.parametrize("name", ["", *sorted(COMMANDS)])
def test_every_option_has_help(name: str) -> None:
    command = COMMANDS[name] if name else main
    undocumented = [
        param.name
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert undocumented == [], f"'roster {name}' options without help"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_appears_in_the_readme(name: str) -> None:
    assert re.search(rf"`roster {re.escape(name)}[ `]", README), f"README never shows roster {name}"


def test_the_command_table_lists_exactly_the_commands() -> None:
    listed = []
    for command_cell, what in table_rows(section("Commands")):
        words = command_cell.strip("`").split()
        assert words[0] == "roster"
        listed.append(" ".join(w for w in words[1:] if re.fullmatch(r"[a-z][a-z-]*", w)))
        assert what
    assert sorted(listed) == LEAVES


def test_help_runs_for_every_command() -> None:
    for name in ["", *COMMANDS]:
        result = CliRunner().invoke(main, [*name.split(), "--help"], prog_name="roster")
        assert result.exit_code == 0, name
        assert result.stdout.startswith(f"Usage: roster {name}".rstrip() + " ")


def exit_code_table() -> dict[int, str]:
    return {int(code): meaning for code, meaning in table_rows(section("Exit codes"))}


def test_every_exit_code_is_in_the_readme() -> None:
    codes = {getattr(errors, name) for name in dir(errors) if name.startswith("EXIT_")}
    assert codes
    documented = exit_code_table()
    assert codes <= set(documented)
    assert all(documented[code] for code in codes)


def test_the_exit_code_table_explains_only_real_codes() -> None:
    codes = {getattr(errors, name) for name in dir(errors) if name.startswith("EXIT_")}
    click_usage_error = click.UsageError("x").exit_code
    assert set(exit_code_table()) == {0, click_usage_error} | codes


def test_every_error_class_exit_code_is_documented() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.RosterError)
    ]
    assert {cls.exit_code for cls in classes} <= set(exit_code_table())


@pytest.mark.parametrize("command", [TRY_IT, RUN_TESTS])
def test_the_readme_set_up_commands_are_verbatim(command: str) -> None:
    lines = [line for block in code_blocks("sh") for line in block.splitlines()]
    matching = [line for line in lines if line.endswith(command)]
    assert len(matching) == 1, f"README lost the set-up command ending in {command!r}"
    assert matching[0].startswith("python3 -m venv .venv && . .venv/bin/activate && ")


def test_the_example_the_readme_uses_exists() -> None:
    assert TRY_IT.endswith(f" {TRY_IT_EXAMPLE}")
    paths = set(re.findall(r"examples/[\w./-]+", README))
    assert TRY_IT_EXAMPLE in paths
    for path in paths:
        assert (ROOT / path.rstrip("/.")).exists(), path


def test_the_readme_shows_what_plan_really_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "--sandbox", str(ROOT / TRY_IT_EXAMPLE)])
    assert (result.exit_code, result.stderr) == (0, "")
    shown = code_blocks("text")[0]
    assert shown == result.stdout


def test_the_readme_report_is_what_following_the_readme_in_order_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COLUMNS", raising=False)
    then = code_blocks("sh")[1]  # apply, plan, export, report: what "Try it" says to run next
    first = TRY_IT.rsplit(" && ", maxsplit=1)[-1]
    steps = [first, *(line.split("#")[0] for line in then.splitlines())]
    outputs = {}
    for step in steps:
        words = shlex.split(step)
        assert words[0] == "roster", step
        arguments = [str(ROOT / w) if w.startswith("examples/") else w for w in words[1:]]
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 0, (step, result.output)
        outputs[" ".join(words)] = result.stdout
    assert "roster report --sandbox" in outputs
    shown = next(block for block in code_blocks("text") if block.startswith("$ roster report"))
    command, _, expected = shown.partition("\n")
    assert outputs[command.removeprefix("$ ")] == expected


def ci_commands() -> list[str]:
    return [
        line.strip()
        for line in CI_RUN.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def test_ci_runs_the_readme_install_command() -> None:
    # The README's command, give or take flags such as --quiet that change only the noise.
    readme_words = shlex.split(RUN_TESTS.split(" && ", maxsplit=1)[0])
    installs = [
        [word for word in shlex.split(line) if not word.startswith("--")]
        for line in ci_commands()
        if line.startswith("pip install")
    ]
    assert readme_words in installs


def test_ci_runs_pytest() -> None:
    assert any(shlex.split(line)[0] == "pytest" for line in ci_commands())


def options_of(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in param.opts}


API_OPTIONS = ("--sandbox", "--api-url", "--api-key-file", "--max-concurrency", "--max-rps")


def test_the_options_the_readme_names_exist() -> None:
    named = set(re.findall(r"`(--[a-z-]+)`", section("Commands")))
    assert set(API_OPTIONS) <= named
    for name in ("plan", "apply", "export"):
        assert set(API_OPTIONS) <= options_of(COMMANDS[name]), name
    every_option = options_of(main).union(*(options_of(c) for c in COMMANDS.values()))
    assert named <= every_option
    assert "`roster --debug ...`" in section("Commands")
    assert "--debug" in options_of(main)


def test_the_command_list_of_help_says_what_each_command_says_of_itself() -> None:
    from roster.cli import COMMANDS as SUMMARIES

    for name, (_, summary) in SUMMARIES.items():
        help_text = COMMANDS[name].help or ""
        assert summary == inspect.cleandoc(help_text).split("\n\n")[0], name


def test_help_and_version_import_no_command() -> None:
    script = (
        "import sys; from roster.cli import main\n"
        "for args in (['--help'], ['--version']):\n"
        "    try: main(args)\n"
        "    except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('roster.')))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()[-1]
    assert shown == "['roster.cli']"
