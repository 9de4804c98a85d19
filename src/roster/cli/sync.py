"""The sync commands: plan, apply and export."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from roster.api import AdminClient
from roster.api.http import DEFAULT_BASE_URL
from roster.apply import ApplyReport, Stopper, apply_plan
from roster.cli.apply_output import finish, show_progress
from roster.cli.arguments import path_option, paths_argument, plan_format_option
from roster.cli.interrupts import PromptInterrupted, ctrl_c_raises, ctrl_c_stops
from roster.cli.options import (
    api_options,
    connect,
    run,
    settings_from,
    stdin_is_terminal,
)
from roster.cli.terminal import use_color
from roster.config import load_config, roster_files
from roster.desired import Desired
from roster.errors import EXIT_CHANGES_PRESENT, EXIT_INTERRUPTED, RosterError, StalePlanError
from roster.export import render_roster_file
from roster.model import Current
from roster.plan import (
    Plan,
    check_archive_guard,
    check_key_guard,
    check_removal_guard,
    compute_plan,
)
from roster.plan_trust import check_same_desired, plan_key
from roster.render import render_json, render_text
from roster.render_markdown import render_markdown
from roster.saved_plan import (
    SavedPlan,
    desired_data,
    read_saved_plan,
    still_valid,
    write_saved_plan,
    write_text,
)
from roster.session import ApiSettings
from roster.state import fetch_state
from roster.untrusted import printable

force_option = click.option(
    "--force", is_flag=True, help="Allow a plan that removes more than policy.max_removals."
)


class ConfirmationRequired(RosterError):
    """apply was run without a terminal to confirm on, and without --yes."""


@dataclass(frozen=True, slots=True)
class Planned:
    current: Current
    plan: Plan


@dataclass(frozen=True, slots=True)
class Guards:
    """What the user allowed beyond the safety guards."""

    force: bool = False
    allow_archive: bool = False

    def check(self, planned: Plan, current: Current, desired: Desired) -> None:
        check_removal_guard(planned, current, desired.policy, self.force)
        check_key_guard(planned, current, desired.policy, self.force)
        check_archive_guard(planned, self.allow_archive)


def _plan_file_option(
    ctx: click.Context, param: click.Parameter, value: Path | None
) -> Path | None:
    """apply tells a saved plan from roster files (YAML) by its .json name: no other name."""
    value = path_option(ctx, param, value)
    if value is not None and value.suffix.lower() != ".json":
        raise click.BadParameter(
            "a saved plan is a .json file (apply tells it from the roster files by that name)",
            ctx=ctx,
            param=param,
        )
    return value


@click.command()
@paths_argument
@api_options
@plan_format_option
@force_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    callback=_plan_file_option,
    help="Also save the plan to this file (FILE.json), for `roster apply FILE.json` to apply"
    " exactly.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to change, 2 when there are changes (manual ones too).",
)
def plan(
    paths: tuple[Path, ...],
    output_format: str,
    force: bool,
    out: Path | None,
    detailed_exitcode: bool,
    **options: Any,
) -> None:
    """Show what apply would change in the organization, changing nothing.

    With --out, the plan is also saved, and signed when ROSTER_PLAN_KEY is set.
    """
    key = plan_key() if out is not None else None  # a key too short to use fails before any read
    desired = load_config(paths)
    settings = settings_from(options)
    planned = run(_compute(desired, settings))
    click.echo(_render(planned.plan, output_format), nl=False)
    check_removal_guard(planned.plan, planned.current, desired.policy, force)
    check_key_guard(planned.plan, planned.current, desired.policy, force)
    if out is not None:
        files = roster_files(paths)
        write_saved_plan(
            out, planned.plan, desired, planned.current, files=files, now=_now(), key=key
        )
        _saved(out, paths, settings, signed=key is not None)
    if detailed_exitcode and not planned.plan.is_empty:
        raise click.exceptions.Exit(EXIT_CHANGES_PRESENT)


@click.command()
@paths_argument
@api_options
@click.option("--yes", is_flag=True, help="Apply without asking (for CI, after review).")
@force_option
@click.option(
    "--allow-archive",
    is_flag=True,
    help="Allow archiving the workspaces the files mark 'archived: true' (final).",
)
def apply(
    paths: tuple[Path, ...], yes: bool, force: bool, allow_archive: bool, **options: Any
) -> None:
    """Show the plan, ask for a typed 'yes', then make the organization match the files.

    Given one plan file saved by `roster plan --out FILE.json`, apply exactly that plan, after
    checking the organization has not changed in a way that changes it.
    """
    if not yes and not stdin_is_terminal():
        raise ConfirmationRequired(
            "apply needs a typed 'yes' and standard input is not a terminal; "
            "review `roster plan`, then run `roster apply --yes`"
        )
    guards = Guards(force=force, allow_archive=allow_archive)
    source = _saved_plan_source(paths) or load_config(paths)
    settings = settings_from(options)
    with _ctrl_c_cancels():
        planned = _plan_to_apply(source, settings, guards)
        if planned is None:
            return
        # Asked with no client open and outside the event loop, where Ctrl-C reaches the prompt.
        if not yes and not _confirmed():
            click.echo("Apply cancelled; nothing was changed.")
            raise click.exceptions.Exit(1)
    finish(run(_apply(planned, settings)))


@click.command()
@api_options
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    callback=path_option,
    help="Write to this file instead of standard output.",
)
def export(output: Path | None, **options: Any) -> None:
    """Write the organization as it stands as a roster file (export, then plan: no changes)."""
    text = render_roster_file(run(_fetch_everything(settings_from(options))))
    if output is None:
        click.echo(text, nl=False)
    else:
        write_text(output, text)
        click.echo(f"Wrote {printable(str(output))}.", err=True)


commands = [plan, apply, export]


async def _fetch_everything(settings: ApiSettings) -> Current:
    """The organization with the members and rate limits of every workspace, as export
    writes it."""
    async with connect(settings) as client:
        return await fetch_state(
            client, workspace_members_of=None, with_api_keys=False, rate_limits_of=None
        )


async def _compute(desired: Desired, settings: ApiSettings) -> Planned:
    async with connect(settings) as client:
        return await _planned(client, desired)


async def _planned(client: AdminClient, desired: Desired) -> Planned:
    # Rate limits are read for every workspace once the files give any: the plan adds up the
    # workspaces' overrides of each group against the organization's limit.
    unused = desired.policy.api_keys.unused_days
    current = await fetch_state(
        client,
        workspace_members_of=desired.workspaces.keys(),
        rate_limits_of=None if desired.names_rate_limits else (),
        key_use_days=unused,
    )
    return Planned(current, compute_plan(desired, current))


def _saved(out: Path, paths: tuple[Path, ...], settings: ApiSettings, *, signed: bool) -> None:
    """Where the plan went, and the apply that uses it against the same API as the plan did."""
    shown, files = printable(str(out)), " ".join(printable(str(p)) for p in paths)
    how = " (signed with ROSTER_PLAN_KEY)" if signed else ""
    target = ""
    if settings.sandbox:
        target = "--sandbox "
    elif settings.api_url != (os.environ.get("ROSTER_API_URL") or DEFAULT_BASE_URL):
        target = f"--api-url {printable(settings.api_url)} "
    click.echo(
        f"Saved the plan to {shown}{how}; apply it with: roster apply {target}{shown} {files}",
        err=True,
    )


def _saved_plan_source(paths: tuple[Path, ...]) -> SavedPlan | None:
    """A saved plan when apply was given a ``.json`` file (roster files are YAML).

    With roster files beside it, the plan must be the plan of those files: its desired state
    is what they say, or nothing is applied.
    """
    plans = [path for path in paths if path.suffix.lower() == ".json"]
    if not plans:
        return None
    if len(plans) > 1:
        raise RosterError("apply takes one saved plan (.json), with or without its roster files")
    saved = read_saved_plan(plans[0], plan_key())
    files = [path for path in paths if path not in plans]
    if files:
        named = ", ".join(str(path) for path in files)
        check_same_desired(desired_data(saved.desired), desired_data(load_config(files)), named)
    return saved


def _plan_to_apply(
    source: Desired | SavedPlan, settings: ApiSettings, guards: Guards
) -> Planned | None:
    """The plan apply is to make, shown and checked by the guards; None if it changes nothing."""
    desired = source.desired if isinstance(source, SavedPlan) else source
    fresh = run(_compute(desired, settings))
    current, planned = fresh.current, fresh.plan
    if isinstance(source, SavedPlan):
        planned = _still_valid(source, current, planned)
    click.echo(_render(planned, "text"), nl=False)
    guards.check(planned, current, desired)
    if not planned.api_changes:
        click.echo("Nothing to apply.")
        return None
    return Planned(current, planned)


async def _apply(planned: Planned, settings: ApiSettings) -> ApplyReport:
    """Make the plan's changes; Ctrl-C stops them as ``roster.cli.interrupts`` says."""
    stopper = Stopper()
    with ctrl_c_stops(stopper):
        async with connect(settings) as client:
            return await apply_plan(
                planned.plan,
                client,
                progress=show_progress,
                current=planned.current,
                stopper=stopper,
            )


@contextmanager
def _ctrl_c_cancels() -> Iterator[None]:
    """Ctrl-C before any change is made: apply says that nothing was changed."""
    try:
        yield
    except (KeyboardInterrupt, PromptInterrupted):
        if sys.stdout.isatty():
            click.echo()  # after the ^C the terminal echoed
        click.echo("Apply cancelled by Ctrl-C; nothing was changed.")
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


def _still_valid(saved: SavedPlan, current: Current, fresh: Plan) -> Plan:
    try:
        return still_valid(saved, current, fresh)
    except StalePlanError as stale:
        click.echo("The organization changed since the plan was made:", err=True)
        for line in stale.drift:
            click.echo(f"  {printable(line)}", err=True)
        raise


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _confirmed() -> bool:
    click.echo("\nroster will make the changes above. Only 'yes' is accepted to go on.")
    try:
        with ctrl_c_raises():
            answer = click.prompt("Apply?", default="", show_default=False)
    except click.Abort:  # end of input
        click.echo()
        return False
    return str(answer).strip() == "yes"


def _render(planned: Plan, output_format: str) -> str:
    if output_format == "markdown":
        return render_markdown(planned)
    return (
        render_json(planned) if output_format == "json" else render_text(planned, color=use_color())
    )
