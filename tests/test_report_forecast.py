"""What ``roster report`` tells beyond its period: the month-end forecast (the projection,
table-driven over the month's edges, and its thresholds), how fresh the data is, and Claude Code
use; and the requests each adds, counted in the emulator's log, in process and over HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from click.testing import CliRunner, Result

from roster.api import AdminClient
from roster.cli import RosterGroup
from roster.cli.reports import commands
from roster.emulator.app import create_app
from roster.emulator.control import Control
from roster.emulator.sample import sample_store
from roster.emulator.server import running_server
from roster.emulator.transport import InProcessTransport
from roster.model import Organization
from roster.reports import fetch
from roster.reports.claude_code import claude_code_days, claude_code_report
from roster.reports.cost import cost_report, dollars
from roster.reports.dashboard import Thresholds, dashboard, exceeded
from roster.reports.dates import Period, last_days
from roster.reports.forecast import (
    MonthToDate,
    complete_days,
    forecast,
    month_of,
    month_to_date,
    pace,
    projected,
)
from roster.reports.usage import usage_report

UTC = timezone.utc
USAGE = "/v1/organizations/usage_report/messages"
COST = "/v1/organizations/cost_report"
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
KEY = "sk-ant-admin01-forecast-test-key-0001"
roster = RosterGroup(commands={command.name: command for command in commands})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def daily(first: str, values: list[int | str]) -> dict[str, Decimal]:
    """Consecutive days from ``first``, each with its value."""
    start = at(f"{first}T00:00:00")
    return {
        (start + timedelta(days=i)).strftime("%Y-%m-%d"): Decimal(value)
        for i, value in enumerate(values)
    }


# --- the projection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "used", "whole_days", "expected"),
    [
        # The first instant of a month: nothing used, no time elapsed, nothing projected.
        pytest.param("2026-12-01T00:00:00", {}, 0, "0", id="first instant"),
        # The first day: no complete day, so the pace is the month so far per elapsed day.
        pytest.param("2026-12-01T06:00:00", daily("2026-12-01", [600]), 0, "74400", id="first day"),
        # The second day's midnight: one complete day is the pace for all 30 left.
        pytest.param(
            "2026-11-02T00:00:00", daily("2026-11-01", [100]), 1, "3000", id="second midnight"
        ),
        # The last day: the average of 30 complete days for the quarter of a day left.
        pytest.param(
            "2026-10-31T18:00:00",
            daily("2026-10-01", [100] * 30 + [50]),
            30,
            "3075",
            id="last day",
        ),
        # Its last second: the month as it stands, and a sliver of a day at the pace.
        pytest.param(
            "2026-10-31T23:59:59",
            daily("2026-10-01", [100] * 31),
            30,
            str(Decimal(3100) + Decimal(100) / 86400),
            id="last second",
        ),
        pytest.param("2026-11-17T12:00:00", {}, 16, "0", id="no usage"),
        pytest.param(
            "2026-11-17T12:00:00",
            daily("2026-11-01", [0] * 17),
            16,
            "0",
            id="zero usage every day",
        ),
        # February: 28 days, so 18.5 left at 12:00 on the 10th; 29 in a leap year.
        pytest.param(
            "2027-02-10T12:00:00",
            daily("2027-02-01", [100] * 9 + [40]),
            9,
            "2790",
            id="february",
        ),
        pytest.param(
            "2028-02-10T12:00:00",
            daily("2028-02-01", [100] * 9 + [40]),
            9,
            "2890",
            id="february, leap year",
        ),
        # Days without a bucket count as days without use; other months do not count.
        pytest.param(
            "2026-11-05T00:00:00",
            {"2026-10-31": Decimal(10_000), "2026-11-02": Decimal(400)},
            4,
            "3000",
            id="gaps and another month",
        ),
        # Cents keep their fractions until the forecast rounds them.
        pytest.param(
            "2026-11-03T00:00:00",
            daily("2026-11-01", ["0.5", "0.25"]),
            2,
            "11.25",
            id="fractions",
        ),
    ],
)
def test_projected(now: str, used: dict[str, Decimal], whole_days: int, expected: str) -> None:
    moment = at(now)
    assert complete_days(moment) == whole_days
    assert projected(used, moment) == Decimal(expected)


def test_the_pace_of_the_first_day_is_per_elapsed_day() -> None:
    assert pace(daily("2026-12-01", [600]), at("2026-12-01T06:00:00")) == 2400
    assert pace({}, at("2026-12-01T00:00:00")) == 0


def test_the_pace_ignores_today_once_a_day_is_complete() -> None:
    # Today's bucket is still filling: 10 so far says little about the day.
    used = daily("2026-11-01", [300, 500, 10])
    assert pace(used, at("2026-11-03T01:00:00")) == 400


@pytest.mark.parametrize(
    ("now", "start", "end", "days"),
    [
        ("2026-11-02T09:00:00", "2026-11-01", "2026-12-01", 30),
        ("2026-12-31T23:59:59", "2026-12-01", "2027-01-01", 31),
        ("2027-02-14T00:00:00", "2027-02-01", "2027-03-01", 28),
        ("2028-02-29T12:00:00", "2028-02-01", "2028-03-01", 29),
    ],
)
def test_month_of(now: str, start: str, end: str, days: int) -> None:
    month = month_of(at(now))
    assert month == Period(at(f"{start}T00:00:00"), at(f"{end}T00:00:00"))
    assert (month.end - month.start).days == days


def test_month_to_date_is_to_the_second_and_empty_at_the_first_one() -> None:
    assert month_to_date(at("2026-12-01T00:00:00")) is None
    assert month_to_date(at("2026-12-01T00:00:00.900000")) is None
    assert month_to_date(at("2026-12-01T00:00:01.500000")) == Period(
        at("2026-12-01T00:00:00"), at("2026-12-01T00:00:01")
    )


# --- the forecast of a dashboard -------------------------------------------------------------

NOW = at("2026-11-02T09:00:00")
MONTH = Period(at("2026-11-01T00:00:00"), NOW)


def bucket(day: str, tokens: int) -> dict[str, Any]:
    start = at(f"{day}T00:00:00")
    return {
        "starting_at": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ending_at": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "results": [{"uncached_input_tokens": tokens}] if tokens else [],
    }


def cost_bucket(day: str, cents: str) -> dict[str, Any]:
    return {**bucket(day, 0), "results": [{"amount": cents}]}


def month_of_use(tokens: list[int], cents: list[str], now: datetime = NOW) -> MonthToDate:
    days = [f"2026-11-{n:02d}" for n in range(1, len(tokens) + 1)]
    period = Period(at("2026-11-01T00:00:00"), now)
    return MonthToDate(
        now,
        usage_report(period, "1d", (), [bucket(d, t) for d, t in zip(days, tokens, strict=True)]),
        cost_report(period, (), [cost_bucket(d, c) for d, c in zip(days, cents, strict=True)]),
    )


def test_forecast_rounds_tokens_to_a_token_and_cost_to_a_cent() -> None:
    # 28.625 days left at 1,001 tokens and 333.3333 cents a day.
    ahead = forecast(month_of_use([1001, 1], ["333.3333", "0.0001"]))
    assert (ahead.tokens, ahead.cents) == (1002, Decimal("333.3334"))
    assert ahead.projected_tokens == 1002 + 28654  # 28,654.625 rounds down
    assert ahead.projected_cents == Decimal(9875)  # 333.3334 + 9,541.6657...
    assert (ahead.days_in_month, ahead.complete_days) == (30, 1)


def test_forecast_of_a_month_not_yet_begun() -> None:
    ahead = forecast(MonthToDate(at("2026-12-01T00:00:00")))
    assert (ahead.tokens, ahead.cents, ahead.projected_tokens, ahead.projected_cents) == (
        0,
        Decimal(0),
        0,
        Decimal(0),
    )


ACME = Organization("org-1", "Acme")


def board_for(month: MonthToDate):  # type: ignore[no-untyped-def]
    week = last_days(NOW, 7)
    return dashboard(
        ACME,
        (),
        (),
        usage_report(week, "1d", ("model",), []),
        cost_report(week, (), []),
        month=month,
    )


@pytest.mark.parametrize(
    ("thresholds", "messages"),
    [
        (Thresholds(max_forecast_tokens=30_001), []),
        (
            Thresholds(max_forecast_tokens=30_000),
            ["projected month-end tokens 30,001 exceed --fail-forecast-over-tokens 30,000"],
        ),
        (Thresholds(max_forecast_cost_usd=Decimal("300.01")), []),
        (
            Thresholds(max_forecast_cost_usd=Decimal(300)),
            ["projected month-end cost $300.01 exceeds --fail-forecast-over-cost $300"],
        ),
        # The period's own thresholds stay the period's: it used nothing.
        (Thresholds(max_tokens=0, max_cost_usd=Decimal(0)), []),
    ],
)
def test_forecast_thresholds(thresholds: Thresholds, messages: list[str]) -> None:
    # 1,000 tokens and $10 a day; 29.625 days left after the first: 30,001 and $300.01.
    month = month_of_use([1000, 376], ["1000", "376.25"])
    assert list(exceeded(board_for(month), thresholds)) == messages


def test_freshness_is_the_newest_bucket_with_usage() -> None:
    board = board_for(month_of_use([1000, 0], ["0", "0"]))
    assert board.freshness.as_of == NOW
    assert board.freshness.newest == Period(at("2026-11-01T00:00:00"), at("2026-11-02T00:00:00"))
    assert board_for(MonthToDate(NOW)).freshness.newest is None


# --- requests --------------------------------------------------------------------------------


@asynccontextmanager
async def emulated(now: datetime) -> AsyncIterator[tuple[AdminClient, Control]]:
    store = sample_store()
    store.clock.set_now(now)
    control = Control()
    transport = InProcessTransport(create_app(store, control=control))
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient(
        transport=transport, base_url="https://api.anthropic.com", headers=headers
    ) as http:
        yield AdminClient(http), control


def requests_to(control: Control, path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(entry.query) for entry in control.log.entries if entry.path == path]


@pytest.mark.anyio
async def test_the_month_takes_one_usage_and_one_cost_request() -> None:
    async with emulated(NOW) as (client, control):
        board = await fetch.report(client, last_days(NOW, 7), NOW)
    month = {
        "starting_at": ["2026-11-01T00:00:00Z"],
        "ending_at": ["2026-11-02T09:00:00Z"],
        "limit": ["2"],
    }
    usage_queries = requests_to(control, USAGE)
    # The week's, grouped by model; the month's; the governance window's, by key and account.
    assert len(usage_queries) == 3
    assert {**month, "bucket_width": ["1d"]} in usage_queries
    assert month in requests_to(control, COST)
    assert len(requests_to(control, COST)) == 2
    assert board.forecast.tokens > 0
    days = [f"2026-10-{day}" for day in range(26, 32)] + ["2026-11-01"]
    window = [f"2026-10-{day:02}" for day in range(3, 32)] + ["2026-11-01", "2026-11-02"]
    code = requests_to(control, CLAUDE_CODE)
    # One a day, one page each, each day once: the week's lie within the governance window's.
    assert set(days) <= set(window)
    assert sorted(q["starting_at"][0] for q in code) == window
    assert all(q["limit"] == ["1000"] and "page" not in q for q in code)
    # /me, users, invites; usage; cost; days; API keys and the two workspace lists.
    assert len(control.log.entries) == 3 + 3 + 2 + 31 + 1 + 2


@pytest.mark.anyio
async def test_the_first_second_of_a_month_asks_nothing_for_it() -> None:
    first = at("2026-12-01T00:00:00")
    async with emulated(first) as (client, control):
        board = await fetch.report(client, last_days(first, 7), first)
    # The governance window's, by key and account, aside: the month asks for nothing.
    usage = [q for q in requests_to(control, USAGE) if "api_key_id" not in q.get("group_by[]", [])]
    assert len(usage) == len(requests_to(control, COST)) == 1
    assert board.forecast.projected_tokens == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("now", "limit"),
    [("2026-12-01T06:00:00", "1"), ("2026-12-31T23:00:00", "31"), ("2027-02-28T12:00:00", "28")],
)
async def test_the_month_is_one_request_whatever_the_day(now: str, limit: str) -> None:
    async with emulated(at(now)) as (client, control):
        month = await fetch.month_to_date(client, at(now))
    (usage_query,) = requests_to(control, USAGE)
    (cost_query,) = requests_to(control, COST)
    assert usage_query["limit"] == cost_query["limit"] == [limit]
    assert month.usage is not None
    assert len(month.usage.buckets) == int(limit)


# --- the command -----------------------------------------------------------------------------


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    return tmp_path


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(roster, list(args), catch_exceptions=False, env=env)


def forecast_json(*args: str) -> dict[str, Any]:
    result = invoke("report", "--sandbox", "--format", "json", *args)
    assert result.exit_code == 0
    return dict(json.loads(result.stdout)["forecast"])


def test_the_forecast_in_json_agrees_with_roster_usage_and_cost(sandbox: Path) -> None:
    ahead = forecast_json()
    assert ahead["month"] == {
        "starting_at": "2026-11-01T00:00:00Z",
        "ending_at": "2026-12-01T00:00:00Z",
        "days": 30,
    }
    assert (ahead["as_of"], ahead["complete_days"]) == ("2026-11-02T09:00:00Z", 1)
    span = ["--start", "2026-11-01", "--format", "json"]
    usage = json.loads(invoke("usage", "--sandbox", *span).stdout)
    cost = json.loads(invoke("cost", "--sandbox", *span).stdout)
    assert ahead["to_date"]["tokens"] == usage["totals"]["total"]
    assert ahead["to_date"]["cents"] == cost["total"]["cents"]
    first_day = usage["buckets"][0]["totals"]["total"]
    assert ahead["projected"]["tokens"] == round(
        ahead["to_date"]["tokens"] + first_day * Decimal("28.625")
    )


def test_forecast_thresholds_exit_4_after_the_report(sandbox: Path) -> None:
    data = json.loads(invoke("report", "--sandbox", "--format", "json").stdout)
    projected = data["forecast"]["projected"]
    tokens, usd = projected["tokens"], Decimal(projected["usd"])
    cost = dollars(Decimal(data["cost"]["cents"]))
    assert invoke("report", "--sandbox", "--fail-forecast-over-tokens", str(tokens)).exit_code == 0
    assert invoke("report", "--sandbox", "--fail-forecast-over-cost", str(usd)).exit_code == 0
    over = invoke(
        "report",
        "--sandbox",
        "--fail-forecast-over-tokens",
        str(tokens - 1),
        "--fail-forecast-over-cost",
        "$1,000",
        "--fail-over-cost",
        "1",
    )
    assert over.exit_code == 4
    assert over.stdout == invoke("report", "--sandbox").stdout
    assert over.stderr.splitlines() == [
        f"Threshold exceeded: cost {cost} exceeds --fail-over-cost $1",
        f"Threshold exceeded: projected month-end tokens {tokens:,} exceed"
        f" --fail-forecast-over-tokens {tokens - 1:,}",
    ]
    bad = invoke("report", "--sandbox", "--fail-forecast-over-cost", "-5")
    assert bad.exit_code == 2
    assert "'-5' is not an amount of dollars" in bad.stderr


def test_forecast_thresholds_come_from_the_environment(sandbox: Path) -> None:
    tokens = forecast_json()["projected"]["tokens"]
    env = {"ROSTER_REPORT_FAIL_FORECAST_OVER_TOKENS": str(tokens - 1)}
    over = invoke("report", "--sandbox", env=env)
    assert over.exit_code == 4
    assert "--fail-forecast-over-tokens" in over.stderr
    env = {"ROSTER_REPORT_FAIL_FORECAST_OVER_COST": "0.01"}
    assert invoke("report", "--sandbox", env=env).exit_code == 4
    help_text = invoke("report", "--help").stdout
    assert "ROSTER_REPORT_FAIL_FORECAST_OVER_TOKENS" in help_text
    assert "ROSTER_REPORT_FAIL_FORECAST_OVER_COST" in help_text


def sandbox_at(path: Path, now: str) -> None:
    store = sample_store()
    store.clock.set_now(at(now))
    store.save(path / ".roster-sandbox.json")


def test_on_the_first_day_the_pace_is_the_day_so_far(sandbox: Path) -> None:
    sandbox_at(sandbox, "2026-12-01T06:00:00")
    ahead = forecast_json()
    assert ahead["complete_days"] == 0
    assert ahead["projected"]["tokens"] == ahead["to_date"]["tokens"] * 31 * 4
    text = invoke("report", "--sandbox").stdout
    assert "DECEMBER 2026 (UTC)" in text
    assert "Projected: the rest of the month at the pace so far (no complete day yet)." in text


def test_at_the_first_second_of_a_month_nothing_is_projected(sandbox: Path) -> None:
    sandbox_at(sandbox, "2026-12-01T00:00:00")
    ahead = forecast_json("--fail-forecast-over-tokens", "0")
    assert ahead["to_date"] == ahead["projected"] == {"tokens": 0, "cents": "0", "usd": "0"}


# --- Claude Code -----------------------------------------------------------------------------

WEEK = last_days(NOW, 7)


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    store = sample_store()
    store.clock.set_now(NOW)
    with running_server(create_app(store)) as url:
        yield url


@asynccontextmanager
async def over_http(url: str) -> AsyncIterator[AdminClient]:
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as http:
        yield AdminClient(http)


@pytest.mark.anyio
async def test_claude_code_pages_add_up_like_one_page_over_http(served: str) -> None:
    httpx.delete(f"{served}/_emulator/requests")
    async with over_http(served) as client:
        whole = await fetch.claude_code(client, WEEK)
        paged = {
            day: await client.report(CLAUDE_CODE, [("starting_at", day), ("limit", "1")])
            for day in claude_code_days(WEEK)
        }
    entries = httpx.get(f"{served}/_emulator/requests").json()["requests"]
    pages = [parse_qs(e["query"]) for e in entries if e["path"] == CLAUDE_CODE]
    # limit=1: a request per record, and one for a day without any.
    assert len(pages) == 7 + sum(max(len(records), 1) for records in paged.values())
    assert sum("page" in q for q in pages) == sum(len(r) - 1 for r in paged.values() if r)
    assert max(len(records) for records in paged.values()) > 1
    assert claude_code_report(WEEK, paged) == whole
    assert whole.totals.sessions > 0


def test_the_claude_code_section_adds_up_to_the_records(sandbox: Path) -> None:
    data = json.loads(invoke("report", "--sandbox", "--format", "json").stdout)["claude_code"]
    actors = data["actors"]
    assert data["totals"] == {name: sum(actor[name] for actor in actors) for name in data["totals"]}
    people = [a for a in actors if a["actor"]["type"] == "user_actor"]
    assert data["active_users"] == len(people) > 0
    assert data["api_keys"] == len(actors) - len(people)
    assert all(1 <= a["days"] <= 7 for a in actors)
    text = invoke("report", "--sandbox").stdout
    top = text.split("TOP CLAUDE CODE USERS")[1].split("\n\n")[0].splitlines()[1:]
    assert len(top) == min(5, len(actors))
    assert top[0].startswith(
        actors[0]["actor"].get("email_address") or actors[0]["actor"]["api_key_name"]
    )


# --- the docs --------------------------------------------------------------------------------

DOCS = (Path(__file__).parents[1] / "docs" / "reports.md").read_text(encoding="utf-8")


def console(command: str) -> tuple[str, str]:
    """The output the docs show under ``$ command``, and what follows the command on its line."""
    shown = re.search(rf"^```console\n\$ {re.escape(command)}(.*?)\n(.*?)^```$", DOCS, re.M | re.S)
    assert shown is not None, f"docs/reports.md lost its example of {command}"
    return shown.group(2), shown.group(1)


def test_the_docs_show_what_the_report_prints(sandbox: Path) -> None:
    shown, rest = console("roster report --sandbox")
    assert rest == ""
    assert invoke("report", "--sandbox").stdout == shown


def test_the_docs_show_what_the_thresholds_print(sandbox: Path) -> None:
    shown, rest = console("roster report --sandbox --fail-over-cost 100")
    assert rest == " --fail-forecast-over-cost 120 > report.txt; echo $?"
    result = invoke(
        "report", "--sandbox", "--fail-over-cost", "100", "--fail-forecast-over-cost", "120"
    )
    assert result.stderr + f"{result.exit_code}\n" == shown


def test_on_the_month_s_first_day_the_forecast_thresholds_weigh_the_month_so_far() -> None:
    # Twenty minutes in, 500 tokens project to over a million: no early hour may trip exit 4.
    first = at("2026-11-01T00:20:00")
    month = month_of_use([500], ["5"], now=first)
    assert forecast(month).projected_tokens > 1_000_000
    assert list(exceeded(board_for(month), Thresholds(max_forecast_tokens=1_000))) == []
    assert list(exceeded(board_for(month), Thresholds(max_forecast_tokens=499))) == [
        "month-to-date tokens 500 exceed --fail-forecast-over-tokens 499"
    ]


@pytest.mark.parametrize(
    "record",
    [
        {"actor": "bob@x", "core_metrics": {"num_sessions": 3}},
        {"actor": {"type": "user_actor", "email_address": "a@x"}, "core_metrics": "busy"},
        {"core_metrics": {"num_sessions": "many", "lines_of_code": [1, 2]}},
        {"core_metrics": {"num_sessions": 1e400, "commits_by_claude_code": True}},
    ],
)
def test_a_claude_code_record_of_the_wrong_shape_is_read_as_far_as_it_goes(
    record: dict[str, Any],
) -> None:
    from roster.reports.claude_code import activity_of, actor_of

    activity, actor = activity_of(record), actor_of(record)
    assert activity.commits == 0
    assert actor.name in {"", "a@x"}
