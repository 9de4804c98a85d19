"""``roster schema``: the JSON Schema of roster files, to keep beside them for editors."""

from __future__ import annotations

from pathlib import Path

import click

from roster.cli.arguments import path_option
from roster.config import roster_schema_text
from roster.saved_plan import write_text
from roster.untrusted import printable


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    callback=path_option,
    help="Write to this file (for example roster/roster.schema.json) instead of standard output.",
)
def schema(output: Path | None) -> None:
    """Write the JSON Schema of roster files, for editors to complete and check them.

    Kept as roster.schema.json beside the files, it is what the first line of an exported file
    (`# yaml-language-server: $schema=roster.schema.json`) names. Write it again after
    upgrading roster.
    """
    text = roster_schema_text()
    if output is None:
        click.echo(text, nl=False)
        return
    write_text(output, text)
    click.echo(f"Wrote {printable(str(output))}.", err=True)
