"""``roster rate-limits``: the organization's rate limits beside every workspace's overrides.

Read-only, like the other reports (``roster.cli.reports``): the same connection options, progress
on stderr, the same exit codes. A ``--workspace`` that names no active workspace is a usage error.
"""

from __future__ import annotations

from typing import Any

import click

from roster.cli.options import api_options, connect, run, settings_from
from roster.cli.terminal import table_width
from roster.reports import fetch
from roster.reports.rate_limits import RateLimits, UnknownWorkspaceError, render_rate_limits
from roster.reports.render import FORMATS
from roster.session import ApiSettings


class WorkspaceOptionError(click.ClickException):
    """A ``--workspace`` that names no active workspace: a usage error (exit 2), in one line,
    since only the organization's answer showed the command line wrong."""

    exit_code = click.UsageError.exit_code


@click.command("rate-limits")
@api_options
@click.option(
    "--workspace",
    metavar="NAME",
    help="Only this workspace, shown even if it overrides nothing.  [default: every workspace"
    " that overrides a limit]",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people; json or csv for programs.",
)
def rate_limits(workspace: str | None, output_format: str, **options: Any) -> None:
    """The organization's rate limits, and each workspace's overrides beside them.

    One row per rate-limit group and limiter type; one column per workspace that overrides a
    limit (or the one --workspace names). The Default workspace always has the organization's
    limits.
    """
    settings = settings_from(options)
    try:
        report = run(_rate_limits(settings, workspace))
    except UnknownWorkspaceError as exc:
        raise WorkspaceOptionError(f"Invalid value for '--workspace': {exc}") from None
    # color=True: click strips what looks like an ANSI sequence from output that is not a
    # terminal's, which would change a name in the CSV; the table escapes them and JSON spells
    # them \u001b, so neither has any to strip.
    click.echo(render_rate_limits(report, output_format, table_width()), nl=False, color=True)


async def _rate_limits(settings: ApiSettings, workspace: str | None) -> RateLimits:
    async with connect(settings) as client:
        return await fetch.rate_limits(client, workspace)
