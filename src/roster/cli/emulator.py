"""``roster emulator``: run the Admin API emulator, or generate an organization for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from roster.cli.arguments import path_option
from roster.credentials import is_loopback
from roster.emulator.app import create_app
from roster.emulator.control import Control
from roster.emulator.problems import ApiProblem
from roster.emulator.seed import generate
from roster.emulator.server import serve
from roster.emulator.store import Store
from roster.untrusted import printable


@click.group()
def emulator() -> None:
    """An in-memory Admin API emulator, for trying roster without touching a real organization."""


def _control(settings: dict[str, Any]) -> Control:
    control = Control()
    try:
        control.configure({**settings, "strict": settings["strict"] or control.strict})
    except ApiProblem as exc:
        raise click.BadParameter(exc.message) from None
    return control


def _load(state_file: Path | None) -> Store:
    if state_file is None or not state_file.exists():
        return Store()
    try:
        return Store.load(state_file)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"{state_file}: not a usable emulator state ({exc})") from None


@emulator.command("serve")
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=path_option,
    help="Load this state file if it exists, and keep it saved.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8787, show_default=True, type=int, help="Port (0: any free port).")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host.")
@click.option("--latency-ms", default=0.0, type=float, help="Delay every API request.")
@click.option(
    "--rate-limit",
    type=float,
    help="Token bucket: answer 429 above this many requests per second (retry-after-ms).",
)
@click.option(
    "--rate-limit-per-second",
    type=int,
    help="As a real server: 429 beyond this many requests in any second (retry-after in whole"
    " seconds).",
)
@click.option("--rate-limit-per-minute", type=int, help="The same, for any minute.")
@click.option("--fault-rate", default=0.0, type=float, help="Probability of an injected fault.")
@click.option("--fault-seed", default=0, type=int, help="Seed of the fault generator.")
@click.option(
    "--strict",
    is_flag=True,
    help="Record requests that break the Admin API's contract (see /_emulator/violations).",
)
def serve_command(
    *,
    state_file: Path | None,
    host: str,
    port: int,
    allow_remote: bool,
    latency_ms: float,
    rate_limit: float | None,
    rate_limit_per_second: int | None,
    rate_limit_per_minute: int | None,
    fault_rate: float,
    fault_seed: int,
    strict: bool,
) -> None:
    """Serve the emulator over HTTP until interrupted (it accepts any admin-looking key)."""
    if not is_loopback(host) and not allow_remote:
        raise click.BadParameter(
            "refusing a non-loopback host without --allow-remote", param_hint="--host"
        )
    store = _load(state_file)
    control = _control(
        {
            "strict": strict,
            "latency_ms": latency_ms,
            "rate_limit_rps": rate_limit,
            "rate_limit_per_second": rate_limit_per_second,
            "rate_limit_per_minute": rate_limit_per_minute,
            "fault_rate": fault_rate,
            "fault_seed": fault_seed,
        }
    )
    app = create_app(store, state_file=state_file, control=control)
    saved = f" (state: {printable(str(state_file))})" if state_file is not None else ""
    serve(
        app,
        host,
        port,
        lambda url: click.echo(f"roster emulator listening on {url}{saved}", err=True),
    )


@emulator.command("seed")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    callback=path_option,
    help="State file to write.",
)
@click.option(
    "--users", default=50, show_default=True, type=click.IntRange(min=1), help="Number of members."
)
@click.option(
    "--seed", "seed", default=0, show_default=True, type=int, help="Same seed, same file."
)
@click.option("--name", help="Organization name (default: picked from the seed).")
@click.option(
    "--workspaces",
    type=click.IntRange(min=0, max=100),
    help="Active workspaces besides the default one.",
)
def seed_command(
    out: Path, users: int, seed: int, name: str | None, workspaces: int | None
) -> None:
    """Generate a realistic organization, deterministically, into a state file."""
    store = generate(users, seed, name=name, workspaces=workspaces)
    store.save(out)
    shown = printable(f"{out}: {store.organization.name}")
    click.echo(f"wrote {shown}, {users} users", err=True)
