"""roster on a real terminal: apply's typed confirmation, Ctrl-C, and colour, in a pseudo-terminal.

Each test runs ``python -m roster`` with a pty as its stdin, stdout and stderr and as its
controlling terminal (so that typing Ctrl-C sends SIGINT), in an empty directory (so a fresh
``--sandbox``), and reads what a person would see. The Ctrl-C tests run against the sample
organization served over HTTP, whose latency keeps changes in flight and whose request log shows
what was written. Every wait is bounded.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from roster.cli import main
from roster.emulator.app import create_app
from roster.emulator.sample import sample_store
from roster.emulator.server import running_server
from roster.emulator.store import Store
from tests.support import KEY

ROOT = Path(__file__).resolve().parents[1]
STARTUP = ROOT / "examples" / "startup" / "roster.yaml"
GOLDEN = Path(__file__).parent / "data" / "golden" / "cli"
PLAN = (GOLDEN / "plan-startup.txt").read_text(encoding="utf-8")
PLAN_AFTER_APPLY = (GOLDEN / "plan-startup-after-apply.txt").read_text(encoding="utf-8")
QUESTION = "\nroster will make the changes above. Only 'yes' is accepted to go on.\nApply?: "
CANCELLED = "Apply cancelled; nothing was changed.\n"
CTRL_C_CANCELLED = "Apply cancelled by Ctrl-C; nothing was changed.\n"
TIMEOUT = 10.0
# The child makes the pty its controlling terminal, then becomes roster.
IN_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0);"
    " os.execv(sys.executable, [sys.executable, '-m', 'roster', *sys.argv[1:]])"
)


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
        echo_control_characters(slave)
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", IN_TERMINAL, *args],
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


def echo_control_characters(tty: int) -> None:
    """Ctrl-C sends SIGINT and shows as ^C, as on most terminals, whatever this one's defaults."""
    attributes = termios.tcgetattr(tty)
    attributes[3] |= termios.ISIG | termios.ECHO | termios.ECHOCTL
    termios.tcsetattr(tty, termios.TCSANOW, attributes)


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


# Ctrl-C, against the sample organization served over HTTP.

CHANGES = [line for line in PLAN.splitlines() if re.match(r"  [+~-] ", line)]
STOPPING = (
    "Stopping: 1 change in flight finishes first (up to 30 s); Ctrl-C again to stop at once.\n"
)
HALTING = (
    "Stopping now: the outcome of the 1 change in flight is unknown;"
    " the next `roster plan` will show the truth.\n"
)
CUT = (
    "OUTCOME UNKNOWN: stopped at once, before it finished;"
    " the next plan will show whether it was made"
)
LEFT = "`roster plan` shows what is left to do; `roster apply` again does only that.\n"


@dataclass
class Served:
    """The sample organization (the sandbox's) served over HTTP, and its control endpoints."""

    base: str
    store: Store

    def control(self, method: str, name: str, body: object = None) -> object:
        response = httpx.request(method, f"{self.base}/_emulator/{name}", json=body, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def requests(self) -> list[tuple[str, str]]:
        log = self.control("GET", "requests")
        assert isinstance(log, dict)
        return [(r["method"], r["path"]) for r in log["requests"]]

    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path in self.requests() if method != "GET"]

    def pending_role(self, email: str) -> str | None:
        invite = self.store.pending_invite_for(email)
        return None if invite is None else invite.role


@pytest.fixture
def served() -> Iterator[Served]:
    store = sample_store()
    with running_server(create_app(store)) as base:
        yield Served(base, store)


def apply_over_http(start: Start, served: Served, *, latency_ms: float) -> Terminal:
    """`roster apply` one change at a time, at the question; then every request is slow."""
    terminal = start(
        "apply",
        str(STARTUP),
        "--api-url",
        served.base,
        "--max-concurrency",
        "1",
        NO_COLOR="1",
        ANTHROPIC_ADMIN_KEY=KEY.reveal(),
    )
    terminal.read_until(QUESTION)
    served.control("POST", "config", {"latency_ms": latency_ms})
    served.control("DELETE", "requests")
    return terminal


def stopped_summary(made: int, in_flight: str, *, unknown: int = 0) -> str:
    """The summary after the first change was done and the second was in flight at Ctrl-C."""
    outcome = f", {unknown} of unknown outcome" if unknown else ""
    return (
        f"Apply stopped by Ctrl-C: {made} of 13 changes made{outcome}, 11 not started."
        " 1 manual action left for the Console.\n"
        f"Finished before Ctrl-C (1):\n{CHANGES[0]}: done\n"
        f"In flight at Ctrl-C (1):\n{CHANGES[1]}: {in_flight}\n"
        "Not started (11):\n"
        + "".join(f"{line}\n" for line in CHANGES[2:12])
        + "  … and 1 more\n"
        + LEFT
    )


def test_ctrl_c_during_apply_lets_the_change_in_flight_finish_and_says_what_was_done(
    run_in_terminal: Start, served: Served
) -> None:
    terminal = apply_over_http(run_in_terminal, served, latency_ms=300)
    terminal.type("yes\n")
    terminal.read_until(f"{CHANGES[0]}: done\n")
    terminal.type("\x03")
    assert terminal.finish() == 130
    assert terminal.transcript == (
        f"{PLAN}{QUESTION}yes\n{CHANGES[0]}: done\n^C\n{STOPPING}{CHANGES[1]}: done\n"
        + stopped_summary(2, "done")
    )
    # The organization holds what was reported done, and nothing of what was not started.
    assert served.writes() == [("POST", "/v1/organizations/invites")] * 2
    assert CHANGES[:2] == [
        "  + invite alan@tinyco.io as user (the previous invite expired on 2026-10-24)",
        "  + invite dennis@tinyco.io as claude_code_user",
    ]
    assert served.pending_role("alan@tinyco.io") == "user"
    assert served.pending_role("dennis@tinyco.io") == "claude_code_user"
    assert served.pending_role("ken@tinyco.io") == "user"  # its re-invite never started


def test_a_second_ctrl_c_stops_at_once_and_says_the_next_plan_will_show_the_truth(
    run_in_terminal: Start, served: Served
) -> None:
    terminal = apply_over_http(run_in_terminal, served, latency_ms=800)
    terminal.type("yes\n")
    terminal.read_until(f"{CHANGES[0]}: done\n")
    terminal.type("\x03")
    terminal.read_until(STOPPING)
    terminal.type("\x03")
    assert terminal.finish() == 130
    assert terminal.transcript == (
        f"{PLAN}{QUESTION}yes\n{CHANGES[0]}: done\n^C\n{STOPPING}^C\n{HALTING}"
        f"{CHANGES[1]}: {CUT}\n" + stopped_summary(1, CUT, unknown=1)
    )
    # The cut invite was sent, and the emulator may make it yet: its outcome is unknown. The log
    # has a request once it is answered, so it may not have the cut one.
    assert served.writes() in ([("POST", "/v1/organizations/invites")] * n for n in (1, 2))
    assert served.pending_role("alan@tinyco.io") == "user"
    assert served.pending_role("ken@tinyco.io") == "user"


def test_ctrl_c_at_the_question_cancels_and_writes_nothing(
    run_in_terminal: Start, served: Served
) -> None:
    terminal = apply_over_http(run_in_terminal, served, latency_ms=0)
    terminal.type("\x03")
    assert terminal.finish() == 130
    assert terminal.transcript == PLAN + QUESTION + "^C\n" + CTRL_C_CANCELLED
    assert served.requests() == []  # not even a read once the question was asked
    assert served.pending_role("ken@tinyco.io") == "user"
