"""The report commands end to end against the emulator: in process, through ``--sandbox``, or
over HTTP. Exact output is in golden files; ``ROSTER_REGEN_GOLDEN=1`` rewrites them.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
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
from roster.emulator.seed import generate
from roster.emulator.server import running_server
from roster.emulator.transport import InProcessTransport
from roster.reports import fetch
from roster.reports.dates import Period
from roster.reports.usage import UsageQuery, usage_report

GOLDEN = Path(__file__).parent / "data" / "golden" / "reports"
KEY = "sk-ant-admin01-reports-test-key-0001"
USAGE = "/v1/organizations/usage_report/messages"
COST = "/v1/organizations/cost_report"
ME = "/v1/organizations/me"
roster = RosterGroup(commands={command.name: command for command in commands})


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Any]]:
    app = create_app(generate(60, seed=7))  # its clock stands at 2026-11-02T09:00Z
    with running_server(app) as url:
        yield url, app


@pytest.fixture
def api(server: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The served emulator's URL, with an empty request log, a key and a private cache."""
    url = server[0]
    httpx.delete(f"{url}/_emulator/requests")
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", KEY)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ROSTER_API_URL", raising=False)
    return url


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "80")  # the golden tables are a terminal's, 80 wide
    return tmp_path


@asynccontextmanager
async def in_process(app: Any) -> AsyncIterator[AdminClient]:
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    transport = InProcessTransport(app)
    async with httpx.AsyncClient(
        transport=transport, base_url="https://api.anthropic.com", headers=headers
    ) as http:
        yield AdminClient(http)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(roster, list(args), catch_exceptions=False)


def served(url: str, *args: str) -> Result:
    return invoke(*args, "--api-url", url)


def logged(url: str, path: str | None = None) -> list[dict[str, Any]]:
    entries = httpx.get(f"{url}/_emulator/requests").json()["requests"]
    return [e for e in entries if path is None or e["path"] == path]


