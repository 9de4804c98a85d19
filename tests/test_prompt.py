"""roster on a real terminal: apply's typed confirmation, and colour, in a pseudo-terminal.

Each test runs ``python -m roster`` with a pty as its stdin, stdout and stderr, in an empty
directory (so a fresh ``--sandbox``), and reads what a person would see. Every wait is bounded.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from roster.cli import main

ROOT = Path(__file__).resolve().parents[1]
STARTUP = ROOT / "examples" / "startup" / "roster.yaml"
GOLDEN = Path(__file__).parent / "data" / "golden" / "cli"
PLAN = (GOLDEN / "plan-startup.txt").read_text(encoding="utf-8")
PLAN_AFTER_APPLY = (GOLDEN / "plan-startup-after-apply.txt").read_text(encoding="utf-8")
QUESTION = "\nroster will make the changes above. Only 'yes' is accepted to go on.\nApply?: "
CANCELLED = "Apply cancelled; nothing was changed.\n"
TIMEOUT = 10.0


@dataclass
class Terminal:
    """A roster process on the slave side of a pty; ``transcript`` is all it has shown so far."""

    process: subprocess.Popen[bytes]
    master: int
    transcript: str = ""

    def read_until(self, text: str, timeout: float = TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.transcript:
            if not self._read(deadline - time.monotonic()):
                raise AssertionError(f"never saw {text!r}; the terminal shows:\n{self.transcript}")
        return self.transcript

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def finish(self, timeout: float = TIMEOUT) -> int:
        """Reads until the process closes the terminal; returns its exit code."""
        deadline = time.monotonic() + timeout
        while self._read(deadline - time.monotonic()):
            pass
        return self.process.wait(timeout=max(deadline - time.monotonic(), 0.1))

    def _read(self, timeout: float) -> bool:
        """Reads what is there within ``timeout``; False at end of output or on timeout."""
        if timeout <= 0:
            return False
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: every writer closed the slave side
            return False
        self.transcript += chunk.decode().replace("\r\n", "\n")
        return bool(chunk)


Start = Callable[..., Terminal]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"ANTHROPIC_ADMIN_KEY", "NO_COLOR"}}
    env.pop("ROSTER_API_URL", None)
    return {**env, "TERM": "xterm", **extra}


@pytest.fixture
def run_in_terminal(tmp_path: Path) -> Iterator[Start]:
    started: list[Terminal] = []

    def start(*args: str, **env: str) -> Terminal:
        master, slave = pty.openpty()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "roster", *args],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=tmp_path,
                env=child_env(**env),
                start_new_session=True,
            )
        finally:
            os.close(slave)
        terminal = Terminal(process, master)
        started.append(terminal)
        return terminal

    yield start
    for terminal in started:
        if terminal.process.poll() is None:
            terminal.process.kill()
        terminal.process.wait(timeout=TIMEOUT)
        os.close(terminal.master)


def sandbox_plan(directory: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """What `roster plan --sandbox` says now about the sandbox in ``directory``."""
    monkeypatch.chdir(directory)
    result = CliRunner().invoke(main, ["plan", "--sandbox", str(STARTUP)])
    assert (result.exit_code, result.stderr) == (0, "")
    return result.stdout


def apply_in_terminal(start: Start) -> Terminal:
    terminal = start("apply", "--sandbox", str(STARTUP), NO_COLOR="1")
    terminal.read_until(QUESTION)
    return terminal


@pytest.mark.parametrize(
    ("keys", "echoed"),
    [
        pytest.param("no\n", "no\n", id="no"),
        pytest.param("\n", "\n", id="empty"),
        pytest.param("Yes\n", "Yes\n", id="capitalised"),
        pytest.param("y\n", "y\n", id="y"),
    ],
)
def test_anything_but_yes_cancels(
    run_in_terminal: Start,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keys: str,
    echoed: str,
) -> None:
    terminal = apply_in_terminal(run_in_terminal)
    terminal.type(keys)
    assert terminal.finish() == 1
    assert terminal.transcript == PLAN + QUESTION + echoed + CANCELLED
    assert sandbox_plan(tmp_path, monkeypatch) == PLAN


def test_end_of_input_cancels(
    run_in_terminal: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = apply_in_terminal(run_in_terminal)
    terminal.type("\x04")  # Ctrl-D on an empty line: end of input
    assert terminal.finish() == 1
    assert terminal.transcript.startswith(PLAN + QUESTION)
    answer = terminal.transcript.removeprefix(PLAN + QUESTION)
    assert answer.removeprefix("^D") == "\n" + CANCELLED  # some terminals echo the ^D
    assert sandbox_plan(tmp_path, monkeypatch) == PLAN


def test_yes_applies(
    run_in_terminal: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = apply_in_terminal(run_in_terminal)
    terminal.type("yes\n")
    assert terminal.finish() == 0
    assert terminal.transcript.startswith(PLAN + QUESTION + "yes\n")
    after_answer = terminal.transcript.removeprefix(PLAN + QUESTION + "yes\n").splitlines()
    # Progress (stderr) and the summary (stdout) share the terminal: each change, then a summary.
    changes = [line for line in PLAN.splitlines() if re.match(r"  [+~-] ", line)]
    assert sorted(after_answer[:-1]) == sorted(f"{line}: done" for line in changes)
    assert after_answer[-1] == (
        f"Apply complete: {len(changes)} of {len(changes)} changes made."
        " 1 manual action left for the Console."
    )
    assert sandbox_plan(tmp_path, monkeypatch) == PLAN_AFTER_APPLY


def test_a_terminal_gets_colour(run_in_terminal: Start) -> None:
    terminal = run_in_terminal("plan", "--sandbox", str(STARTUP))
    assert terminal.finish() == 0
    golden = GOLDEN / "plan-startup.color.txt"
    if os.environ.get("ROSTER_REGEN_GOLDEN") == "1":
        golden.write_text(terminal.transcript, encoding="utf-8")
    assert terminal.transcript == golden.read_text(encoding="utf-8")
    assert "\x1b[" in terminal.transcript
    assert terminal.transcript != PLAN


def test_no_color_turns_colour_off_on_a_terminal(run_in_terminal: Start) -> None:
    terminal = run_in_terminal("plan", "--sandbox", str(STARTUP), NO_COLOR="1")
    assert terminal.finish() == 0
    assert terminal.transcript == PLAN
