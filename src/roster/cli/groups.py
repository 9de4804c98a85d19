"""``roster sync-groups``: the directory's groups, through the group rules, as a generated roster
file to review as a pull request. It reads the directory only and sends nothing to the Admin
API; plan and apply then read the file like any other.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from roster.cli.arguments import paths_argument
from roster.errors import EXIT_CHANGES_PRESENT
from roster.sources.sync import SyncResult, compute_sync, group_sync_of, write_generated
from roster.untrusted import printable


@click.command("sync-groups")
@paths_argument
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 2 when the generated file would change (for CI).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write even when more people would go than groups.max_removals allows.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def sync_groups(paths: tuple[Path, ...], check: bool, force: bool, quiet: bool) -> None:
    """Write the roster file the directory's groups give, by the files' group rules.

    Reads the source that the 'groups' section names (LDAP, SCIM, or export files) and
    writes its 'output' file, sorted and stable: the same directory gives the same bytes.
    Secrets come from the environment or a file, never the command line. Exit 0 when written
    or already up to date, 2 with --check when it would change, 3 when too many would go.
    """
    sync = group_sync_of(paths)
    result = compute_sync(sync, env=os.environ, progress=None if quiet else _progress, force=force)
    shown = printable(str(result.output))
    if result.is_unchanged:
        click.echo(f"{shown} is up to date: {_count(result.members)}.")
        return
    if check:
        click.echo(f"{shown} would change: {_changes(result)}.")
        raise click.exceptions.Exit(EXIT_CHANGES_PRESENT)
    write_generated(result)
    click.echo(f"Wrote {shown}: {_changes(result)}. Review it as a pull request.")


def _progress(message: str) -> None:
    click.echo(printable(message), err=True)


def _count(members: int) -> str:
    return f"{members} member{'' if members == 1 else 's'}"


def _changes(result: SyncResult) -> str:
    counts = f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)}"
    return f"{_count(result.members)} ({counts} with another role)"
