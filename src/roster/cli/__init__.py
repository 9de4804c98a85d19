"""roster's command line: the only package that prints.

Command bodies parse options, call the pipeline, and echo. Every ``RosterError`` becomes one
``Error: ...`` line on stderr and the exit code the README documents; the line is made printable,
since it may quote names from the files or the API.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from roster import __version__

# Each command's module is imported only when that command runs, so that `roster validate` in a
# pre-commit hook does not pay for the emulator or the reports, and `roster --help` lists them
# all without importing any: the summary here is the first paragraph of each command's help
# (tests/test_docs.py keeps the two the same).
COMMANDS = {
    "validate": (
        "roster.cli.validate",
        "Check roster files offline: schema, roles, emails, duplicates. Sends no request.",
    ),
    "plan": (
        "roster.cli.sync",
        "Show what apply would change in the organization, changing nothing.",
    ),
    "apply": (
        "roster.cli.sync",
        "Show the plan, ask for a typed 'yes', then make the organization match the files.",
    ),
    "schema": (
        "roster.cli.schema",
        "Write the JSON Schema of roster files, for editors to complete and check them.",
    ),
    "show": (
        "roster.cli.show",
        "Show a plan saved by `roster plan --out FILE`, without contacting the API.",
    ),
    "export": (
        "roster.cli.sync",
        "Write the organization as it stands as a roster file (export, then plan: no changes).",
    ),
    "org": (
        "roster.cli.reports",
        "Show the organization: name, id, members by role, open invites, active workspaces.",
    ),
    "members": (
        "roster.cli.reports",
        "List members and open invites: email, name, role, status, joined or expiry date.",
    ),
    "usage": (
        "roster.cli.reports",
        "Token usage: uncached input, cache reads, cache writes and output, per group.",
    ),
    "cost": ("roster.cli.reports", "Cost in US dollars, from the daily cost report, per group."),
    "report": (
        "roster.cli.reports",
        "The daily dashboard: tokens, cost, top models, members and a chart per day.",
    ),
    "rate-limits": (
        "roster.cli.rate_limits",
        "The organization's rate limits, and each workspace's overrides beside them.",
    ),
    "activity": (
        "roster.cli.activity",
        "Who uses their seat: each member's last attributable activity, and days idle.",
    ),
    "keys": (
        "roster.cli.keys",
        "Every API key: workspace, owner, created, age, expiry, status and last use.",
    ),
    "sync-groups": (
        "roster.cli.groups",
        "Write the roster file the directory's groups give, by the files' group rules.",
    ),
    "emulator": (
        "roster.cli.emulator",
        "An in-memory Admin API emulator, for trying roster without touching a real organization.",
    ),
}


class RosterGroup(click.Group):
    """A click group that turns known failures into one line and a documented exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _ = COMMANDS[cmd_name]
        # A command's function is its name as Python spells it (rate-limits: rate_limits).
        python_name = cmd_name.replace("-", "_")
        command: click.Command = getattr(importlib.import_module(module), python_name)
        if not isinstance(command, click.Group):  # the emulator's options are its own
            _from_environment(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, from the summaries above: no command is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        # A bare command carrying the summary shortens it as click shortens a command's help.
        rows = [
            (name, click.Command(name, help=COMMANDS[name][1]).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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
        from roster.errors import ConfigError, RosterError  # noqa: PLC0415  (not for --help)
        from roster.untrusted import printable, without_keys  # noqa: PLC0415

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            from roster.cli.problems import show_problems  # noqa: PLC0415

            show_problems(exc)
            ctx.exit(exc.exit_code)
        except RosterError as exc:
            click.echo(f"Error: {printable(without_keys(str(exc)))}", err=True)
            ctx.exit(exc.exit_code)
        except click.ClickException as exc:
            raise _redacted(exc) from None
        except KeyboardInterrupt:
            # Not during apply's changes, which roster.cli.interrupts stops and reports itself:
            # while files load or the organization is read, nothing has been changed.
            from roster.errors import EXIT_INTERRUPTED  # noqa: PLC0415

            if sys.stderr.isatty():
                click.echo(err=True)  # after the terminal's ^C
            click.echo("Stopped by Ctrl-C; roster changed nothing.", err=True)
            ctx.exit(EXIT_INTERRUPTED)


# Flags that lift a safety guard are typed each time, never left set in an environment.
NOT_FROM_ENVIRONMENT = frozenset({"yes", "force", "allow_archive"})
# The options every API command shares mean the same everywhere: ROSTER_MAX_RPS.
SHARED_OPTIONS = frozenset(
    {"sandbox", "api_url", "api_key_file", "max_concurrency", "max_rps", "quiet"}
)
ENVIRONMENT_PREFIX = "ROSTER_"


def _from_environment(command: click.Command, name: str) -> None:
    """Every option may come from the environment, named in ``--help``: a shared one from
    ``ROSTER_<OPTION>`` (``ROSTER_MAX_RPS``), the others from ``ROSTER_<COMMAND>_<OPTION>``
    (``ROSTER_PLAN_FORMAT``), as click names them: plan's --format and members' do not take
    the same values, and export's -o and schema's -o must not write the same file."""
    for param in command.params:
        if not isinstance(param, click.Option) or param.name in NOT_FROM_ENVIRONMENT:
            continue
        if param.envvar is None:
            longest = max(param.opts, key=len).lstrip("-").replace("-", "_").upper()
            scope = "" if param.name in SHARED_OPTIONS else f"{name.upper().replace('-', '_')}_"
            param.envvar = f"{ENVIRONMENT_PREFIX}{scope}{longest}"
        param.show_envvar = True


def _redacted(exc: click.ClickException) -> click.ClickException:
    """click quotes the values it refuses; a key pasted as one must not be shown."""
    from roster.untrusted import without_keys  # noqa: PLC0415

    text = exc.format_message()
    if without_keys(text) == text:
        return exc
    if isinstance(exc, click.UsageError):
        redacted: click.ClickException = click.UsageError(without_keys(text), ctx=exc.ctx)
    else:
        redacted = click.ClickException(without_keys(text))
    return redacted


def _configure_logging(debug: bool) -> None:
    if not debug:
        return
    import logging  # noqa: PLC0415  (only --debug logs)

    logger = logging.getLogger("roster")
    if debug and not any(getattr(h, "roster_debug", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        handler.roster_debug = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


@click.group(cls=RosterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="roster")
@click.option(
    "--debug",
    is_flag=True,
    envvar="ROSTER_DEBUG",
    show_envvar=True,
    help="Log every HTTP request (never the key) to stderr.",
)
def main(debug: bool) -> None:
    """Manage an Anthropic (Claude) organization's members and roles as code.

    Keep the desired members in YAML, review `roster plan`, then `roster apply`.
    """
    _configure_logging(debug)
    from roster.cli.terminal import color_forced  # noqa: PLC0415  (os, shutil and sys only)

    if color_forced():
        # click drops colour it does not write to a terminal, unless the context keeps it.
        click.get_current_context().color = True
