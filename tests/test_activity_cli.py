"""``roster activity``: the window, whose each use is, the rows and their rendering from values
(table-driven), then the command end to end against the emulator (``--sandbox``, in process, and
over HTTP for the Claude Code report's paging): exact output, the requests made, errors, and
emails from the API that try to act on a terminal. Exact tables and markdown are golden files;
``ROSTER_REGEN_GOLDEN=1`` rewrites them.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from click.testing import Result

from roster.api import AdminClient, make_http_client
from roster.credentials import Secret
from roster.emulator.app import create_app
from roster.emulator.clock import format_time
from roster.emulator.control import LogEntry
from roster.emulator.records import ApiKey as EmulatorKey
from roster.emulator.records import User
from roster.emulator.sample import SAMPLE_NOW, sample_store
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.model import ApiKey, Invite, Member
from roster.reports import fetch
from roster.reports.activity import (
    ATTRIBUTABLE,
    MARKER,
    Activity,
    ActivityReport,
    ActivityRow,
    CodeUse,
    Owners,
    activity_csv,
    activity_data,
    activity_markdown,
    activity_report,
    activity_table,
    code_uses,
    member_activity,
    member_row,
    render_activity,
)
from roster.reports.dates import DateError
from roster.reports.governance import ApiUse, Window, api_uses, last_used, window_since
from tests.support import Org, assert_phase_lines, run_cli, run_in_sandbox

GOLDEN = Path(__file__).parent / "data" / "golden" / "reports"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
WEEK = window_since("7d", NOW)  # 2026-10-26 to 2026-11-02: 8 days

ADA = Member("user_ada", "ada@tinyco.io", "Ada", "admin", "2025-01-01T00:00:00Z")
GRACE = Member("user_grace", "grace@tinyco.io", "Grace", "developer", "2025-01-01T00:00:00Z")
NEWCOMER = Member("user_new", "new@tinyco.io", "New", "user", "2026-10-30T12:00:00Z")
IDLER = Member("user_idle", "idle@tinyco.io", "Idle", "claude_code_user", "2025-06-01T00:00:00Z")
KEN = Invite("invite_ken", "ken@tinyco.io", "user", "pending", "2026-10-30T09:00:00Z", "x")
ALAN = Invite("invite_alan", "alan@tinyco.io", "user", "expired", "2026-10-01T09:00:00Z", "x")


def key(key_id: str, name: str, creator: str | None, status: str = "active") -> ApiKey:
    return ApiKey(key_id, name, status, None, creator, "2026-01-01T00:00:00Z")


ADA_KEY = key("apikey_ada", "ada-prod", ADA.id)
GRACE_KEY = key("apikey_grace", "shared-name", GRACE.id)
OTHER_KEY = key("apikey_other", "shared-name", ADA.id)
SYSTEM_KEY = key("apikey_sys", "system", None)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ROSTER_REGEN_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- the window ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("since", "first", "days", "chunks"),
    [
        ("7d", "2026-10-26", 8, [("2026-10-26T00:00:00Z", "2026-11-02T09:00:00Z", 8)]),
        ("30d", "2026-10-03", 31, [("2026-10-03T00:00:00Z", "2026-11-02T09:00:00Z", 31)]),
        (" 30D ", "2026-10-03", 31, [("2026-10-03T00:00:00Z", "2026-11-02T09:00:00Z", 31)]),
        ("0d", "2026-11-02", 1, [("2026-11-02T00:00:00Z", "2026-11-02T09:00:00Z", 1)]),
        (
            "2026-10-01",
            "2026-10-01",
            33,
            [
                ("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", 31),
                ("2026-11-01T00:00:00Z", "2026-11-02T09:00:00Z", 2),
            ],
        ),
    ],
)
def test_the_window(since: str, first: str, days: int, chunks: list[tuple[str, str, int]]) -> None:
    window = window_since(since, NOW)
    assert (window.first_day, window.today, len(window.days)) == (first, "2026-11-02", days)
    assert window.days[0] == first
    assert window.days[-1] == "2026-11-02"
    shown = [(c.starting_at, c.ending_at, c.limit) for c in window.usage_chunks()]
    assert [(f"{a:%Y-%m-%dT%H:%M:%SZ}", f"{b:%Y-%m-%dT%H:%M:%SZ}", n) for a, b, n in shown] == (
        chunks
    )


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("3m", "'3m' is not a number of days or a date; use 30d"),
        ("last week", "'last week' is not a number of days or a date"),
        ("2026-13-40", "'2026-13-40' is not a number of days or a date"),
        ("2026-11-03", "'2026-11-03' is after today (2026-11-02)"),
        ("367d", "'367d' is more than 366 days before today"),
        ("99999999999999999999d", "is more than 366 days before today"),
        ("2020-01-01", "'2020-01-01' is more than 366 days before today"),
    ],
)
def test_a_window_that_means_nothing(since: str, message: str) -> None:
    with pytest.raises(DateError) as refused:
        window_since(since, NOW)
    assert message in str(refused.value)


def test_the_window_in_words_and_json() -> None:
    assert WEEK.label == "2026-10-26 – 2026-11-02 (8 days, UTC)"
    assert WEEK.data == {
        "starting_at": "2026-10-26T00:00:00Z",
        "ending_at": "2026-11-02T09:00:00Z",
        "days": 8,
    }


# --- what the reports say --------------------------------------------------------------------


def record(actor: dict[str, str], sessions: int = 1) -> dict[str, object]:
    return {
        "date": "2026-10-30T00:00:00Z",
        "actor": actor,
        "core_metrics": {"num_sessions": sessions},
    }


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (
            {"type": "user_actor", "email_address": "Ada@Tinyco.io"},
            CodeUse("2026-10-30", "ada@tinyco.io", None, 3),
        ),
        (
            {"type": "api_actor", "api_key_name": "ada-prod"},
            CodeUse("2026-10-30", None, "ada-prod", 3),
        ),
        ({"type": "robot", "name": "x"}, CodeUse("2026-10-30", None, None, 3)),
    ],
)
def test_claude_code_records(actor: dict[str, str], expected: CodeUse) -> None:
    assert code_uses("2026-10-30", [record(actor, 3)]) == (expected,)


def test_a_record_without_metrics_is_a_use_without_sessions() -> None:
    (use,) = code_uses("2026-10-31", [{"actor": {"type": "user_actor", "email_address": "a@b"}}])
    assert use == CodeUse("2026-10-31", "a@b", None, 0)


def test_messages_usage_as_uses() -> None:
    buckets = [
        {
            "starting_at": "2026-10-30T00:00:00Z",
            "results": [
                {"uncached_input_tokens": 10, "output_tokens": 5, "api_key_id": "apikey_ada"},
                {"uncached_input_tokens": 0, "account_id": "user_grace"},  # used nothing
                {"cache_read_input_tokens": 1, "account_id": "user_grace", "api_key_id": None},
            ],
        },
        {"starting_at": "2026-10-31T00:00:00Z", "results": []},
        {
            "starting_at": "2026-11-01T00:00:00Z",
            "results": [{"output_tokens": 2, "api_key_id": "apikey_ada"}],
        },
    ]
    uses = api_uses(buckets)
    assert uses == (
        ApiUse("2026-10-30", "apikey_ada", None, 15),
        ApiUse("2026-10-30", None, "user_grace", 1),
        ApiUse("2026-11-01", "apikey_ada", None, 2),
    )
    assert last_used(uses) == {"apikey_ada": "2026-11-01"}


# --- whose each use is -----------------------------------------------------------------------

OWNERS = Owners.of([ADA, GRACE], [ADA_KEY, GRACE_KEY, OTHER_KEY, SYSTEM_KEY])


@pytest.mark.parametrize(
    ("use", "owners"),
    [
        pytest.param(CodeUse("d", "ada@tinyco.io", None, 1), {ADA.id}, id="Claude Code by email"),
        pytest.param(CodeUse("d", "gone@tinyco.io", None, 1), set(), id="an email not a member's"),
        pytest.param(CodeUse("d", None, "ada-prod", 1), {ADA.id}, id="by the name of a key"),
        pytest.param(CodeUse("d", None, "shared-name", 1), set(), id="a name two creators share"),
        pytest.param(CodeUse("d", None, "system", 1), set(), id="a key no user created"),
        pytest.param(CodeUse("d", None, None, 1), set(), id="an actor roster cannot read"),
    ],
)
def test_whose_a_claude_code_use_is(use: CodeUse, owners: set[str]) -> None:
    assert OWNERS.of_code(use) == owners


@pytest.mark.parametrize(
    ("use", "owners"),
    [
        pytest.param(ApiUse("d", None, GRACE.id, 1), {GRACE.id}, id="by account"),
        pytest.param(ApiUse("d", ADA_KEY.id, None, 1), {ADA.id}, id="by a key they created"),
        pytest.param(ApiUse("d", ADA_KEY.id, ADA.id, 1), {ADA.id}, id="both, one person"),
        pytest.param(ApiUse("d", ADA_KEY.id, GRACE.id, 1), {ADA.id, GRACE.id}, id="another's key"),
        pytest.param(ApiUse("d", SYSTEM_KEY.id, None, 1), set(), id="a key no user created"),
        pytest.param(ApiUse("d", None, None, 1), set(), id="the Console, no key"),
    ],
)
def test_whose_an_api_use_is(use: ApiUse, owners: set[str]) -> None:
    assert OWNERS.of_api(use) == owners


def test_a_use_that_is_one_persons_twice_counts_once() -> None:
    found = member_activity(
        OWNERS,
        [
            CodeUse("2026-10-30", "ada@tinyco.io", None, 2),
            CodeUse("2026-10-31", None, "ada-prod", 1),
        ],
        [ApiUse("2026-10-29", ADA_KEY.id, ADA.id, 100), ApiUse("2026-10-29", None, GRACE.id, 7)],
    )
    assert found == {
        ADA.id: Activity(frozenset({"2026-10-29", "2026-10-30", "2026-10-31"}), 3, 100),
        GRACE.id: Activity(frozenset({"2026-10-29"}), 0, 7),
    }


# --- rows ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "activity", "state", "last", "idle"),
    [
        pytest.param(
            ADA,
            Activity(frozenset({"2026-10-28", "2026-11-01"}), 4, 9),
            "active",
            "2026-11-01",
            1,
            id="active",
        ),
        pytest.param(
            ADA,
            Activity(frozenset({"2026-11-02"}), 0, 1),
            "active",
            "2026-11-02",
            0,
            id="active today",
        ),
        pytest.param(IDLER, Activity(), "idle", None, None, id="none in the window"),
        pytest.param(NEWCOMER, Activity(), "new", None, 3, id="joined in the window, none yet"),
        pytest.param(
            Member("user_first", "first@x", "F", "user", "2026-10-26T23:00:00Z"),
            Activity(),
            "new",
            None,
            7,
            id="joined on the window's first day",
        ),
        pytest.param(
            Member("user_eve", "eve@x", "E", "user", "2026-10-25T23:59:59Z"),
            Activity(),
            "idle",
            None,
            None,
            id="joined the day before the window",
        ),
        pytest.param(
            Member("user_old", "old@x", "O", "user", ""),
            Activity(),
            "idle",
            None,
            None,
            id="joined when unknown",
        ),
    ],
)
def test_a_member_row(
    member: Member, activity: Activity, state: str, last: str | None, idle: int | None
) -> None:
    row = member_row(member, activity, WEEK)
    assert (row.state, row.last_active, row.days_idle) == (state, last, idle)
    assert (row.active_days, row.claude_code_sessions, row.api_tokens) == (
        len(activity.days),
        activity.sessions,
        activity.tokens,
    )


def sample_report(*, idle_only: bool = False) -> ActivityReport:
    report = activity_report(
        WEEK,
        [ADA, GRACE, NEWCOMER, IDLER],
        [KEN, ALAN],
        [ADA_KEY, GRACE_KEY],
        code=[CodeUse("2026-11-01", "grace@tinyco.io", None, 12)],
        api=[ApiUse("2026-10-27", ADA_KEY.id, None, 4_500_000)],
    )
    return report.only_idle() if idle_only else report


def test_the_rows_ask_about_idle_seats_first_and_leave_expired_invites_out() -> None:
    report = sample_report()
    assert [(r.email, r.state, r.days_idle) for r in report.rows] == [
        ("idle@tinyco.io", "idle", None),
        ("new@tinyco.io", "new", 3),
        ("ada@tinyco.io", "active", 6),
        ("grace@tinyco.io", "active", 1),
        ("ken@tinyco.io", "invited", None),
    ]
    assert [r.email for r in report.only_idle().shown] == ["idle@tinyco.io"]
    assert report.only_idle().states == report.states  # the counts are of every seat


# --- rendering -------------------------------------------------------------------------------


def test_the_table_golden() -> None:
    golden("activity-values.txt", activity_table(sample_report(), 80))


def test_the_markdown_golden() -> None:
    text = activity_markdown(sample_report(idle_only=True))
    assert text.splitlines()[0] == MARKER
    golden("activity-values.md", text)


def test_no_idle_seat() -> None:
    report = activity_report(
        WEEK, [ADA], [KEN], [], code=[CodeUse("2026-11-01", ADA.email, None, 1)], api=[]
    )
    table = activity_table(report.only_idle(), 80)
    assert table.splitlines()[:4] == [
        "Idle seats, 2026-10-26 – 2026-11-02 (8 days, UTC)",
        "0 of 1 member idle, 1 active, 1 pending invite",
        "",
        "No idle seats: every member who joined before 2026-10-26",
    ]
    assert "No idle seats: every member who joined before 2026-10-26 has" in activity_markdown(
        report.only_idle()
    )


def test_the_json_form() -> None:
    data = activity_data(sample_report(idle_only=True))
    assert data == {
        "window": WEEK.data,
        "attributable": ATTRIBUTABLE,
        "idle_only": True,
        "counts": {"idle": 1, "new": 1, "active": 2, "invited": 1},
        "people": [
            {
                "email": "idle@tinyco.io",
                "role": "claude_code_user",
                "status": "member",
                "joined_at": "2025-06-01T00:00:00Z",
                "state": "idle",
                "last_active": None,
                "days_idle": None,
                "active_days": 0,
                "claude_code_sessions": 0,
                "api_tokens": 0,
            }
        ],
    }


def test_the_csv_form() -> None:
    assert activity_csv(sample_report()).splitlines() == [
        "email,role,status,joined_at,state,last_active,days_idle,active_days,"
        "claude_code_sessions,api_tokens",
        "idle@tinyco.io,claude_code_user,member,2025-06-01T00:00:00Z,idle,,,0,0,0",
        "new@tinyco.io,user,member,2026-10-30T12:00:00Z,new,,3,0,0,0",
        "ada@tinyco.io,admin,member,2025-01-01T00:00:00Z,active,2026-10-27,6,1,0,4500000",
        "grace@tinyco.io,developer,member,2025-01-01T00:00:00Z,active,2026-11-01,1,1,12,0",
        "ken@tinyco.io,user,pending,2026-10-30T09:00:00Z,invited,,,0,0,0",
    ]


HOSTILE = "evil\x1b[2J\n@team\u202e@tinyco.io"


def hostile_report() -> ActivityReport:
    member = Member("user_evil", HOSTILE, "Evil", "user\x1b[31m", "2025-01-01T00:00:00Z")
    invite = Invite("invite_evil", "@here\u2066|x@tinyco.io", "user", "pending", "2026-10-30", "x")
    return activity_report(WEEK, [member], [invite], [], code=[], api=[])


def test_hostile_emails_are_escaped_for_people() -> None:
    table = activity_table(hostile_report(), None)
    assert all(line.isprintable() for line in table.splitlines())
    assert "evil\\x1b[2J\\n@team\\u202e@tinyco.io  user\\x1b[31m" in table
    assert "@here\\u2066|x@tinyco.io" in table
    markdown = activity_markdown(hostile_report())
    assert all(line.isprintable() for line in markdown.splitlines())
    assert "| evil\\\\x1b\\[2J\\\\n@team\\\\u202e@tinyco.io | user\\\\x1b\\[31m |" in markdown
    assert "| `@here\\u2066\\|x@tinyco.io` | user |" in markdown  # GitHub notifies on @here


def test_hostile_emails_are_exact_for_programs() -> None:
    data = json.loads(render_json_text(hostile_report()))
    assert [p["email"] for p in data["people"]] == [HOSTILE, "@here\u2066|x@tinyco.io"]
    rows = list(csv.DictReader(io.StringIO(activity_csv(hostile_report()), newline="")))
    assert [r["email"] for r in rows] == [HOSTILE, "@here\u2066|x@tinyco.io"]
    assert rows[0]["role"] == "user\x1b[31m"


def render_json_text(report: ActivityReport) -> str:
    return render_activity(report, "json")


def test_a_row_as_data_names_every_field() -> None:
    row = ActivityRow("a@b", "user", "member", "2025-01-01", "idle")
    assert list(row.data) == [
        "email",
        "role",
        "status",
        "joined_at",
        "state",
        "last_active",
        "days_idle",
        "active_days",
        "claude_code_sessions",
        "api_tokens",
    ]


def test_windows_are_values() -> None:
    assert window_since("7d", NOW) == Window(WEEK.start, NOW)


# --- end to end: the sandbox -----------------------------------------------------------------

ORG = "/v1/organizations"
CLAUDE_CODE = f"{ORG}/usage_report/claude_code"
MESSAGES = f"{ORG}/usage_report/messages"
# The emulators that --sandbox starts, whose request logs say what roster asked for.


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "80")  # the golden tables are a terminal's, 80 wide
    for name in ("ANTHROPIC_ADMIN_KEY", "ROSTER_API_URL", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def roster(*args: str, **env: str) -> tuple[Result, list[LogEntry]]:
    """``roster activity ARGS --sandbox``, and the requests it made."""
    return run_in_sandbox(["activity", *args], env=env)


def paths(entries: list[LogEntry]) -> Counter[str]:
    return Counter(entry.path for entry in entries)


def queries(entries: list[LogEntry], path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(entry.query) for entry in entries if entry.path == path]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("activity.txt", []),
        ("activity-idle.txt", ["--idle"]),
        ("activity.md", ["--format", "markdown"]),
        ("activity-idle.md", ["--idle", "--format", "markdown"]),
        ("activity-7d.txt", ["--since", "7d"]),
    ],
)
def test_golden_output(name: str, args: list[str]) -> None:
    result, _ = roster(*args)
    assert (result.exit_code, result.stderr) == (0, "")
    golden(name, result.stdout)


def test_the_docs_show_what_the_sandbox_prints() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "reports.md").read_text(encoding="utf-8")
    for args in ([], ["--idle", "--format", "markdown"]):
        command = " ".join(["roster activity --sandbox", *args])
        fenced = rf"^(`{{3,}})\w+\n\$ {re.escape(command)}\n(.*?)^\1$"
        shown = re.search(fenced, docs, re.M | re.S)
        assert shown is not None, f"docs/reports.md lost its example of {command}"
        assert roster(*args)[0].stdout == shown.group(2)


def test_a_week_takes_a_claude_code_request_per_day_and_one_usage_request() -> None:
    result, made = roster("--since", "7d", "--format", "json")
    assert result.exit_code == 0
    assert paths(made) == Counter(
        {
            f"{ORG}/users": 1,
            f"{ORG}/invites": 1,
            f"{ORG}/api_keys": 1,
            CLAUDE_CODE: 8,  # the 7 whole days before today, and today so far
            MESSAGES: 1,
        }
    )
    days = sorted(q["starting_at"][0] for q in queries(made, CLAUDE_CODE))
    assert days == [f"2026-10-{d}" for d in range(26, 32)] + ["2026-11-01", "2026-11-02"]
    assert all(q["limit"] == ["1000"] and "page" not in q for q in queries(made, CLAUDE_CODE))
    (usage,) = queries(made, MESSAGES)
    assert usage == {
        "starting_at": ["2026-10-26T00:00:00Z"],
        "ending_at": ["2026-11-02T09:00:00Z"],
        "bucket_width": ["1d"],
        "limit": ["8"],
        "group_by[]": ["api_key_id", "account_id"],
    }
    (keys,) = queries(made, f"{ORG}/api_keys")
    assert "status" not in keys  # every key: an inactive one may have been used in the window
    assert json.loads(result.stdout)["window"] == window_since("7d", NOW).data


def test_a_long_window_takes_two_usage_requests() -> None:
    result, made = roster("--since", "2026-10-01", "--format", "csv")
    assert result.exit_code == 0
    assert paths(made)[CLAUDE_CODE] == 33
    assert sorted(q["limit"][0] for q in queries(made, MESSAGES)) == ["2", "31"]


def test_progress_goes_to_stderr() -> None:
    result, _ = roster("--since", "7d", "--format", "json", ROSTER_QUIET="0")
    assert result.exit_code == 0
    # The phases run side by side: in any order, each started before it is read.
    assert_phase_lines(
        result.stderr,
        [
            "reading API keys…",
            "reading Claude Code report: 0/8…",
            "reading usage report: 0/1…",
            "reading users…",
            "reading invites…",
            "read API keys: 3",
            "read users: 8",
            "read invites: 3",
            "read Claude Code report: 8/8",
            "read usage report: 1/1",
        ],
    )


def test_idle_keeps_only_idle_members() -> None:
    every = json.loads(roster("--format", "json")[0].stdout)
    idle = json.loads(roster("--idle", "--format", "json")[0].stdout)
    assert idle["idle_only"] is True
    assert idle["counts"] == every["counts"]
    assert idle["people"] == [p for p in every["people"] if p["state"] == "idle"]
    assert idle["people"]
    assert all(p["status"] == "member" and p["last_active"] is None for p in idle["people"])
    assert {p["status"] for p in every["people"]} == {"member", "pending"}


def test_the_formats_agree() -> None:
    data = json.loads(roster("--format", "json")[0].stdout)
    rows = list(csv.DictReader(io.StringIO(roster("--format", "csv")[0].stdout)))
    assert [{k: v or None for k, v in row.items()} for row in rows] == [
        {k: None if v is None else str(v) for k, v in p.items()} for p in data["people"]
    ]


def test_the_markdown_starts_with_its_marker() -> None:
    result, _ = roster("--idle", "--format", "markdown")
    assert result.stdout.startswith(f"{MARKER}\n\n## Idle seats\n\n")
    assert result.stdout.rstrip().endswith("Pending invites are never idle._")


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("3m", "Invalid value for '--since': '3m' is not a number of days or a date; use 30d"),
        ("2026-11-05", "Invalid value for '--since': '2026-11-05' is after today (2026-11-02)"),
        ("400d", "Invalid value for '--since': '400d' is more than 366 days before today"),
    ],
)
def test_a_window_that_means_nothing_is_a_usage_error(
    in_tmp: Path, since: str, message: str
) -> None:
    result, made = roster("--since", since)
    assert (result.exit_code, result.stdout, made) == (2, "", [])
    assert result.stderr.startswith("Usage: roster activity")
    assert result.stderr.splitlines()[-1].startswith(f"Error: {message}")
    assert not (in_tmp / ".roster-sandbox.json").exists()


def test_the_format_comes_from_the_environment() -> None:
    result, _ = roster(ROSTER_ACTIVITY_FORMAT="json", ROSTER_ACTIVITY_SINCE="7d")
    assert json.loads(result.stdout)["window"]["days"] == 8


def test_no_key_is_a_one_line_error() -> None:
    result = run_cli(["activity"], env={}, secrets=[])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no admin key")
    assert len(result.stderr.splitlines()) == 1


# --- end to end: emails and key names that try to act on a terminal -------------------------

EVIL_EMAIL = "evil\x1b[31m\x07\u202e@tinyco.io"  # lower-case, as roster reads every email
EVIL_KEY = "deploy\nkey\x1b[31m"


def with_hostile_people() -> None:
    """Tinyco, plus a member whose email and a key whose name carry control characters; the key
    is the new member's, so Claude Code names it (an ``api_actor``) on the days it has traffic."""
    store = sample_store()
    joined = format_time(SAMPLE_NOW - timedelta(days=200))
    user = User(store.new_id("user_"), EVIL_EMAIL, "Evil", "developer", joined)
    store.insert_user(user)
    store.insert_api_key(
        EmulatorKey(
            id=store.new_id("apikey_"),
            name=EVIL_KEY,
            workspace_id=store.default_workspace_id,
            created_by=user.id,
            created_at=joined,
            status="active",
            partial_key_hint="sk-ant-api03-Evl...k3yA",
        )
    )
    store.save(".roster-sandbox.json")


