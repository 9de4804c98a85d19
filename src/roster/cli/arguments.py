"""Arguments shared by commands, kept apart so that light commands import nothing heavy."""

from __future__ import annotations

from pathlib import Path

import click

from roster.files import refuse_key_in_path


def _as_paths(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[Path, ...]:
    # Path("") is Path("."): an unset variable in `roster plan "$DIR"` would plan the whole
    # current directory.
    if "" in values:
        raise click.BadParameter("an empty path names no file", ctx=ctx, param=param)
    for value in values:
        refuse_key_in_path(value, "a roster path")
    return tuple(Path(value) for value in values)


def path_option(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """A file option's value, refused (never echoed) when a key was pasted in its place."""
    if value is not None:
        refuse_key_in_path(str(value), f"--{(param.name or '').replace('_', '-')}")
    return value


# click checks nothing else about the paths: the loader does, so that a missing file, a dangling
# link or a FIFO is one `Error:` line naming it, the same from every command (and a link loop is
# not reported as missing, as click would).
paths_argument = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(readable=False), callback=_as_paths
)

# How plan and show render a plan.
plan_format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, markdown for a pull-request comment.",
)
