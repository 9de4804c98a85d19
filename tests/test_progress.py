"""Progress: the events a fetch tells its observer, how the CLI shows them on stderr, and
``--quiet``. Renderers run on a fake clock and the API on a virtual one: nothing here sleeps.
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from click.testing import Result

from roster.api import AdminClient, make_http_client
from roster.api.http import Requester
from roster.cli.progress import (
    LiveProgress,
    PlainProgress,
    Progress,
    fitted,
    showing,
    stderr_progress,
)
from roster.emulator.app import create_app
from roster.emulator.control import Control
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.emulator.store import Store
from roster.emulator.transport import InProcessTransport
from roster.progress import (
    Answered,
    Event,
    ItemsRead,
    PhaseFinished,
    PhaseStarted,
    Retrying,
    Waiting,
    silent,
)
from roster.state import OPEN_INVITE_STATUSES, fetch_state
from tests.support import BASE_URL, KEY, VirtualTime, assert_phase_lines, make_store, run_cli
from tests.test_prompt import TIMEOUT, Start, run_in_terminal  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[1]
STARTUP = ROOT / "examples" / "startup" / "roster.yaml"
GOLDEN = Path(__file__).parent / "data" / "golden" / "cli"
PLAN = (GOLDEN / "plan-startup.txt").read_text(encoding="utf-8")
ADMIN_KEY = "sk-ant-admin01-progress-tests-Hq7Lm2Xw"
USERS = "/v1/organizations/users"
PHASE_EVENTS = (PhaseStarted, ItemsRead, PhaseFinished)


@pytest.fixture(autouse=True)
def progress_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test in an empty directory (a fresh sandbox), with progress not silenced."""
    monkeypatch.chdir(tmp_path)
    for name in ("ROSTER_QUIET", "ANTHROPIC_ADMIN_KEY", "ROSTER_API_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


# --- the events of a fetch ------------------------------------------------------------------------


def small_org() -> Store:
    users = {f"u{n}@example.io": "developer" for n in range(7)}
    invites = {
        "a@example.io": ("user", False),
        "b@example.io": ("user", True),
        "c@example.io": ("developer", False),
        "d@example.io": ("user", True),
    }
    workspaces = {"Red": {"u0@example.io": "workspace_user"}, "Blue": {}}
    keys = {f"key-{n}": "u1@example.io" for n in range(5)}
    return make_store(users, invites, workspaces, keys)


def observed(
    transport: httpx.AsyncBaseTransport, *, time: VirtualTime | None = None, page_size: int = 3
) -> tuple[AdminClient, list[Event]]:
    """A client that records every event; its waits pass on ``time``, or take no time at all."""
    events: list[Event] = []

    async def no_sleep(_: float) -> None:
        return None

    http = make_http_client(BASE_URL, KEY, transport=transport)
    requester = Requester(
        http,
        rng=random.Random(0),
        sleep=time.sleep if time is not None else no_sleep,
        clock=time.clock if time is not None else (lambda: 0.0),
        observer=events.append,
    )
    return AdminClient(http, requester=requester, page_size=page_size), events


def phases(events: Sequence[Event]) -> dict[str, list[Event]]:
    """Each phase's events, in order, by label."""
    found: dict[str, list[Event]] = {}
    for event in events:
        if isinstance(event, PHASE_EVENTS):
            found.setdefault(event.label, []).append(event)
    return found


def run_fetch(client: AdminClient, time: VirtualTime | None = None) -> None:
    scenario = fetch_state(client, workspace_members_of=None)
    if time is None:
        asyncio.run(scenario)
    else:
        time.run(scenario)


def test_a_fetch_tells_each_phase_and_the_count_after_each_page() -> None:
    store = small_org()
    client, events = observed(InProcessTransport(create_app(store)), page_size=3)
    run_fetch(client)
    assert phases(events) == {
        "users": [
            PhaseStarted("users"),
            ItemsRead("users", 3),
            ItemsRead("users", 6),
            ItemsRead("users", 8),  # the seven, and the organization's own admin
            PhaseFinished("users"),
        ],
        "invites": [
            PhaseStarted("invites"),
            ItemsRead("invites", 3),
            ItemsRead("invites", 4),
            PhaseFinished("invites"),
        ],
        "workspaces": [
            PhaseStarted("workspaces"),
            ItemsRead("workspaces", 3),
            PhaseFinished("workspaces"),
        ],
        "API keys": [
            PhaseStarted("API keys"),
            ItemsRead("API keys", 3),
            ItemsRead("API keys", 5),
            PhaseFinished("API keys"),
        ],
        # Red, Blue and the Default workspace: counted as each one's members are all read.
        "workspace members": [
            PhaseStarted("workspace members", total=3),
            ItemsRead("workspace members", 1),
            ItemsRead("workspace members", 2),
            ItemsRead("workspace members", 3),
            PhaseFinished("workspace members"),
        ],
    }
    # The members are read once the workspaces are known: after every other phase.
    others = ("users", "invites", "workspaces", "API keys")
    others_done = max(events.index(PhaseFinished(label)) for label in others)
    assert events.index(PhaseStarted("workspace members", total=3)) > others_done
    answered = [e for e in events if isinstance(e, Answered)]
    assert len(answered) == client.attempts
    assert {(e.method, e.status) for e in answered} == {("GET", 200)}
    assert [e.params for e in answered if e.path == USERS] == [
        (("limit", "3"),),
        (("limit", "3"), ("after_id", user_id_at(store, 3))),
        (("limit", "3"), ("after_id", user_id_at(store, 6))),
    ]


def user_id_at(store: Store, position: int) -> str:
    """The id of the user at ``position`` (1-based) in the API's order: a page's cursor."""
    ids = sorted(user["id"] for user in store.to_json()["users"])
    return str(ids[position - 1])


def test_a_library_client_tells_no_one() -> None:
    http = make_http_client(BASE_URL, KEY, transport=InProcessTransport(create_app(small_org())))
    assert AdminClient(http).observer is silent


def test_a_429_with_retry_after_tells_the_wait_and_the_retry() -> None:
    time = VirtualTime(start=0.0)
    control = Control(clock=time.clock)
    control.queue_faults([{"kind": "429", "method": "GET", "path": USERS, "retry_after": 2}])
    client, events = observed(
        InProcessTransport(create_app(small_org(), control=control)), time=time
    )
    run_fetch(client, time)
    [waiting] = [e for e in events if isinstance(e, Waiting)]
    assert waiting == Waiting(2.0, "GET", USERS, asked=True)
    [retrying] = [e for e in events if isinstance(e, Retrying)]
    assert retrying == Retrying("GET", USERS, "429 rate_limit_error", 429, 2, retrying.delay)
    assert 2.0 <= retrying.delay <= 2.0 * 1.2  # never sooner than asked, a little later at random
    assert time.now >= retrying.delay
    statuses = [e.status for e in events if isinstance(e, Answered) and e.path == USERS]
    assert statuses[:2] == [429, 200]


def test_the_emulator_rate_limit_tells_each_pause_it_asks_for() -> None:
    time = VirtualTime(start=0.0)
    control = Control(clock=time.clock)
    control.configure({"rate_limit_per_second": 4})
    client, events = observed(
        InProcessTransport(create_app(small_org(), control=control)), time=time
    )
    run_fetch(client, time)
    waits = [e for e in events if isinstance(e, Waiting)]
    refused = [e for e in events if isinstance(e, Answered) and e.status == 429]
    assert len(waits) == len(refused) > 0
    # A real server's whole-second retry-after, no retry-after-ms.
    assert all(w.asked and w.seconds >= 1 and w.seconds.is_integer() for w in waits)


def test_a_429_without_retry_after_waits_a_first_backoff() -> None:
    answers = iter([httpx.Response(429, json={"error": {"type": "rate_limit_error"}})])

    def answer(request: httpx.Request) -> httpx.Response:
        return next(answers, httpx.Response(200, json={"id": "org", "name": "Org"}))

    client, events = observed(httpx.MockTransport(answer))
    asyncio.run(client.me())
    [waiting] = [e for e in events if isinstance(e, Waiting)]
    assert (waiting.asked, waiting.method, waiting.path) == (False, "GET", "/v1/organizations/me")
    assert 0.5 * 0.75 <= waiting.seconds <= 0.5


@pytest.mark.parametrize(
    ("fault", "reason", "status"),
    [
        ("529", "529 overloaded_error", 529),
        (
            "drop_before",
            "could not reach https://api.anthropic.com: peer closed connection without sending"
            " complete message body",
            None,
        ),
    ],
)
def test_other_failures_tell_the_retry_only(fault: str, reason: str, status: int | None) -> None:
    control = Control()
    control.queue_faults([{"kind": fault, "method": "GET", "path": USERS}])
    client, events = observed(InProcessTransport(create_app(small_org(), control=control)))
    run_fetch(client)
    assert not [e for e in events if isinstance(e, Waiting)]
    [retrying] = [e for e in events if isinstance(e, Retrying)]
    assert retrying == Retrying("GET", USERS, reason, status, 2, retrying.delay)
    [first, *_] = [e for e in events if isinstance(e, Answered) and e.path == USERS]
    assert (first.status, first.error) == (
        (status, None) if status is not None else (None, "RemoteProtocolError")
    )


# --- the renderers, on a fake clock ---------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


Step = tuple[float, Event | None]  # at this time, this event (None: a heartbeat)


def play(progress: Progress, clock: FakeClock, steps: Sequence[Step]) -> None:
    for moment, event in steps:
        clock.now = moment
        if event is None:
            progress.tick()
        else:
            progress(event)


HOSTILE_PATH = "/v1/organizations/workspaces/wrkspc_\x1b[2J/members"
ECHOED_KEY = "could not reach https://x: sk-ant-admin01-EchoedByAProxy0000000"

STEPS: list[Step] = [
    (0.0, PhaseStarted("users")),
    (1.0, ItemsRead("users", 1000)),
    (4.5, None),
    (5.0, None),
    (6.0, PhaseStarted("invites")),
    (7.0, ItemsRead("users", 2000)),
    (7.0, ItemsRead("invites", 12)),
    (8.0, Waiting(2.0, "GET", USERS, asked=True)),
    (8.5, Waiting(1.5, "GET", USERS, asked=True)),  # refused with the first: the same pause
    (9.0, Retrying("GET", HOSTILE_PATH, ECHOED_KEY, None, 2, 0.4)),
    (9.5, Retrying("GET", USERS, "429 rate_limit_error", 429, 2, 2.1)),  # said by the wait
    (14.0, None),
    (15.0, PhaseFinished("invites")),
    (16.0, PhaseFinished("users")),
    (16.0, PhaseStarted("workspace members", total=20)),
    (17.0, ItemsRead("workspace members", 12)),
    (21.0, None),
    (22.0, ItemsRead("workspace members", 20)),
    (22.0, PhaseFinished("workspace members")),
    (30.0, None),
    (31.0, Waiting(0.5, "GET", "/v1/organizations/me", asked=False)),
]


def test_plain_lines_at_each_phase_every_5_s_and_for_each_wait() -> None:
    clock, out = FakeClock(), io.StringIO()
    progress = PlainProgress(out, clock=clock)
    play(progress, clock, STEPS)
    progress.close()
    assert out.getvalue() == (
        "reading users…\n"
        "reading users: 1,000…\n"
        "reading invites…\n"
        "the API asked roster to wait 2 s (429 on GET /v1/organizations/users)\n"
        "GET /v1/organizations/workspaces/wrkspc_\\x1b[2J/members: could not reach https://x:"
        " sk-ant-…(redacted); retrying in 0.4 s (attempt 2)\n"
        "reading users: 2,000, invites: 12…\n"
        "read invites: 12\n"
        "read users: 2,000\n"
        "reading workspace members: 0/20…\n"
        "reading workspace members: 12/20…\n"
        "read workspace members: 20/20\n"
        "rate limited (429 on GET /v1/organizations/me): waiting 0.5 s\n"
    )


LIVE_STEPS: list[Step] = [
    (0.0, PhaseStarted("users")),
    (0.05, ItemsRead("users", 1000)),  # within a tenth of a second: not drawn yet
    (0.125, PhaseStarted("invites")),
    (0.15, None),
    (0.375, ItemsRead("invites", 12)),
    (0.5, Waiting(2.0, "GET", USERS, asked=True)),
    (0.55, Waiting(2.0, "GET", USERS, asked=True)),
    (0.75, PhaseFinished("invites")),
    (0.8, ItemsRead("users", 14000)),
    (1.0, None),
    (1.25, None),  # nothing new: nothing drawn
    (1.5, PhaseFinished("users")),
    (1.5, PhaseStarted("workspace members", total=20)),
    (2.0, ItemsRead("workspace members", 12)),
    (2.5, PhaseFinished("workspace members")),
]


def test_a_terminal_gets_one_line_redrawn_in_place_and_cleared() -> None:
    clock, out = FakeClock(), io.StringIO()
    progress = LiveProgress(out, clock=clock, width=lambda: 80)
    play(progress, clock, LIVE_STEPS)
    progress.close()
    assert out.getvalue() == (
        "\rreading users…\x1b[K"
        "\rreading users: 1,000, invites…\x1b[K"
        "\rreading users: 1,000, invites: 12…\x1b[K"
        "\r\x1b[K"
        "the API asked roster to wait 2 s (429 on GET /v1/organizations/users)\n"
        "\rreading users: 1,000, invites: 12…\x1b[K"
        "\rreading users: 1,000…\x1b[K"
        "\rreading users: 14,000…\x1b[K"
        "\r\x1b[K"  # no phase left: the line goes at once
        "\rreading workspace members: 0/20…\x1b[K"
        "\rreading workspace members: 12/20…\x1b[K"
        "\r\x1b[K"
    )


def test_the_live_line_makes_room_for_a_warning_and_fits_the_terminal() -> None:
    clock, out = FakeClock(), io.StringIO()
    progress = LiveProgress(out, clock=clock, width=lambda: 20)
    warnings: list[str] = []
    warn = progress.interrupting(warnings.append)
    progress(PhaseStarted("users"))
    progress(ItemsRead("users", 14000))
    clock.now = 0.5
    progress.tick()
    warn("the key looks odd")
    assert warnings == ["the key looks odd"]
    progress.close()
    assert out.getvalue() == "\rreading users…\x1b[K\rreading users: 14,…\x1b[K\r\x1b[K"
    assert fitted("reading users: 14,000…", 19) == "reading users: 14,…"


def test_the_heartbeat_keeps_a_plain_line_every_5_s_while_a_slow_phase_runs() -> None:
    time, out = VirtualTime(start=0.0), io.StringIO()
    progress = PlainProgress(out, clock=time.clock)

    async def slow_phase() -> None:
        async with showing(progress, every=1.0, sleep=time.sleep):
            progress(PhaseStarted("users"))
            await time.sleep(12.5)  # one request that takes its time: no event comes
            progress(PhaseFinished("users"))

    time.run(slow_phase())
    assert out.getvalue() == "reading users…\nreading users…\nreading users…\nread users\n"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_the_live_line_unless_the_debug_log_writes_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    assert isinstance(stderr_progress(), LiveProgress)
    logger = logging.getLogger("roster")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        assert isinstance(stderr_progress(), PlainProgress)
    finally:
        logger.setLevel(level)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(stderr_progress(), PlainProgress)


# --- the commands ---------------------------------------------------------------------------------


def roster(*args: object, env: dict[str, str] | None = None) -> Result:
    return run_cli(args, env=env, secrets=(ADMIN_KEY,))


SANDBOX_READS = [
    "reading users…",
    "reading invites…",
    "reading workspaces…",
    "reading API keys…",
    "read users: 8",
    "read invites: 3",
    "read workspaces: 3",
    "read API keys: 3",
]


def test_plan_prints_the_same_plan_and_tells_its_phases_on_stderr() -> None:
    result = roster("plan", "--sandbox", STARTUP)
    assert (result.exit_code, result.stdout) == (0, PLAN)
    assert_phase_lines(
        result.stderr,
        SANDBOX_READS,
        [
            "reading workspace members: 0/2…",
            "read workspace members: 2/2",
            # The files give Production's rate limits: the organization's and every workspace's
            # overrides are read.
            "reading rate limits: 0/3…",
            "read rate limits: 3/3",
            # policy.api_keys.unused_days: 60 reads the days each key was used.
            "reading API key usage…",
            "read API key usage: 61",
        ],
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(["--quiet"], None, id="--quiet"),
        pytest.param(["-q"], None, id="-q"),
        pytest.param([], {"ROSTER_QUIET": "1"}, id="ROSTER_QUIET"),
    ],
)
def test_quiet_prints_nothing_on_stderr(args: list[str], env: dict[str, str] | None) -> None:
    result = roster("plan", "--sandbox", *args, STARTUP, env=env)
    assert (result.exit_code, result.stdout, result.stderr) == (0, PLAN, "")


