"""``roster validate``: offline checks of roster files, with nothing but the loader imported.

It runs in pre-commit hooks on every commit, so it stays quick to start.
"""

from __future__ import annotations

from pathlib import Path

import click

from roster.cli.arguments import paths_argument
from roster.config import load_config, roster_files


@click.command()
@paths_argument
def validate(paths: tuple[Path, ...]) -> None:
    """Check roster files offline: schema, roles, emails, duplicates. Sends no request."""
    desired = load_config(paths)
    files = len(roster_files(paths))
    click.echo(
        f"Valid: {files} file{'s' if files != 1 else ''}, {len(desired.members)} members"
        f" (policy.unmanaged: {desired.policy.unmanaged})."
    )
