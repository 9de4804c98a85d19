"""``roster activity``: who uses their seat, from the organization's own usage data.

Read-only, like the other reports (``roster.cli.reports``): the same connection options, progress
on stderr, the same exit codes. ``--since`` also serves ``roster keys`` (``roster.cli.keys``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from roster.cli.options import api_options, connect, run, settings_from
from roster.cli.terminal import table_width
from roster.reports import fetch
from roster.reports.activity import ACTIVITY_FORMATS, ActivityReport, render_activity
from roster.reports.dates import DateError
from roster.reports.governance import SINCE_HELP, Window, window_since
from roster.session import ApiSettings, api_now

since_option = click.option(
    "--since",
    default="30d",
    show_default=True,
    metavar="30d|DATE",
    help=f"The window, up to now: {SINCE_HELP}.",
)


def window_of(since: str, now: datetime) -> Window:
    """The ``--since`` window; a usage error naming the option when it means nothing."""
    try:
        return window_since(since, now)
    except DateError as exc:
        raise click.BadParameter(str(exc), param_hint="'--since'") from None


@click.command()
@api_options
@since_option
@click.option(
    "--idle",
    is_flag=True,
    help="Only members with no attributable activity in the window who joined before it.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(ACTIVITY_FORMATS),
    default="table",
    show_default=True,
    help="table for people; markdown for an issue; json or csv for programs.",
)
def activity(since: str, idle: bool, output_format: str, **options: Any) -> None:
    """Who uses their seat: each member's last attributable activity, and days idle.

    Claude Code use by email or API key name, and API usage by account or by the API keys a
    member created, over the window. Use the Admin API does not report (the Console,
    claude.ai) is not seen: an idle seat is a question for a person, not a verdict.
    """
    settings = settings_from(options)
    window = window_of(since, api_now(settings))
    report = run(_activity(settings, window))
    shown = report.only_idle() if idle else report
    # color=True: click strips what looks like an ANSI sequence from output that is not a
    # terminal's, which would change an email in the CSV (see roster.cli.rate_limits).
    click.echo(render_activity(shown, output_format, table_width()), nl=False, color=True)


async def _activity(settings: ApiSettings, window: Window) -> ActivityReport:
    async with connect(settings) as client:
        return await fetch.activity(client, window)