def test_hostile_emails_are_escaped_in_the_table_and_markdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLUMNS")
    with_hostile_people()
    shown = {
        "table": "evil\\x1b[31m\\x07\\u202e@tinyco.io  developer",
        "markdown": "| evil\\\\x1b\\[31m\\\\x07\\\\u202e@tinyco.io | developer |",
    }
    for output_format, escaped in shown.items():
        result, _ = roster("--format", output_format)
        assert (result.exit_code, result.stderr) == (0, "")
        assert all(line.isprintable() for line in result.stdout.splitlines())
        assert escaped in result.stdout
    golden("activity-hostile.txt", roster()[0].stdout)  # not a terminal: every cell whole


def test_hostile_emails_are_exact_in_json_and_csv() -> None:
    with_hostile_people()
    shown = roster("--format", "json")[0].stdout
    assert "\x1b" not in shown
    assert "\u202e" not in shown  # JSON spells them \u001b and \u202e, which parse back exactly
    (evil,) = [p for p in json.loads(shown)["people"] if p["email"] == EVIL_EMAIL]
    assert evil["state"] == "active"  # through the key it created, which the emulator uses
    rows = csv.DictReader(io.StringIO(roster("--format", "csv")[0].stdout, newline=""))
    assert EVIL_EMAIL in {r["email"] for r in rows}


