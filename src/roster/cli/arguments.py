"""Arguments shared by commands, kept apart so that light commands import nothing heavy."""

from __future__ import annotations

from pathlib import Path

import click


def _as_paths(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[Path, ...]:
    # Path("") is Path("."): an unset variable in `roster plan "$DIR"` would plan the whole
    # current directory.
    if "" in values:
        raise click.BadParameter("an empty path names no file", ctx=ctx, param=param)
    return tuple(Path(value) for value in values)


# click checks nothing else about the paths: the loader does, so that a missing file, a dangling
# link or a FIFO is one `Error:` line naming it, the same from every command (and a link loop is
# not reported as missing, as click would).
paths_argument = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(readable=False), callback=_as_paths
)