def test_quiet_never_silences_an_error() -> None:
    result = roster("plan", "--quiet", STARTUP)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("Error: no admin key")


def test_export_writes_the_same_file_and_tells_its_phases() -> None:
    quiet = roster("export", "--sandbox", "--quiet")
    result = roster("export", "--sandbox")
    assert (result.exit_code, result.stdout) == (0, quiet.stdout)
    reads = [line for line in SANDBOX_READS if "API keys" not in line]  # export writes none
    last = [
        "reading workspace members: 0/3…",
        "read workspace members: 3/3",
        "reading rate limits: 0/3…",
        "read rate limits: 3/3",
    ]
    assert_phase_lines(result.stderr, reads, last)


def test_a_report_tells_its_requests_as_a_phase() -> None:
    args = ("usage", "--sandbox", "--start", "2026-10-01", "--end", "2026-11-01")
    quiet = roster(*args, "--quiet")
    result = roster(*args)
    assert (result.exit_code, result.stdout) == (0, quiet.stdout)
    assert result.stderr == "reading usage report: 0/1…\nread usage report: 1/1\n"


def open_invites(store: Store) -> int:
    """How many invites the API lists as pending or expired."""
    http = make_http_client(BASE_URL, KEY, transport=InProcessTransport(create_app(store)))
    return len(asyncio.run(AdminClient(http).list_invites(statuses=OPEN_INVITE_STATUSES)))


