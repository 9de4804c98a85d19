"""Test support: a small emulated organization and a client for it whose retries never sleep."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Coroutine, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar
from unittest import mock

import httpx
from click.testing import CliRunner, Result

from roster.api import AdminClient, make_http_client
from roster.api.http import Requester, RetryPolicy
from roster.apply import ApplyReport, apply_plan
from roster.cli import main
from roster.credentials import Secret
from roster.desired import Desired
from roster.emulator import app as app_module
from roster.emulator.app import create_app
from roster.emulator.clock import Clock, format_time
from roster.emulator.control import Control, LogEntry
from roster.emulator.records import ApiKey, Invite, User, Workspace
from roster.emulator.store import Store
from roster.emulator.transport import InProcessTransport
from roster.model import Current
from roster.plan import Plan, compute_plan
from roster.state import fetch_state

T = TypeVar("T")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
KEY = Secret("sk-ant-admin01-apply-tests-0000")
BASE_URL = "https://api.anthropic.com"
POOL = [f"p{n}@example.io" for n in range(10)]
SETTABLE = ["user", "developer", "billing", "claude_code_user"]


def make_store(
    users: dict[str, str],
    invites: dict[str, tuple[str, bool]],
    workspaces: dict[str, dict[str, str]] | None = None,
    keys: dict[str, str] | None = None,
) -> Store:
    """An organization with these members (email -> role), invites (email -> role, expired),
    workspaces (name -> email -> workspace role) and active API keys (name -> creator's email)."""
    store = Store(Clock.frozen(NOW), organization_name="Prop Org")
    for email, role in users.items():
        store.insert_user(User(store.new_id("user_"), email, email.split("@")[0], role, "x"))
    for email, (role, expired) in invites.items():
        sent = NOW - timedelta(days=30 if expired else 2)
        expires = format_time(sent + timedelta(days=21))
        store.insert_invite(
            Invite(store.new_id("invite_"), email, role, format_time(sent), expires)
        )
    for name, members in (workspaces or {}).items():
        workspace = Workspace(store.new_id("wrkspc_"), name, format_time(NOW), "#6C5BB9")
        store.insert_workspace(workspace)
        for email, role in members.items():
            store.insert_member(workspace.id, _user_id(store, email), role)
    for name, email in (keys or {}).items():
        store.insert_api_key(_key(store, name, _user_id(store, email)))
    return store


def _user_id(store: Store, email: str) -> str:
    user = store.user_by_email(email)
    assert user is not None, email
    return user.id


def _key(store: Store, name: str, creator: str) -> ApiKey:
    return ApiKey(
        id=store.new_id("apikey_"),
        name=name,
        workspace_id=store.default_workspace_id,
        created_by=creator,
        created_at=format_time(NOW),
        status="active",
        partial_key_hint="sk-ant-api03-abc...wxyz",
    )


class Org:
    """The emulator with a client whose retries sleep for no time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.transport = InProcessTransport(create_app(store))

    def client(self) -> AdminClient:
        http = make_http_client(BASE_URL, KEY, transport=self.transport)

        async def no_sleep(_: float) -> None:
            return None

        requester = Requester(http, retry=RetryPolicy(), rng=random.Random(0), sleep=no_sleep)
        return AdminClient(http, requester=requester)

    async def current(self, desired: Desired) -> Current:
        return await fetch_state(self.client(), workspace_members_of=desired.workspaces.keys())

    async def plan(self, desired: Desired) -> Plan:
        return compute_plan(desired, await self.current(desired))

    async def apply(self, desired: Desired) -> ApplyReport:
        current = await self.current(desired)
        return await apply_plan(compute_plan(desired, current), self.client(), current=current)

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(transport=self.transport, base_url=BASE_URL) as http:
            response = await http.request(method, f"/_emulator/{path}", json=body)
            response.raise_for_status()
            return response.json()


def run_cli(
    args: Sequence[object], *, env: dict[str, str] | None, secrets: Sequence[str]
) -> Result:
    """``roster ARGS`` through click, as a user runs it: a traceback, or any of ``secrets`` in
    the output, fails the test."""
    result = CliRunner().invoke(main, [str(arg) for arg in args], env=env, prog_name="roster")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"roster raised {result.exception!r}") from result.exception
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr
    return result


def run_in_sandbox(
    args: Sequence[object], *, env: dict[str, str] | None = None
) -> tuple[Result, list[LogEntry]]:
    """``roster ARGS --sandbox`` as a user runs it, and every request its emulator logged."""
    controls: list[Control] = []
    real = app_module.create_app

    def logged(store: Store, **options: Any) -> Any:
        controls.append(Control())
        return real(store, control=controls[-1], **options)

    # sandbox_http imports create_app when it runs: the sandbox's emulator is the logged one.
    with mock.patch.object(app_module, "create_app", logged):
        result = run_cli([*args, "--sandbox"], env=env, secrets=())
    return result, [entry for control in controls for entry in control.log.entries]


def assert_phase_lines(stderr: str, lines: Sequence[str], last: Sequence[str] = ()) -> None:
    """``stderr`` is exactly ``lines`` then ``last``: within each, phases that run side by side
    in any order, each started before it is read."""
    shown = stderr.splitlines()
    assert sorted(shown[: len(lines)]) == sorted(lines)
    assert sorted(shown[len(lines) :]) == sorted(last)
    for line in shown:
        if line.startswith("read "):
            label = line.removeprefix("read ").split(":")[0]
            started = next(i for i, s in enumerate(shown) if s.startswith(f"reading {label}"))
            assert started < shown.index(line)


class VirtualTime:
    """A clock that moves only when every task waits on it: minutes of pacing in no time.

    Give ``clock`` and ``sleep`` to the client and ``clock`` to the emulator, and ``run`` the
    scenario: whenever nothing can run, time jumps to the earliest sleeper's wake-up.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), wake))
        await wake

    def run(self, scenario: Coroutine[Any, Any, T]) -> T:
        return asyncio.run(self._drive(scenario))

    async def _drive(self, scenario: Coroutine[Any, Any, T]) -> T:
        task = asyncio.ensure_future(scenario)
        loop = asyncio.get_running_loop()
        while not task.done():
            await asyncio.sleep(0)
            # CPython's ready queue: while anything can still run now, time stands still.
            if loop._ready or not self._sleepers:  # type: ignore[attr-defined]
                continue
            when, _, wake = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            if not wake.done():
                wake.set_result(None)
        return task.result()
