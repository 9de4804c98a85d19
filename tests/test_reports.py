"""The pure parts of the reports: dates, range splitting, sums, tables, charts, the cache."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roster.cache import MeCache, cache_dir, entry_name
from roster.credentials import Secret
from roster.model import Invite, Member, Organization
from roster.reports.charts import bar, mermaid_bars
from roster.reports.claude_code import Activity, claude_code_days, claude_code_report
from roster.reports.cost import CostQuery, cost_report, dollars, exact_sum
from roster.reports.dashboard import Section, Thresholds, dashboard, exceeded
from roster.reports.dates import (
    WIDTHS,
    DateError,
    Period,
    bucket_count,
    last_days,
    parse_moment,
    report_period,
    split_range,
)
from roster.reports.forecast import MonthToDate
from roster.reports.members import member_rows
from roster.reports.render import render_cost, render_members, render_usage
from roster.reports.report import render_report
from roster.reports.table import Column, render_table
from roster.reports.usage import Tokens, UsageQuery, tokens_of, usage_report

UTC = timezone.utc
NOW = datetime(2026, 11, 2, 9, 30, 15, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", "2026-10-26T09:30:15"),
        ("24h", "2026-11-01T09:30:15"),
        ("30m", "2026-11-02T09:00:15"),
        ("0d", "2026-11-02T09:30:15"),
        ("now", "2026-11-02T09:30:15"),
        ("today", "2026-11-02T00:00:00"),
        ("Yesterday", "2026-11-01T00:00:00"),
        ("2025-01-01", "2025-01-01T00:00:00"),
        ("2025-01-01T12:34:56Z", "2025-01-01T12:34:56"),
        ("2025-01-01T12:34:56.5z", "2025-01-01T12:34:56.500000"),
        ("2025-01-01T12:00:00+02:00", "2025-01-01T10:00:00"),
        ("2025-01-01T12:00:00", "2025-01-01T12:00:00"),
        (" 2d ", "2026-10-31T09:30:15"),
    ],
)
def test_parse_moment(text: str, expected: str) -> None:
    assert parse_moment(text, NOW) == at(expected)


@pytest.mark.parametrize(
    "text", ["", "7", "d7", "7w", "-3d", "2025-13-01", "tomorrow", "2025/01/01"]
)
def test_parse_moment_refuses(text: str) -> None:
    with pytest.raises(DateError, match="is not a date"):
        parse_moment(text, NOW)


@pytest.mark.parametrize(
    ("width", "start", "end", "buckets"),
    [
        ("1d", "2026-10-01T00:00:00", "2026-10-08T00:00:00", 7),
        ("1d", "2026-10-01T00:00:00", "2026-10-08T00:00:01", 8),
        ("1h", "2026-10-01T00:00:00", "2026-10-01T05:30:00", 6),
        ("1m", "2026-10-01T00:00:00", "2026-10-01T00:01:00", 1),
    ],
)
def test_bucket_count(width: str, start: str, end: str, buckets: int) -> None:
    assert bucket_count(at(start), at(end), width) == buckets


def test_report_period_snaps_the_start_to_its_bucket() -> None:
    period = report_period(at("2026-10-26T09:30:15"), NOW, "1d")
    assert period == Period(at("2026-10-26T00:00:00"), NOW)
    assert report_period(NOW - timedelta(minutes=90), NOW, "1h").start == at("2026-11-02T08:00:00")


def test_report_period_refuses_an_end_before_the_start() -> None:
    with pytest.raises(DateError):
        report_period(NOW, NOW - timedelta(days=1), "1d")


@pytest.mark.parametrize(
    ("width", "days", "limits"),
    [
        ("1d", 70, [31, 31, 8]),
        ("1d", 31, [31]),
        ("1d", 32, [31, 1]),
        ("1h", 200 / 24, [168, 32]),
        ("1m", 1, [1440]),
        ("1m", 2.5, [1440, 1440, 720]),
    ],
)
def test_split_range_respects_the_bucket_limit(width: str, days: float, limits: list[int]) -> None:
    start = at("2026-08-01T00:00:00")
    query = UsageQuery(Period(start, start + timedelta(days=days)), width)
    assert [chunk.limit for chunk in query.chunks] == limits


@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 1, 1)),
    minutes=st.integers(min_value=1, max_value=60 * 24 * 200),
    width=st.sampled_from(["1d", "1h"]),
)
def test_chunks_cover_the_period_exactly(start: datetime, minutes: int, width: str) -> None:
    period = report_period(
        start.replace(tzinfo=UTC), start.replace(tzinfo=UTC) + timedelta(minutes=minutes), width
    )
    chunks = split_range(period, width, 31)
    assert chunks[0].starting_at == period.start
    assert chunks[-1].ending_at == period.end
    assert all(a.ending_at == b.starting_at for a, b in itertools.pairwise(chunks))
    assert all(1 <= c.limit <= 31 for c in chunks)
    assert sum(c.limit for c in chunks) == bucket_count(period.start, period.end, width)


def test_last_days_are_complete_days_before_today() -> None:
    assert last_days(NOW, 7) == Period(at("2026-10-26T00:00:00"), at("2026-11-02T00:00:00"))
    assert CostQuery(last_days(NOW, 40)).chunks[0].limit == 31


# --- usage -----------------------------------------------------------------------------------


def result(uncached: int, read: int, w5: int, w1: int, out: int, **dims: str | None) -> dict:
    creation = {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1}
    return {
        "uncached_input_tokens": uncached,
        "cache_read_input_tokens": read,
        "cache_creation": creation,
        "output_tokens": out,
        **dims,
    }


def bucket(day: str, *results: dict) -> dict:
    start = at(f"{day}T00:00:00")
    end = start + timedelta(days=1)
    return {
        "starting_at": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ending_at": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "results": list(results),
    }


WEEK = Period(at("2026-10-01T00:00:00"), at("2026-10-03T00:00:00"))


def test_tokens_of_adds_both_cache_writes() -> None:
    assert tokens_of(result(1, 2, 3, 4, 5)) == Tokens(1, 2, 7, 5)
    assert Tokens(1, 2, 7, 5).total == 15


def test_usage_groups_by_workspace_name_and_default() -> None:
    buckets = [
        bucket(
            "2026-10-02",
            result(10, 0, 0, 0, 1, workspace_id=None),
            result(20, 0, 0, 0, 2, workspace_id="wrkspc_b"),
        ),
        bucket("2026-10-01", result(5, 1, 1, 1, 1, workspace_id="wrkspc_gone")),
    ]
    report = usage_report(WEEK, "1d", ["workspace"], buckets, {"wrkspc_b": "Prod"})
    assert [b.starting_at[:10] for b in report.buckets] == ["2026-10-01", "2026-10-02"]
    assert [(g.group.labels, g.tokens.total) for g in report.groups] == [
        (("Prod",), 22),
        (("Default",), 11),
        (("wrkspc_gone",), 9),
    ]
    assert report.totals == Tokens(35, 1, 2, 4)


def test_usage_table_fits_80_columns_and_csv_round_trips() -> None:
    long_model = "claude-an-extraordinarily-long-model-name-20991231"
    buckets = [bucket("2026-10-01", result(123_456_789, 0, 0, 0, 1, model=long_model))]
    report = usage_report(WEEK, "1d", ["model"], buckets)
    table = render_usage(report, "table")
    assert all(len(line) <= 80 for line in table.splitlines())
    assert table.splitlines()[2] == (
        "Newest usage: bucket 2026-10-01; the last ~5 minutes may be missing."
    )
    assert table.splitlines()[4:] == [
        "MODEL                                UNCACHED  CACHE RD  CACHE WR  OUTPUT  TOTAL",
        "claude-an-extraordinarily-long-mod…      123M         0         0       1   123M",
        "Total                                    123M         0         0       1   123M",
    ]
    rows = render_usage(report, "csv").splitlines()
    assert (
        rows[0] == "starting_at,ending_at,model,uncached_input,cache_read,cache_write,output,total"
    )
    assert rows[1].endswith(f"{long_model},123456789,0,0,1,123456790")


def test_empty_usage_renders_in_every_format() -> None:
    report = usage_report(WEEK, "1d", ["model"], [bucket("2026-10-01"), bucket("2026-10-02")])
    assert "No usage in this period." in render_usage(report, "table")
    assert render_usage(report, "csv").count("\n") == 1
    data = json.loads(render_usage(report, "json"))
    assert data["totals"]["total"] == 0
    assert [len(b["groups"]) for b in data["buckets"]] == [0, 0]


# --- cost ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        ("0", "$0.00"),
        ("123456.5", "$1,234.56"),  # half a cent of a dollar: to the even cent
        ("123457.5", "$1,234.58"),
        ("0.4999", "$0.00"),
        ("-250", "-$2.50"),
        ("100000000", "$1,000,000.00"),
    ],
)
def test_dollars(cents: str, shown: str) -> None:
    assert dollars(Decimal(cents)) == shown


def test_cost_sums_are_exact() -> None:
    amounts = ["0.1", "0.2", "623.2224", "0.0000000000000000000000001"]
    buckets = [bucket("2026-10-01", *({"amount": a, "description": a} for a in amounts))]
    report = cost_report(WEEK, ["description"], buckets)
    assert report.cents == Decimal("623.5224000000000000000000001")
    assert exact_sum(g.cents for g in report.groups) == report.cents
    data = json.loads(render_cost(report, "json"))
    assert data["total"] == {
        "cents": "623.5224000000000000000000001",
        "usd": "6.235224000000000000000000001",
    }


@given(st.lists(st.decimals(min_value=0, max_value=10**9, places=6), max_size=50))
def test_exact_sum_equals_python_sum_when_that_is_exact(amounts: list[Decimal]) -> None:
    assert exact_sum(amounts) == sum(amounts, Decimal(0))


# --- members ---------------------------------------------------------------------------------

ACME = Organization("org-1", "Acme")
MEMBERS = (
    Member("user_1", "zed@acme.com", "Zed", "admin", "2025-01-01T00:00:00Z"),
    Member("user_2", "amy@acme.com", "Amy", "developer", "2025-02-01T00:00:00Z"),
    Member("user_3", "bob@acme.com", "Bob", "developer", "2025-03-01T00:00:00Z"),
)
INVITES = (
    Invite(
        "inv_1", "kim@acme.com", "user", "pending", "2026-10-30T00:00:00Z", "2026-11-20T00:00:00Z"
    ),
    Invite(
        "inv_2", "old@acme.com", "user", "expired", "2026-09-01T00:00:00Z", "2026-09-22T00:00:00Z"
    ),
)


@pytest.mark.parametrize(
    ("roles", "statuses", "emails"),
    [
        ((), (), ["amy", "bob", "kim", "old", "zed"]),
        (("developer",), (), ["amy", "bob"]),
        (("user", "admin"), (), ["kim", "old", "zed"]),
        ((), ("pending", "expired"), ["kim", "old"]),
        (("user",), ("member",), []),
    ],
)
def test_member_rows_filter_and_sort(roles: tuple, statuses: tuple, emails: list[str]) -> None:
    rows = member_rows(MEMBERS, INVITES, roles=roles, statuses=statuses)
    assert [r.email.split("@")[0] for r in rows] == emails


def test_members_table_and_csv() -> None:
    rows = member_rows(MEMBERS, INVITES)
    assert render_members(rows, "table").splitlines()[:3] == [
        "EMAIL         NAME  ROLE       STATUS   JOINED/EXP",
        "amy@acme.com  Amy   developer  member   2025-02-01",
        "bob@acme.com  Bob   developer  member   2025-03-01",
    ]
    assert render_members(rows, "csv").splitlines()[3] == (
        "kim@acme.com,,user,pending,,2026-11-20T00:00:00Z"
    )
    assert render_members((), "table") == "No members or invites match.\n"


# --- tables and charts -----------------------------------------------------------------------


def test_table_shrinks_only_text_columns_to_fit() -> None:
    columns = [Column("NAME", shrink=True), Column("NOTE", shrink=True), Column("N", "right")]
    rows = [["x" * 60, "y" * 40, "1,000,000"]]
    lines = render_table(columns, rows).splitlines()
    assert max(len(line) for line in lines) == 80
    assert lines[1].endswith("…  1,000,000")


@pytest.mark.parametrize(
    ("value", "largest", "drawn"),
    [(0, 10, ""), (10, 10, "█" * 30), (5, 10, "█" * 15), (1, 1000, "▏"), (1, 240, "▏"), (7, 0, "")],
)
def test_bar(value: int, largest: int, drawn: str) -> None:
    assert bar(value, largest) == drawn


def test_mermaid_chart_scales_its_axis() -> None:
    chart = mermaid_bars('Tokens "per" day', ["10-01", "10-02"], [1_500_000, 12_345_678], "Tokens")
    assert chart.splitlines() == [
        "```mermaid",
        "xychart-beta",
        "    title \"Tokens 'per' day\"",
        '    x-axis ["10-01", "10-02"]',
        '    y-axis "Tokens (millions)" 0 --> 13',
        "    bar [1.50, 12.35]",
        "```",
    ]
    assert "0 --> 1" in mermaid_bars("t", ["a"], [0], "Tokens")


# --- dashboard thresholds --------------------------------------------------------------------


def board_with(tokens: int, cents: str):  # type: ignore[no-untyped-def]
    usage = usage_report(
        WEEK, "1d", ["model"], [bucket("2026-10-01", result(tokens, 0, 0, 0, 0, model="m"))]
    )
    cost = cost_report(WEEK, [], [bucket("2026-10-01", {"amount": cents})])
    return dashboard(ACME, MEMBERS, INVITES, usage, cost, month=MonthToDate(WEEK.end))


@pytest.mark.parametrize(
    ("thresholds", "messages"),
    [
        (Thresholds(), []),
        (Thresholds(max_tokens=1000), []),
        (Thresholds(max_tokens=999), ["tokens 1,000 exceed --fail-over-tokens 999"]),
        (Thresholds(max_cost_usd=Decimal("12.35")), []),
        (
            Thresholds(max_cost_usd=Decimal("12.34")),
            ["cost $12.35 exceeds --fail-over-cost $12.34"],
        ),
        (
            Thresholds(max_cost_usd=Decimal("12.3450")),
            ["cost $12.35 exceeds --fail-over-cost $12.3450"],
        ),
    ],
)
def test_thresholds(thresholds: Thresholds, messages: list[str]) -> None:
    assert list(exceeded(board_with(1000, "1234.6"), thresholds)) == messages


def test_a_cost_just_over_the_budget_says_so_exactly() -> None:
    (message,) = exceeded(board_with(1, "1000.001"), Thresholds(max_cost_usd=Decimal(10)))
    assert message == "cost $10.00 (exactly $10.00001) exceeds --fail-over-cost $10"


def test_dashboard_has_every_day_and_counts_people() -> None:
    board = board_with(1000, "5")
    assert [(d.date, d.tokens) for d in board.days] == [("2026-10-01", 1000), ("2026-10-02", 0)]
    assert (board.members, board.pending_invites) == (3, 1)
    assert board.roles == (("developer", 2), ("admin", 1))


# --- the /me cache ---------------------------------------------------------------------------

KEY = Secret("sk-ant-admin01-test-cache-key-000")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_cache_dir_follows_xdg(tmp_path: Path) -> None:
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "roster"
    assert cache_dir({}) == Path.home() / ".cache" / "roster"


def test_cache_expires_after_five_minutes(tmp_path: Path) -> None:
    clock = Clock()
    cache = MeCache.for_key(KEY, "https://api.example", tmp_path)
    cache = MeCache(cache.path, cache.api_url, now=clock)
    assert cache.get() is None
    cache.put({"id": "org-1", "name": "Acme"})
    clock.now += timedelta(minutes=4, seconds=59)
    assert cache.get() == {"id": "org-1", "name": "Acme"}
    clock.now += timedelta(seconds=1)
    assert cache.get() is None


def test_cache_is_keyed_by_key_and_url_and_never_holds_the_key(tmp_path: Path) -> None:
    other_key = Secret("sk-ant-admin01-another-key-00000")
    names = {
        entry_name(KEY, "https://api.example"),
        entry_name(other_key, "https://api.example"),
        entry_name(KEY, "http://127.0.0.1:8787"),
    }
    assert len(names) == 3
    cache = MeCache.for_key(KEY, "https://api.example", tmp_path)
    cache.put({"id": "org-1", "name": "Acme"})
    text = cache.path.read_text()
    assert KEY.reveal() not in text
    assert KEY.reveal() not in cache.path.name


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"fetched_at": "yesterday"}',
        b"\xff\xfe",
        b'{"fetched_at": "2026-11-02T09:00:00+00:00", "organization": []}',
    ],
)
def test_a_broken_cache_is_a_miss_and_is_rewritten(tmp_path: Path, content: bytes) -> None:
    cache = MeCache.for_key(KEY, "https://api.example", tmp_path)
    cache.path.parent.mkdir(parents=True, exist_ok=True)
    cache.path.write_bytes(content)
    assert cache.get() is None
    cache.put({"id": "org-1", "name": "Acme"})
    assert cache.get() == {"id": "org-1", "name": "Acme"}


def test_an_unwritable_cache_is_ignored(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = MeCache.for_key(KEY, "https://api.example", blocker)
    cache.put({"id": "org-1", "name": "Acme"})
    assert cache.get() is None


# --- Claude Code -----------------------------------------------------------------------------


def code_record(actor: dict, sessions: int = 1, added: int = 0, *counts: int) -> dict:
    """A record with these sessions and lines added, and removed lines, commits and PRs."""
    removed, commits, prs = (*counts, 0, 0, 0)[:3]
    return {
        "date": "2026-10-01T00:00:00Z",
        "actor": actor,
        "core_metrics": {
            "num_sessions": sessions,
            "lines_of_code": {"added": added, "removed": removed},
            "commits_by_claude_code": commits,
            "pull_requests_by_claude_code": prs,
        },
    }


def person(email: str) -> dict:
    return {"type": "user_actor", "email_address": email}


def api_key(name: str) -> dict:
    return {"type": "api_actor", "api_key_name": name}


def test_claude_code_days_are_the_utc_days_of_the_period() -> None:
    assert claude_code_days(WEEK) == ("2026-10-01", "2026-10-02")
    assert claude_code_days(Period(at("2026-10-01T00:00:00"), at("2026-10-01T09:00:00"))) == (
        "2026-10-01",
    )


def test_claude_code_sums_per_actor_and_ranks_by_sessions() -> None:
    report = claude_code_report(
        WEEK,
        {
            "2026-10-01": [
                code_record(person("amy@acme.com"), 2, 100, 10, 1, 0),
                code_record(api_key("ci-bot"), 5, 40, 0, 3, 2),
                code_record(person("bob@acme.com"), 1, 7),
            ],
            # The day asked for counts, whatever the record's own date says.
            "2026-10-02": [code_record(person("amy@acme.com"), 4, 50, 5, 0, 1)],
        },
    )
    assert [(a.actor.name, a.days, a.activity.sessions) for a in report.actors] == [
        ("amy@acme.com", 2, 6),
        ("ci-bot", 1, 5),
        ("bob@acme.com", 1, 1),
    ]
    assert report.totals == Activity(12, 197, 15, 4, 3)
    assert (report.active_users, report.api_keys) == (2, 1)
    assert report.actors[1].actor.data == {"type": "api_actor", "api_key_name": "ci-bot"}


def test_claude_code_ties_rank_by_lines_then_name_and_missing_metrics_are_zero() -> None:
    records = [
        {"actor": person("zed@acme.com")},
        code_record(person("kim@acme.com"), 1, 5),
        code_record(person("amy@acme.com"), 1, 5),
        code_record(person("old@acme.com"), 1, 9),
    ]
    report = claude_code_report(WEEK, {"2026-10-01": records})
    assert [a.actor.name for a in report.actors] == [
        "old@acme.com",
        "amy@acme.com",
        "kim@acme.com",
        "zed@acme.com",
    ]
    assert report.actors[-1].activity == Activity()
    assert len(report.top) == 4
    assert claude_code_report(WEEK, {}).actors == ()


# --- rendering the dashboard -----------------------------------------------------------------

HOSTILE = "evil\x1b[2J\u202e@team|`x`*"


def full_board():  # type: ignore[no-untyped-def]
    code = claude_code_report(
        WEEK,
        {
            "2026-10-01": [
                code_record(person(f"{HOSTILE}@acme.com"), 3, 1200, 40, 2, 1),
                code_record(api_key(HOSTILE), 1, 10),
            ]
        },
    )
    section = Section("Governance", (("Idle seats", f"1: {HOSTILE}"),), {"idle_seats": [HOSTILE]})
    return replace(board_with(1000, "5"), claude_code=code, governance=section)


def test_names_are_escaped_in_text_and_markdown_and_exact_in_json() -> None:
    board = full_board()
    for shown in (render_report(board, "text"), render_report(board, "markdown")):
        assert "\x1b" not in shown
        assert "\u202e" not in shown
        assert "\\x1b[2J\\u202e" in shown
    markdown = render_report(board, "markdown")
    escaped = r"evil\\x1b\[2J\\u202e@team\|\`x\`\*"
    assert f"| {escaped} (API key) | 1 |" in markdown
    assert f"| Idle seats | 1: {escaped} |\n" in markdown
    assert HOSTILE not in markdown
    data = json.loads(render_report(board, "json"))
    actors = data["claude_code"]["actors"]
    assert actors[0]["actor"] == {"type": "user_actor", "email_address": f"{HOSTILE}@acme.com"}
    assert actors[1]["actor"] == {"type": "api_actor", "api_key_name": HOSTILE}
    assert data["governance"] == {"idle_seats": [HOSTILE]}


def test_the_text_report_fits_80_columns_and_shows_every_section() -> None:
    text = render_report(full_board(), "text")
    assert all(len(line) <= 80 for line in text.splitlines())
    for heading in ("GOVERNANCE", "OCTOBER 2026 (UTC)", "CLAUDE CODE", "TOP CLAUDE CODE USERS"):
        assert any(line.startswith(heading) for line in text.splitlines()), heading
    assert text.endswith(
        "Data as of 2026-10-03 00:00 UTC; newest usage: bucket 2026-10-01.\n"
        "The last ~5 minutes of usage (of Claude Code, the last hour) may be missing.\n"
    )


def test_a_report_without_the_optional_sections_leaves_them_out() -> None:
    board = board_with(1000, "5")
    text = render_report(board, "text")
    assert "GOVERNANCE" not in text
    assert "CLAUDE CODE" not in text
    assert text.endswith("The last ~5 minutes of usage may be missing.\n")
    data = json.loads(render_report(board, "json"))
    assert (data["claude_code"], data["governance"]) == (None, None)
    assert "### Governance" not in render_report(board, "markdown")


def test_a_period_without_claude_code_says_so() -> None:
    board = replace(board_with(1000, "5"), claude_code=claude_code_report(WEEK, {}))
    assert "No Claude Code use in this period.\n" in render_report(board, "text")
    assert "### Claude Code\n\nNo Claude Code use in this period." in render_report(
        board, "markdown"
    )


def test_usage_knows_its_newest_bucket_with_data() -> None:
    buckets = [bucket("2026-10-01", result(1, 0, 0, 0, 0)), bucket("2026-10-02")]
    report = usage_report(WEEK, "1d", [], buckets)
    assert report.newest is not None
    assert report.newest.starting_at == "2026-10-01T00:00:00Z"
    assert usage_report(WEEK, "1d", [], [bucket("2026-10-01")]).newest is None


@pytest.mark.parametrize(
    ("width", "start", "shown"),
    [
        ("1d", "2026-10-01T00:00:00", "Newest usage: bucket 2026-10-01;"),
        ("1h", "2026-10-01T13:00:00", "Newest usage: bucket 2026-10-01 13:00 UTC;"),
        ("1m", "2026-10-01T13:59:00", "Newest usage: bucket 2026-10-01 13:59 UTC;"),
    ],
)
def test_usage_and_cost_tables_say_how_fresh_they_are(width: str, start: str, shown: str) -> None:
    begin = at(start)
    end = begin + WIDTHS[width]
    api_bucket = {
        "starting_at": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ending_at": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "results": [result(1, 0, 0, 0, 0)],
    }
    report = usage_report(Period(begin, end), width, [], [api_bucket])
    assert render_usage(report, "table").splitlines()[2].startswith(shown)
    empty = usage_report(WEEK, "1d", [], [bucket("2026-10-01")])
    assert "Newest" not in render_usage(empty, "table")
    cost = cost_report(WEEK, [], [bucket("2026-10-01", {"amount": "1"}), bucket("2026-10-02")])
    assert render_cost(cost, "table").splitlines()[1] == "Newest cost: bucket 2026-10-01."
