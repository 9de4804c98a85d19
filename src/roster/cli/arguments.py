"""Arguments shared by commands, kept apart so that light commands import nothing heavy."""

from __future__ import annotations

from pathlib import Path

import click

paths_argument = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