# --- the Claude Code report's pages, through the client ---------------------------------------


@pytest.mark.anyio
async def test_a_day_of_claude_code_pages_like_one_page() -> None:
    org = Org(generate(60, seed=7))  # its clock stands at 2026-11-02T09:00Z
    client = org.client()
    whole = await client.report(CLAUDE_CODE, [("starting_at", "2026-10-28"), ("limit", "1000")])
    paged = await client.report(CLAUDE_CODE, [("starting_at", "2026-10-28"), ("limit", "2")])
    assert len(whole) > 4
    assert paged == whole
    uses = await fetch.claude_code_uses(
        client, window_since("0d", datetime(2026, 10, 28, 12, tzinfo=timezone.utc))
    )
    assert uses == list(code_uses("2026-10-28", whole))


def test_over_http_the_report_pages_and_activity_reads_it() -> None:
    app = create_app(generate(60, seed=7))
    window = window_since("2d", datetime(2026, 11, 2, 9, tzinfo=timezone.utc))
    with running_server(app) as url:
        paged, whole, report = asyncio.run(_over_http(url, window))
        made = httpx.get(f"{url}/_emulator/requests").json()["requests"]
    assert len(whole) > 4
    assert paged == whole
    pages = [parse_qs(e["query"]) for e in made if e["path"] == CLAUDE_CODE]
    assert sum("page" in q for q in pages) == -(-len(whole) // 2) - 1  # limit 2: every page
    assert len(pages) == -(-len(whole) // 2) + 1 + 3  # and once more per day for the report
    assert len(report.rows) > 60
    assert any(row.claude_code_sessions for row in report.rows)


async def _over_http(
    url: str, window: Window
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], ActivityReport]:
    async with make_http_client(url, Secret("sk-ant-admin01-activity-test-key-0001")) as http:
        client = AdminClient(http)
        day = [("starting_at", "2026-10-28")]
        paged = await client.report(CLAUDE_CODE, [*day, ("limit", "2")])
        whole = await client.report(CLAUDE_CODE, [*day, ("limit", "1000")])
        return paged, whole, await fetch.activity(client, window)


def test_dates_from_the_api_are_escaped_in_markdown_too() -> None:
    from datetime import datetime, timezone

    from roster.reports.activity import ActivityReport, ActivityRow, activity_markdown
    from roster.reports.governance import window_since

    window = window_since("7d", datetime(2026, 11, 2, 9, tzinfo=timezone.utc))
    row = ActivityRow("ada@x.io", "user", "member", "!@admins|", "idle", last_active="#1 @root|")
    markdown = activity_markdown(ActivityReport(window, (row,)))
    # In code spans, with the table's bar escaped: no mention, no issue link, no extra column.
    assert "| `!@admins\\|` | `#1 @root\\|` |" in markdown