def test_members_over_http_says_when_the_api_asked_to_wait() -> None:
    store = generate(users=20, seed=1)
    listed = open_invites(store)
    with running_server(create_app(store)) as base:
        fault = {"kind": "429", "method": "GET", "path": USERS, "retry_after": 0.01}
        httpx.post(f"{base}/_emulator/faults", json={"faults": [fault]}).raise_for_status()
        env = {"ANTHROPIC_ADMIN_KEY": ADMIN_KEY}
        result = roster("members", "--api-url", base, env=env)
        quiet = roster("members", "--api-url", base, "--quiet", env=env)
    assert (result.exit_code, result.stdout) == (0, quiet.stdout)
    lines = result.stderr.splitlines()
    wait = "the API asked roster to wait 0.01 s (429 on GET /v1/organizations/users)"
    assert lines.count(wait) == 1
    lines.remove(wait)
    assert sorted(lines) == sorted(
        ["reading users…", "reading invites…", "read users: 20", f"read invites: {listed}"]
    )


# --- a real terminal ------------------------------------------------------------------------------

LIVE_SEGMENT = re.compile(r"\r(?:reading [^\r\n]*…)?\x1b\[K")


def test_a_terminal_shows_a_live_line_then_only_the_plan(
    run_in_terminal: Start,  # noqa: F811  (the fixture imported above)
) -> None:
    terminal = run_in_terminal("plan", "--sandbox", str(STARTUP), NO_COLOR="1")
    assert terminal.finish(TIMEOUT) == 0
    transcript = terminal.transcript
    assert transcript.startswith("\rreading ")
    assert transcript[: -len(PLAN)].endswith("\r\x1b[K")  # cleared before the plan
    assert LIVE_SEGMENT.sub("", transcript) == PLAN
