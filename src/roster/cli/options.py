"""Options and helpers shared by every command that talks to the Admin API."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from roster.api import AdminClient
from roster.api.http import DEFAULT_BASE_URL
from roster.cli.arguments import path_option
from roster.cli.progress import showing, stderr_progress
from roster.session import ApiSettings, open_client
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
    click.option(
        "--quiet",
        "-q",
        is_flag=True,
        envvar="ROSTER_QUIET",
        help="Show no progress on stderr; warnings and errors still show.",
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
        quiet=options.pop("quiet"),
    )


@asynccontextmanager
async def connect(settings: ApiSettings) -> AsyncIterator[AdminClient]:
    """A client for ``settings`` whose progress shows on stderr, unless ``--quiet``."""
    if settings.quiet:
        async with open_client(settings, warn=warn) as client:
            yield client
        return
    async with showing(stderr_progress()) as progress:
        echo_warning = progress.interrupting(warn)
        async with open_client(settings, warn=echo_warning, observer=progress) as client:
            yield client


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def warn(message: str) -> None:
    click.echo(f"Warning: {printable(without_keys(message))}", err=True)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()
