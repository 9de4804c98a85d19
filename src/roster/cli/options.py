"""Options and helpers shared by every command that talks to the Admin API."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from roster.api.http import DEFAULT_BASE_URL
from roster.cli.arguments import path_option
from roster.session import ApiSettings
from roster.untrusted import printable, without_keys

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_API_OPTIONS = (
    click.option(
        "--sandbox",
        is_flag=True,
        help="Run against the built-in emulator, with state in ./.roster-sandbox.json "
        "(a sample organization on first use). Needs no key; touches nothing real.",
    ),
    click.option(
        "--api-url",
        envvar="ROSTER_API_URL",
        default=DEFAULT_BASE_URL,
        show_default=True,
        help="Admin API base URL (env ROSTER_API_URL); http:// only for loopback.",
    ),
    click.option(
        "--api-key-file",
        type=click.Path(path_type=Path),
        callback=path_option,
        help="Read the admin key from this file instead of ANTHROPIC_ADMIN_KEY.",
    ),
    click.option(
        "--max-concurrency",
        type=click.IntRange(1, 64),
        default=8,
        show_default=True,
        help="Requests in flight at once.",
    ),
    click.option(
        "--max-rps",
        type=click.FloatRange(min=0.1),
        default=None,
        help="Cap on requests per second (default: no cap).",
    ),
)


def api_options(command: F) -> F:
    """Adds the connection options; the command receives them as ``settings: ApiSettings``."""
    for decorator in reversed(_API_OPTIONS):
        command = decorator(command)
    return command


def settings_from(options: dict[str, Any]) -> ApiSettings:
    """Pops the connection options out of a command's keyword arguments."""
    return ApiSettings(
        api_url=options.pop("api_url"),
        api_key_file=options.pop("api_key_file"),
        max_concurrency=options.pop("max_concurrency"),
        max_rps=options.pop("max_rps"),
        sandbox=options.pop("sandbox"),
    )


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def warn(message: str) -> None:
    click.echo(f"Warning: {printable(without_keys(message))}", err=True)


def use_color() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()
