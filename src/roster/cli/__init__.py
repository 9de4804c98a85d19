"""roster's command line: the only package that prints.

Command bodies parse options, call the pipeline, and echo. Every ``RosterError`` becomes one
``Error: ...`` line on stderr and the exit code the README documents; the line is made printable,
since it may quote names from the files or the API.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from roster import __version__
from roster.errors import RosterError
from roster.untrusted import printable, without_keys

# Each command's module is imported only when that command runs (or help lists it), so that
# `roster validate` in a pre-commit hook does not pay for the emulator or the reports.
COMMAND_MODULES = {
    "validate": "roster.cli.validate",
    "plan": "roster.cli.sync",
    "apply": "roster.cli.sync",
    "export": "roster.cli.sync",
    "org": "roster.cli.reports",
    "members": "roster.cli.reports",
    "usage": "roster.cli.reports",
    "cost": "roster.cli.reports",
    "report": "roster.cli.reports",
    "emulator": "roster.cli.emulator",
}


class RosterGroup(click.Group):
    """A click group that turns known failures into one line and a documented exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        command: click.Command = getattr(importlib.import_module(module), cmd_name)
        return command

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            raise _redacted(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RosterError as exc:
            click.echo(f"Error: {printable(without_keys(str(exc)))}", err=True)
            ctx.exit(exc.exit_code)
        except click.ClickException as exc:
            raise _redacted(exc) from None


def _redacted(exc: click.ClickException) -> click.ClickException:
    """click quotes the values it refuses; a key pasted as one must not be shown."""
    text = exc.format_message()
    if without_keys(text) == text:
        return exc
    if isinstance(exc, click.UsageError):
        redacted: click.ClickException = click.UsageError(without_keys(text), ctx=exc.ctx)
    else:
        redacted = click.ClickException(without_keys(text))
    return redacted


def _configure_logging(debug: bool) -> None:
    logger = logging.getLogger("roster")
    if debug and not any(getattr(h, "roster_debug", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        handler.roster_debug = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


@click.group(cls=RosterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="roster")
@click.option("--debug", is_flag=True, help="Log every HTTP request (never the key) to stderr.")
def main(debug: bool) -> None:
    """Manage an Anthropic (Claude) organization's members and roles as code.

    Keep the desired members in YAML, review `roster plan`, then `roster apply`.
    """
    _configure_logging(debug)
