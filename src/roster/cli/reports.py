"""The read-only report commands: org, members, usage, cost and report.

Each parses its options, fetches (``roster.reports.fetch``), renders, and echoes. Progress goes to
stderr (``roster.cli.progress``). ``report`` exits 4 when the period is over a threshold.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import click

from roster.api import AdminClient
from roster.cache import MeCache
from roster.cli.options import api_options, connect, run, settings_from
from roster.cli.terminal import table_width
from roster.credentials import load_admin_key
from roster.errors import EXIT_THRESHOLD
from roster.model import ORG_ROLES
from roster.reports import fetch
from roster.reports.cost import COST_GROUP_BY, CostQuery
from roster.reports.dashboard import Dashboard, Thresholds, exceeded
from roster.reports.dates import (
    DATE_HELP,
    WIDTHS,
    DateError,
    Period,
    last_days,
    parse_moment,
    report_period,
)
from roster.reports.governance_summary import KEY_AGE_LIMIT
from roster.reports.members import STATUSES, member_rows
from roster.reports.render import FORMATS, render_cost, render_members, render_org, render_usage
from roster.reports.report import REPORT_FORMATS, render_report
from roster.reports.usage import USAGE_GROUP_BY, UsageQuery
from roster.session import ApiSettings, api_now

T = TypeVar("T")

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people; json or csv for programs.",
)
no_cache_option = click.option(
    "--no-cache",
    is_flag=True,
    help="Fetch the organization's name afresh instead of from the 5-minute cache.",
)
start_option = click.option(
    "--start", required=True, metavar="DATE", help=f"Start: {DATE_HELP} (UTC)."
)
end_option = click.option(
    "--end", metavar="DATE", help="End (excluded), in the same forms.  [default: now]"
)


def _usd(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    """A non-negative amount of dollars, kept exact: ``250``, ``99.99``, ``$1,000``."""
    if value is None:
        return None
    try:
        amount = Decimal(value.strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise click.BadParameter(f"{value!r} is not an amount of dollars (e.g. 250 or 99.99)")
    return amount


@click.command()
@api_options
@format_option
@no_cache_option
def org(output_format: str, no_cache: bool, **options: Any) -> None:
    """Show the organization: name, id, members by role, open invites, active workspaces."""
    settings = settings_from(options)
    cache = _me_cache(settings, no_cache)
    summary = run(_using(settings, lambda client: fetch.org(client, cache())))
    click.echo(render_org(summary, output_format, table_width()), nl=False)


@click.command()
@api_options
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(sorted(ORG_ROLES)),
    help="Only this role (repeatable).",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only members, pending or expired invites (repeatable).",
)
@format_option
def members(
    roles: tuple[str, ...], statuses: tuple[str, ...], output_format: str, **options: Any
) -> None:
    """List members and open invites: email, name, role, status, joined or expiry date."""
    folks = run(_using(settings_from(options), fetch.people))
    rows = member_rows(folks.members, folks.invites, roles=roles, statuses=statuses)
    click.echo(render_members(rows, output_format, table_width()), nl=False)


@click.command()
@api_options
@start_option
@end_option
@click.option(
    "--bucket",
    type=click.Choice(list(WIDTHS)),
    default="1d",
    show_default=True,
    help="Bucket width.",
)
@click.option(
    "--group-by",
    "group_by",
    multiple=True,
    type=click.Choice(list(USAGE_GROUP_BY)),
    help="Split totals by this (repeatable).",
)
@format_option
def usage(
    start: str,
    end: str | None,
    bucket: str,
    group_by: tuple[str, ...],
    output_format: str,
    **options: Any,
) -> None:
    """Token usage: uncached input, cache reads, cache writes and output, per group."""
    settings = settings_from(options)
    query = UsageQuery(_period(start, end, bucket, api_now(settings)), bucket, _unique(group_by))
    report = run(_using(settings, lambda client: fetch.usage(client, query)))
    click.echo(render_usage(report, output_format, table_width()), nl=False)


@click.command()
@api_options
@start_option
@end_option
@click.option(
    "--group-by",
    "group_by",
    multiple=True,
    type=click.Choice(list(COST_GROUP_BY)),
    help="Split the cost by this (repeatable).",
)
@format_option
def cost(
    start: str, end: str | None, group_by: tuple[str, ...], output_format: str, **options: Any
) -> None:
    """Cost in US dollars, from the daily cost report, per group."""
    settings = settings_from(options)
    query = CostQuery(_period(start, end, "1d", api_now(settings)), _unique(group_by))
    report = run(_using(settings, lambda client: fetch.cost(client, query)))
    click.echo(render_cost(report, output_format, table_width()), nl=False)


@click.command()
@api_options
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=7,
    show_default=True,
    help="Complete UTC days before today.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(REPORT_FORMATS),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a chat channel or CI summary, json for programs.",
)
@click.option(
    "--fail-over-tokens",
    type=click.IntRange(min=0),
    help="Exit 4 if the period used more tokens than this.",
)
@click.option(
    "--fail-over-cost",
    metavar="USD",
    callback=_usd,
    help="Exit 4 if the period cost more than this many dollars.",
)
@click.option(
    "--fail-forecast-over-tokens",
    type=click.IntRange(min=0),
    help="Exit 4 if this month's projected tokens (at the current pace) are more than this.",
)
@click.option(
    "--fail-forecast-over-cost",
    metavar="USD",
    callback=_usd,
    help="Exit 4 if this month's projected cost (at the current pace) is more than this.",
)
@click.option(
    "--key-age-limit",
    type=click.IntRange(min=1),
    default=KEY_AGE_LIMIT,
    show_default=True,
    metavar="DAYS",
    help="The governance summary counts active API keys older than this.",
)
@no_cache_option
def report(
    days: int,
    output_format: str,
    no_cache: bool,
    *,
    key_age_limit: int,
    fail_over_tokens: int | None,
    fail_over_cost: Decimal | None,
    fail_forecast_over_tokens: int | None,
    fail_forecast_over_cost: Decimal | None,
    **options: Any,
) -> None:
    """The daily dashboard: tokens, cost, top models, members and a chart per day.

    Beside the period: this month so far and its projected end, Claude Code use, a governance
    summary (idle seats over 30 days, old and unused API keys), and how fresh the data is.
    """
    settings = settings_from(options)
    now = api_now(settings)
    period, cache = last_days(now, days), _me_cache(settings, no_cache)
    board = run(_dashboard(settings, period, now, cache, key_age_limit))
    click.echo(render_report(board, output_format, table_width()), nl=False)
    limits = (fail_over_tokens, fail_over_cost, fail_forecast_over_tokens, fail_forecast_over_cost)
    _enforce(board, Thresholds(*limits))


commands = [org, members, usage, cost, report]


async def _using(settings: ApiSettings, action: Callable[[AdminClient], Awaitable[T]]) -> T:
    async with connect(settings) as client:
        return await action(client)


async def _dashboard(
    settings: ApiSettings,
    period: Period,
    now: datetime,
    cache: Callable[[], MeCache | None],
    key_age_limit: int,
) -> Dashboard:
    return await _using(
        settings,
        lambda client: fetch.report(client, period, now, cache(), key_age_limit=key_age_limit),
    )


def _enforce(board: Dashboard, thresholds: Thresholds) -> None:
    over = exceeded(board, thresholds)
    for message in over:
        click.echo(f"Threshold exceeded: {message}", err=True)
    if over:
        click.get_current_context().exit(EXIT_THRESHOLD)


def _me_cache(settings: ApiSettings, no_cache: bool) -> Callable[[], MeCache | None]:
    """The /me cache, built once the client has checked the key (the sandbox has none)."""

    def build() -> MeCache | None:
        if no_cache or settings.sandbox:
            return None
        key = load_admin_key(settings.api_key_file)
        return MeCache.for_key(key, settings.api_url.rstrip("/"))

    return build


def _period(start: str, end: str | None, bucket: str, now: datetime) -> Period:
    first = _moment(start, now, "--start")
    last = now if end is None else _moment(end, now, "--end")
    try:
        return report_period(first, last, bucket)
    except DateError:
        raise click.BadParameter("must be after --start", param_hint="'--end'") from None


def _moment(text: str, now: datetime, option: str) -> datetime:
    try:
        return parse_moment(text, now)
    except DateError as exc:
        raise click.BadParameter(str(exc), param_hint=f"'{option}'") from None


def _unique(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))
