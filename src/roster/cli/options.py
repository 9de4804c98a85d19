"""Options shared by every command that talks to the Admin API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from roster.api.http import DEFAULT_BASE_URL

F = TypeVar("F", bound=Callable[..., Any])


def api_options(command: F) -> F:
    """``--api-url``, ``--api-key-file``, ``--max-concurrency`` and ``--max-rps``."""
    decorators = [
        click.option(
            "--api-url",
            envvar="ROSTER_API_URL",
            default=DEFAULT_BASE_URL,
            show_default=True,
            help="Admin API base URL (env ROSTER_API_URL); http:// only for loopback.",
        ),
        click.option(
            "--api-key-file",
            type=click.Path(dir_okay=False, path_type=Path),
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
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command