def query_of(entry: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(entry["query"])


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ROSTER_REGEN_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- range splitting and pagination ----------------------------------------------------------


def test_seventy_days_daily_take_three_requests(api: str) -> None:
    result = served(
        api, "usage", "--start", "2026-08-01", "--end", "2026-10-10", "--format", "json"
    )
    assert (result.exit_code, result.stderr) == (0, "")
    requests = logged(api, USAGE)
    queries = sorted((query_of(e) for e in requests), key=lambda q: q["starting_at"])
    assert [(q["starting_at"][0], q["ending_at"][0], q["limit"][0]) for q in queries] == [
        ("2026-08-01T00:00:00Z", "2026-09-01T00:00:00Z", "31"),
        ("2026-09-01T00:00:00Z", "2026-10-02T00:00:00Z", "31"),
        ("2026-10-02T00:00:00Z", "2026-10-10T00:00:00Z", "8"),
    ]
    assert all(q["bucket_width"] == ["1d"] and "page" not in q for q in queries)
    assert len(json.loads(result.stdout)["buckets"]) == 70


def test_two_hundred_hours_hourly_take_two_requests(api: str) -> None:
    args = ["--start", "2026-10-20T00:00:00Z", "--end", "2026-10-28T08:00:00Z", "--bucket", "1h"]
    result = served(api, "usage", *args, "--format", "json")
    assert result.exit_code == 0
    limits = sorted(query_of(e)["limit"][0] for e in logged(api, USAGE))
    assert limits == ["168", "32"]
    starts = [bucket["starting_at"] for bucket in json.loads(result.stdout)["buckets"]]
    assert len(starts) == 200
    assert (starts[0], starts[-1]) == ("2026-10-20T00:00:00Z", "2026-10-28T07:00:00Z")


def test_seventy_days_of_cost_take_three_requests(api: str) -> None:
    assert served(api, "cost", "--start", "2026-08-01", "--end", "2026-10-10").exit_code == 0
    assert sorted(query_of(e)["limit"][0] for e in logged(api, COST)) == ["31", "31", "8"]


@pytest.mark.anyio
async def test_paged_buckets_add_up_like_one_page(server: tuple[str, Any]) -> None:
    url, app = server
    period = Period(
        datetime(2026, 9, 1, tzinfo=timezone.utc), datetime(2026, 10, 1, tzinfo=timezone.utc)
    )
    async with in_process(app) as client:
        httpx.delete(f"{url}/_emulator/requests")
        whole = await fetch.usage(client, UsageQuery(period, "1d", ("model",)))
        paged = await client.usage_report(
            starting_at="2026-09-01T00:00:00Z",
            ending_at="2026-10-01T00:00:00Z",
            group_by=["model"],
            limit=7,
        )
    pages = logged(url, USAGE)[1:]
    assert [query_of(e).get("page", [None])[0] is not None for e in pages] == [False] + [True] * 4
    from_pages = usage_report(period, "1d", ["model"], paged)
    assert from_pages == whole
    assert whole.totals.total > 0


# --- group-by and exact sums -----------------------------------------------------------------


def cost_json(url: str, *group_by: str) -> dict[str, Any]:
    args = [arg for name in group_by for arg in ("--group-by", name)]
    result = served(
        url, "cost", "--start", "2026-09-15", "--end", "2026-11-01", *args, "--format", "json"
    )
    assert result.exit_code == 0
    return json.loads(result.stdout)


def test_grouped_costs_add_up_to_the_total_exactly(api: str) -> None:
    total = Decimal(cost_json(api)["total"]["cents"])
    for grouping in (("workspace",), ("description",), ("workspace", "description")):
        data = cost_json(api, *grouping)
        groups = [Decimal(g["cents"]) for g in data["groups"]]
        assert sum(groups, Decimal(0)) == total == Decimal(data["total"]["cents"])
        days = [Decimal(b["cents"]) for b in data["buckets"]]
        assert sum(days, Decimal(0)) == total
    assert total == Decimal(cost_json(api)["total"]["usd"]) * 100
    assert total.as_tuple().exponent < -2  # fractions of a cent survive, nothing was rounded


def test_cost_csv_carries_the_exact_amounts(api: str) -> None:
    data = cost_json(api, "workspace")
    args = ["--start", "2026-09-15", "--end", "2026-11-01", "--group-by", "workspace"]
    result = served(api, "cost", *args, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert set(rows[0]) == {
        "starting_at",
        "ending_at",
        "workspace_id",
        "workspace_name",
        "amount_cents",
        "amount_usd",
    }
    assert sum((Decimal(r["amount_cents"]) for r in rows), Decimal(0)) == Decimal(
        data["total"]["cents"]
    )
    assert sum((Decimal(r["amount_usd"]) for r in rows), Decimal(0)) == Decimal(
        data["total"]["usd"]
    )


def usage_json(url: str, *args: str) -> dict[str, Any]:
    result = served(
        url, "usage", "--start", "2026-10-01", "--end", "2026-10-15", *args, "--format", "json"
    )
    assert result.exit_code == 0
    return json.loads(result.stdout)


@pytest.mark.parametrize("group_by", ["model", "workspace", "api-key", "service-tier"])
def test_usage_groups_add_up_to_the_ungrouped_totals(api: str, group_by: str) -> None:
    totals = usage_json(api)["totals"]
    data = usage_json(api, "--group-by", group_by)
    for kind in totals:
        assert (
            sum(g["tokens"][kind] for g in data["groups"]) == totals[kind] == data["totals"][kind]
        )


def test_usage_names_workspaces_and_sends_the_api_group_by(api: str) -> None:
    data = usage_json(api, "--group-by", "workspace", "--group-by", "api-key")
    names = {g["workspace_name"] for g in data["groups"]}
    assert "Default" in names
    assert len(names) > 2
    assert not any(name.startswith("wrkspc_") for name in names)
    (request,) = logged(api, USAGE)
    assert query_of(request)["group_by[]"] == ["workspace_id", "api_key_id"]


def test_usage_csv_and_json_agree(api: str) -> None:
    data = usage_json(api, "--group-by", "model")
    csv_text = served(
        api,
        "usage",
        "--start",
        "2026-10-01",
        "--end",
        "2026-10-15",
        "--group-by",
        "model",
        "--format",
        "csv",
    ).stdout
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    for kind, total in data["totals"].items():
        assert sum(int(row[kind]) for row in rows) == total
    cells = [
        (b["starting_at"], g["model"], g["tokens"]["total"])
        for b in data["buckets"]
        for g in b["groups"]
    ]
    assert [(r["starting_at"], r["model"], int(r["total"])) for r in rows] == cells


def test_an_empty_period(api: str) -> None:
    result = served(api, "usage", "--start", "2026-12-01", "--end", "2026-12-03")
    assert result.exit_code == 0
    assert result.stdout.endswith("No usage in this period.\n")
    result = served(api, "cost", "--start", "2026-12-01", "--end", "2026-12-03", "--format", "json")
    assert json.loads(result.stdout)["total"] == {"cents": "0", "usd": "0"}


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "last week"], "Invalid value for '--start': 'last week' is not a date"),
        (
            ["--start", "7d", "--end", "2026-13-40"],
            "Invalid value for '--end': '2026-13-40' is not a date",
        ),
        (
            ["--start", "today", "--end", "yesterday"],
            "Invalid value for '--end': must be after --start",
        ),
        (["--start", "1d", "--bucket", "1w"], "Invalid value for '--bucket'"),
    ],
)
def test_bad_dates_are_usage_errors(sandbox: Path, args: list[str], message: str) -> None:
    result = invoke("usage", "--sandbox", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (sandbox / ".roster-sandbox.json").exists()


def test_relative_dates_count_from_the_sandbox_clock(sandbox: Path) -> None:
    result = invoke(
        "usage", "--sandbox", "--start", "yesterday", "--end", "today", "--format", "json"
    )
    assert json.loads(result.stdout)["period"] == {
        "starting_at": "2026-11-01T00:00:00Z",
        "ending_at": "2026-11-02T00:00:00Z",
    }


# --- the /me cache ---------------------------------------------------------------------------


def test_org_caches_me_for_five_minutes(api: str, tmp_path: Path) -> None:
    first = served(api, "org", "--format", "json")
    second = served(api, "org", "--format", "json")
    assert first.stdout == second.stdout
    assert len(logged(api, ME)) == 1
    assert len(logged(api, "/v1/organizations/users")) == 2  # membership is never cached
    assert served(api, "org", "--no-cache").exit_code == 0
    assert len(logged(api, ME)) == 2
    (entry,) = (tmp_path / "cache" / "roster").iterdir()
    assert KEY not in entry.read_text()
    assert KEY not in entry.name
    assert (
        json.loads(entry.read_text())["organization"]["name"]
        == json.loads(first.stdout)["organization"]["name"]
    )


def test_a_corrupt_cache_is_refetched_and_rewritten(api: str, tmp_path: Path) -> None:
    served(api, "org")
    (entry,) = (tmp_path / "cache" / "roster").iterdir()
    entry.write_text("{ broken")
    result = served(api, "org")
    assert (result.exit_code, result.stderr) == (0, "")
    assert len(logged(api, ME)) == 2
    assert json.loads(entry.read_text())["organization"]["id"]


def test_the_sandbox_is_never_cached(sandbox: Path) -> None:
    assert invoke("org", "--sandbox").exit_code == 0
    assert invoke("report", "--sandbox").exit_code == 0
    assert not (sandbox / "cache").exists()


# --- errors ----------------------------------------------------------------------------------


def test_no_key_is_one_line_error(api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY")
    result = served(api, "members")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no admin key")
    assert logged(api) == []


def test_an_unreadable_key_file_is_one_line_error(api: str) -> None:
    result = served(api, "org", "--api-key-file", "/nonexistent/key")
    assert result.exit_code == 1
    assert result.stderr == "Error: /nonexistent/key: key file not found\n"


def test_an_api_error_is_one_line_error(api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-short")
    result = served(api, "usage", "--start", "2026-10-01", "--end", "2026-10-02")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: GET /v1/organizations/usage_report/messages 401")
    assert len(result.stderr.splitlines()) == 1


# --- members and org -------------------------------------------------------------------------


def test_members_filters_and_formats_agree(api: str) -> None:
    data = json.loads(served(api, "members", "--format", "json").stdout)
    statuses = {m["status"] for m in data["members"]}
    assert statuses == {"member", "pending", "expired"}
    emails = [m["email"] for m in data["members"]]
    assert emails == sorted(emails)
    rows = list(csv.DictReader(io.StringIO(served(api, "members", "--format", "csv").stdout)))
    assert [{k: v or None for k, v in row.items()} for row in rows] == data["members"]
    pending = json.loads(
        served(
            api,
            "members",
            "--status",
            "pending",
            "--role",
            "developer",
            "--role",
            "user",
            "--format",
            "json",
        ).stdout
    )
    expected = [
        m
        for m in data["members"]
        if m["status"] == "pending" and m["role"] in {"developer", "user"}
    ]
    assert expected
    assert pending["members"] == expected


def test_org_formats_agree(api: str) -> None:
    data = json.loads(served(api, "org", "--format", "json").stdout)
    rows = list(csv.reader(io.StringIO(served(api, "org", "--format", "csv").stdout)))
    assert rows[0] == ["section", "key", "value"]
    roles = {key: int(value) for section, key, value in rows if section == "role"}
    assert roles == data["members"]["by_role"]
    assert sum(roles.values()) == data["members"]["total"]
    workspaces = {key: value for section, key, value in rows if section == "workspace"}
    assert workspaces == {w["id"]: w["name"] for w in data["workspaces"]}


# --- the dashboard ---------------------------------------------------------------------------


def report_json(*args: str) -> dict[str, Any]:
    result = invoke("report", "--sandbox", "--format", "json", *args)
    assert result.exit_code == 0
    return json.loads(result.stdout)


def test_report_thresholds(sandbox: Path) -> None:
    data = report_json()
    tokens, usd = data["tokens"]["total"], Decimal(data["cost"]["usd"])
    assert tokens > 0
    assert usd > 0
    assert invoke("report", "--sandbox", "--fail-over-tokens", str(tokens)).exit_code == 0
    assert invoke("report", "--sandbox", "--fail-over-cost", str(usd)).exit_code == 0
    over = invoke("report", "--sandbox", "--fail-over-tokens", str(tokens - 1))
    assert over.exit_code == 4
    assert over.stdout == invoke("report", "--sandbox").stdout
    assert (
        over.stderr
        == f"Threshold exceeded: tokens {tokens:,} exceed --fail-over-tokens {tokens - 1:,}\n"
    )
    budget = str(usd - Decimal("0.01"))
    over = invoke(
        "report", "--sandbox", "--fail-over-cost", f"${budget}", "--fail-over-tokens", "0"
    )
    assert over.exit_code == 4
    assert over.stderr.splitlines()[1].endswith(f"exceeds --fail-over-cost ${budget}")
    bad = invoke("report", "--sandbox", "--fail-over-cost", "lots")
    assert bad.exit_code == 2
    assert "'lots' is not an amount of dollars" in bad.stderr


def test_report_json_adds_up(sandbox: Path) -> None:
    data = report_json("--days", "14")
    assert data["period"] == {
        "starting_at": "2026-10-19T00:00:00Z",
        "ending_at": "2026-11-02T00:00:00Z",
        "days": 14,
    }
    assert len(data["days"]) == 14
    assert sum(day["tokens"] for day in data["days"]) == data["tokens"]["total"]
    assert sum(Decimal(day["cents"]) for day in data["days"]) == Decimal(data["cost"]["cents"])
    assert (data["members"]["total"], data["pending_invites"]) == (8, 2)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("report.txt", ["report"]),
        ("report.md", ["report", "--format", "markdown"]),
        ("report.json", ["report", "--format", "json"]),
        ("org.txt", ["org"]),
        ("members.txt", ["members"]),
        (
            "usage.txt",
            [
                "usage",
                "--start",
                "2026-10-01",
                "--end",
                "2026-11-01",
                "--group-by",
                "model",
                "--group-by",
                "workspace",
            ],
        ),
        (
            "cost.txt",
            ["cost", "--start", "2026-10-01", "--end", "2026-11-01", "--group-by", "workspace"],
        ),
    ],
)
def test_golden_output(sandbox: Path, name: str, args: list[str]) -> None:
    result = invoke(*args, "--sandbox")
    assert (result.exit_code, result.stderr) == (0, "")
    golden(name, result.stdout)
