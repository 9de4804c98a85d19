"""``roster validate``: offline checks of roster files, with nothing but the loader imported.

It runs in pre-commit hooks on every commit, so it stays quick to start.
"""

from __future__ import annotations

from pathlib import Path

import click

from roster.cli.arguments import paths_argument
from roster.config import load_config, roster_files
from roster.errors import EXIT_ERROR, ConfigError


@click.command()
@paths_argument
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: one 'file:line:col: message' line per problem on stderr; json: a list of "
    "{file, line, column, message} on stdout, [] when valid.",
)
def validate(paths: tuple[Path, ...], output_format: str) -> None:
    """Check roster files offline: schema, roles, emails, duplicates. Sends no request.

    Every problem of every file is told in one run, in file and line order. Under GitHub
    Actions (GITHUB_ACTIONS=true) each is also an annotation on its line.
    """
    if output_format == "json":
        _validate_json(paths)
        return
    desired = load_config(paths)
    files = len(roster_files(paths))
    click.echo(
        f"Valid: {files} file{'s' if files != 1 else ''}, {len(desired.members)} members"
        f" (policy.unmanaged: {desired.policy.unmanaged})."
    )


def _validate_json(paths: tuple[Path, ...]) -> None:
    from roster.cli.problems import problems_json  # noqa: PLC0415  (only a failure needs it)

    try:
        load_config(paths)
    except ConfigError as error:
        click.echo(problems_json(error.problems), nl=False)
        raise click.exceptions.Exit(EXIT_ERROR) from None
    click.echo(problems_json([]), nl=False)
