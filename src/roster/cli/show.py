"""``roster show``: a saved plan, rendered without contacting the API (as ``terraform show``)."""

from __future__ import annotations

from pathlib import Path

import click

from roster.cli.arguments import path_option, plan_format_option
from roster.cli.terminal import use_color
from roster.plan_trust import PLAN_KEY_ENV, plan_key
from roster.render import render_text
from roster.render_markdown import DEFAULT_MAX_CHARS, render_markdown
from roster.saved_plan import SavedPlan, read_saved_plan
from roster.untrusted import json_text, markdown_text, printable

# A field of the footer is cut to this many characters: the comment keeps its bound.
FIELD_LIMIT = 200


@click.command()
@click.argument("plan_file", type=click.Path(path_type=Path), callback=path_option)
@plan_format_option
def show(plan_file: Path, output_format: str) -> None:
    """Show a plan saved by `roster plan --out FILE`, without contacting the API.

    Says which organization it is for, when it was made, its digest and whether it is signed;
    a modified file is refused, and with ROSTER_PLAN_KEY set so is a wrong signature.
    """
    key = plan_key()
    saved = read_saved_plan(plan_file, key, to_apply=False)
    signature = _signature(saved, checked=key is not None)
    if output_format == "json":
        about = {
            "file": str(plan_file),
            "created_at": saved.created_at,
            "roster_version": saved.roster_version,
            "digest": saved.digest,
            "signature": signature[0],
        }
        click.echo(json_text({**saved.plan.data, "saved_plan": about}), nl=False)
    elif output_format == "markdown":
        footer = (
            f"_Saved plan {markdown_text(str(plan_file), FIELD_LIMIT)},"
            f" made {markdown_text(saved.created_at, FIELD_LIMIT)}"
            f" by roster {markdown_text(saved.roster_version, FIELD_LIMIT)};"
            f" digest `{markdown_text(saved.digest, FIELD_LIMIT)}`;"
            f" {markdown_text(signature[1])}._\n"
        )
        body = render_markdown(saved.plan, max_chars=DEFAULT_MAX_CHARS - len(footer) - 1)
        click.echo(body + "\n" + footer, nl=False)
    else:
        click.echo(
            f"Saved plan: {printable(str(plan_file))}\n"
            f"Made: {printable(saved.created_at)} by roster {printable(saved.roster_version)}\n"
            f"Digest: {printable(saved.digest)}\n"
            f"Signature: {signature[1]}\n"
        )
        click.echo(render_text(saved.plan, color=use_color()), nl=False)


def _signature(saved: SavedPlan, *, checked: bool) -> tuple[str, str]:
    """The signature's state, for programs and in words."""
    if not saved.signed:
        return "none", "not signed"
    if checked:
        return "checked", f"signed, checked with {PLAN_KEY_ENV}"
    return "unchecked", f"signed, not checked ({PLAN_KEY_ENV} is not set)"
