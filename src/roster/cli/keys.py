"""``roster keys``: every API key, its owner, its age and its last use.

Read-only, like the other reports (``roster.cli.reports``): the same connection options, progress
on stderr, the same exit codes, and ``roster activity``'s ``--since``.
"""

from __future__ import annotations

from typing import Any

import click

from roster.cli.activity import since_option, window_of
from roster.cli.options import api_options, connect, run, settings_from
from roster.cli.terminal import table_width
from roster.reports import fetch
from roster.reports.governance import Window
from roster.reports.keys import KEYS_FORMATS, KeysReport, render_keys
from roster.session import ApiSettings, api_now


@click.command()
@api_options
@since_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(KEYS_FORMATS),
    default="table",
    show_default=True,
    help="table for people; json or csv for programs.",
)
def keys(since: str, output_format: str, **options: Any) -> None:
    """Every API key: workspace, owner, created, age, expiry, status and last use.

    The owner is the key's creator: their email, "former member" once they left, "none" for a
    key no user created. The last use is the last day in the window with API usage by the key.
    """
    settings = settings_from(options)
    window = window_of(since, api_now(settings))
    report = run(_keys(settings, window))
    click.echo(render_keys(report, output_format, table_width()), nl=False, color=True)


async def _keys(settings: ApiSettings, window: Window) -> KeysReport:
    async with connect(settings) as client:
        return await fetch.keys(client, window)
