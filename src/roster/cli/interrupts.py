"""Ctrl-C in apply. At the typed-yes prompt it cancels. While changes are made, the first press
stops new ones from starting and lets those in flight finish (for a bounded time); the second
stops at once. Each press says on stderr what it does.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from roster.apply import Stopper


class PromptInterrupted(Exception):
    """Ctrl-C at a prompt; click.prompt would take a KeyboardInterrupt for the end of input."""


@contextmanager
def ctrl_c_stops(stopper: Stopper) -> Iterator[None]:
    """For the block (inside the event loop), Ctrl-C stops ``stopper``, and a second halts it."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)
    try:
        loop.add_signal_handler(signal.SIGINT, _pressed, stopper)
    except (NotImplementedError, RuntimeError, ValueError):  # no loop signals (Windows, a thread)
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if stopper.stopping:
            # The summary is still to be printed: more presses must not cut it off. Nothing is
            # left to stop, and the process ends once it is out (asyncio.run leaves a handler
            # that is not its own in place).
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        elif previous is not None:  # asyncio.run's own, which turns Ctrl-C into an exit
            signal.signal(signal.SIGINT, previous)


@contextmanager
def ctrl_c_raises() -> Iterator[None]:
    """For the block (outside the event loop), Ctrl-C raises ``PromptInterrupted``."""
    try:
        previous = signal.signal(signal.SIGINT, _interrupt_prompt)
    except ValueError:  # not the main thread: Ctrl-C is not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stopping_line(stopper: Stopper) -> str:
    """What the first Ctrl-C does, said when it does it."""
    count = stopper.in_flight
    if count == 0:
        return "Stopping: no change is in flight."
    return (
        f"Stopping: {_changes(count)} in flight finish{'es' if count == 1 else ''} first"
        f" (up to {stopper.grace:g} s); Ctrl-C again to stop at once."
    )


def halting_line(stopper: Stopper) -> str:
    """What the second Ctrl-C does, said when it does it."""
    finishing = stopper.finishing
    cut = stopper.in_flight - finishing
    said = []
    if cut:
        said.append(
            f"the outcome of the {_changes(cut)} in flight is unknown;"
            " the next `roster plan` will show the truth"
        )
    if finishing == 1:
        said.append("the re-invite under way finishes both its steps first")
    elif finishing:
        said.append(f"the {finishing} re-invites under way finish both their steps first")
    return f"Stopping now: {'; '.join(said)}." if said else "Stopping now."


def _pressed(stopper: Stopper) -> None:
    if sys.stderr.isatty():
        click.echo(err=True)  # the terminal echoed ^C: what follows gets a line of its own
    if stopper.halted:
        return  # nothing is left to stop but what finishes on its own
    if not stopper.stopping:
        stopper.stop()
        click.echo(stopping_line(stopper), err=True)
    else:
        stopper.halt()
        click.echo(halting_line(stopper), err=True)


def _interrupt_prompt(signum: int, frame: FrameType | None) -> None:
    raise PromptInterrupted


def _changes(count: int) -> str:
    return f"{count} change{'s' if count != 1 else ''}"
