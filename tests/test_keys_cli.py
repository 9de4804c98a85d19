"""``roster keys``: the rows and their rendering from values (table-driven), then the command end
to end against the emulator (``--sandbox``): exact output, the requests made, errors, and key names
from the API that try to act on a terminal. Exact tables are golden files;
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
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from click.testing import Result

from roster.emulator.clock import format_time
from roster.emulator.control import LogEntry
from roster.emulator.records import ApiKey as EmulatorKey
from roster.emulator.sample import SAMPLE_NOW, sample_store
from roster.model import ApiKey, Member, Workspace
from roster.reports.governance import window_since
from roster.reports.keys import (
    KeyRow,
    KeysReport,
    keys_csv,
    keys_data,
    keys_report,
    keys_table,
    render_keys,
    workspace_label,
)
from tests.support import Org, assert_phase_lines, run_in_sandbox

GOLDEN = Path(__file__).parent / "data" / "golden" / "reports"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
MONTH = window_since("30d", NOW)

LINUS = Member("user_linus", "linus@tinyco.io", "Linus", "developer", "2025-01-01T00:00:00Z")
DEFAULT = Workspace("wrkspc_default", "Default Workspace", is_default=True)
PRODUCTION = Workspace("wrkspc_prod", "Production")


def key(
    name: str,
    *,
    status: str = "active",
    workspace: str | None = PRODUCTION.id,
    creator: str | None = LINUS.id,
    created: str = "2026-06-01T12:00:00Z",
    expires: str = "",
) -> ApiKey:
    return ApiKey(f"apikey_{name}", name, status, workspace, creator, created, expires)


def report(*keys: ApiKey, used: dict[str, str] | None = None) -> KeysReport:
    return keys_report(MONTH, keys, [LINUS], [DEFAULT, PRODUCTION], used or {})


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ROSTER_REGEN_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- rows ------------------------------------------------------------------------------------


def only_row(api_key: ApiKey, used: dict[str, str] | None = None) -> KeyRow:
    (row,) = report(api_key, used=used).rows
    return row


@pytest.mark.parametrize(
    ("creator", "owner", "email"),
    [
        pytest.param(LINUS.id, "linus@tinyco.io", "linus@tinyco.io", id="a member"),
        pytest.param("user_gone", "former member", None, id="no longer a member"),
        pytest.param(None, "none", None, id="no user created it"),
    ],
)
def test_the_owner(creator: str | None, owner: str, email: str | None) -> None:
    row = only_row(key("k", creator=creator))
    assert (row.owner, row.owner_email, row.created_by) == (owner, email, creator)


@pytest.mark.parametrize(
    ("workspace_id", "label"),
    [
        pytest.param(None, "Default", id="the API's null"),
        pytest.param(DEFAULT.id, "Default", id="the default workspace's id"),
        pytest.param(PRODUCTION.id, "Production", id="named"),
        pytest.param("wrkspc_unknown", "wrkspc_unknown", id="not listed"),
    ],
)
def test_the_workspace(workspace_id: str | None, label: str) -> None:
    assert only_row(key("k", workspace=workspace_id)).workspace == label
    assert workspace_label(workspace_id, {DEFAULT.id: "Default", PRODUCTION.id: "Production"}) == (
        label
    )


@pytest.mark.parametrize(
    ("created", "expires", "age", "expires_at"),
    [
        ("2026-06-01T12:00:00Z", "", 154, None),
        ("2026-11-02T08:59:00Z", "2027-01-01T00:00:00Z", 0, "2027-01-01T00:00:00Z"),
        ("2025-11-02T23:00:00Z", "", 365, None),
        ("", "", None, None),
    ],
)
def test_age_and_expiry(
    created: str, expires: str, age: int | None, expires_at: str | None
) -> None:
    row = only_row(key("k", created=created, expires=expires))
    assert (row.age_days, row.expires_at) == (age, expires_at)


def test_the_last_use_is_the_windows() -> None:
    assert only_row(key("k"), {"apikey_k": "2026-10-30"}).last_used == "2026-10-30"
    assert only_row(key("k"), {"apikey_other": "2026-10-30"}).last_used is None


def test_active_keys_first_then_the_oldest() -> None:
    shown = report(
        key("archived-old", status="archived", created="2024-01-01T00:00:00Z"),
        key("young", created="2026-10-01T00:00:00Z"),
        key("inactive", status="inactive", created="2025-01-01T00:00:00Z"),
        key("expired", status="expired", created="2025-02-01T00:00:00Z"),
        key("old", created="2025-03-01T00:00:00Z"),
        key("odd", status="suspended", created="2020-01-01T00:00:00Z"),
        key("b-same", created="2025-03-01T00:00:00Z"),
    )
    assert [r.name for r in shown.rows] == [
        "b-same",
        "old",
        "young",
        "inactive",
        "expired",
        "archived-old",
        "odd",
    ]


# --- rendering -------------------------------------------------------------------------------


def sample() -> KeysReport:
    return report(
        key("production-linus"),
        key("legacy-batch", workspace=None, creator=None, created="2025-05-01T10:00:00Z"),
        key("intern-notebook", creator="user_gone", created="2026-08-20T00:00:00Z"),
        key("ci", expires="2027-03-01T00:00:00Z", created="2026-10-20T00:00:00Z"),
        key("retired", status="inactive", created="2025-01-10T00:00:00Z"),
        used={"apikey_production-linus": "2026-11-01", "apikey_ci": "2026-11-02"},
    )


def test_the_table_golden() -> None:
    golden("keys-values.txt", keys_table(sample(), 80))


def test_no_keys() -> None:
    assert keys_table(report()) == "The organization has no API keys.\n"


def test_the_json_form() -> None:
    data = keys_data(
        report(key("k", expires="2027-01-01T00:00:00Z"), used={"apikey_k": "2026-10-09"})
    )
    assert data == {
        "window": MONTH.data,
        "keys": [
            {
                "id": "apikey_k",
                "name": "k",
                "workspace_id": "wrkspc_prod",
                "workspace": "Production",
                "owner": "linus@tinyco.io",
                "owner_email": "linus@tinyco.io",
                "created_by": "user_linus",
                "created_at": "2026-06-01T12:00:00Z",
                "age_days": 154,
                "expires_at": "2027-01-01T00:00:00Z",
                "status": "active",
                "last_used": "2026-10-09",
            }
        ],
    }


def test_the_csv_form() -> None:
    assert keys_csv(report(key("k", workspace=None, creator=None))).splitlines() == [
        "id,name,workspace_id,workspace,owner,owner_email,created_by,created_at,age_days,"
        "expires_at,status,last_used",
        "apikey_k,k,,Default,none,,,2026-06-01T12:00:00Z,154,,active,",
    ]


HOSTILE = "deploy\x1b[2J\x1b[H\nkey\u202eyek"


def test_hostile_names_are_escaped_in_the_table_and_exact_for_programs() -> None:
    hostile = report(key(HOSTILE, workspace="wrkspc_x"), key("ok"))
    table = keys_table(hostile, None)
    assert all(line.isprintable() for line in table.splitlines())
    assert "deploy\\x1b[2J\\x1b[H\\nkey\\u202eyek  wrkspc_x" in table
    data = json.loads(render_keys(hostile, "json"))
    assert HOSTILE in [k["name"] for k in data["keys"]]
    rows = list(csv.DictReader(io.StringIO(keys_csv(hostile), newline="")))
    assert HOSTILE in [r["name"] for r in rows]


# --- end to end: the sandbox -----------------------------------------------------------------

ORG = "/v1/organizations"
MESSAGES = f"{ORG}/usage_report/messages"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "80")  # the golden tables are a terminal's, 80 wide
    for name in ("ANTHROPIC_ADMIN_KEY", "ROSTER_API_URL", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def roster(*args: str, **env: str) -> tuple[Result, list[LogEntry]]:
    """``roster keys ARGS --sandbox``, and the requests it made."""
    return run_in_sandbox(["keys", *args], env=env)


def test_golden_output() -> None:
    result, _ = roster()
    assert (result.exit_code, result.stderr) == (0, "")
    golden("keys.txt", result.stdout)


def test_the_docs_show_what_the_sandbox_prints() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "reports.md").read_text(encoding="utf-8")
    shown = re.search(r"^```console\n\$ roster keys --sandbox\n(.*?)^```$", docs, re.M | re.S)
    assert shown is not None, "docs/reports.md lost its keys example"
    assert roster()[0].stdout == shown.group(1)


def test_the_requests() -> None:
    result, made = roster("--format", "json")
    assert result.exit_code == 0
    assert Counter(entry.path for entry in made) == Counter(
        {
            f"{ORG}/api_keys": 1,
            f"{ORG}/users": 1,
            f"{ORG}/workspaces": 2,  # with the Default one and without: which one it is
            MESSAGES: 1,
        }
    )
    (usage,) = [parse_qs(e.query) for e in made if e.path == MESSAGES]
    assert usage == {
        "starting_at": ["2026-10-03T00:00:00Z"],
        "ending_at": ["2026-11-02T09:00:00Z"],
        "bucket_width": ["1d"],
        "limit": ["31"],
        "group_by[]": ["api_key_id"],
    }
    (keys,) = [parse_qs(e.query) for e in made if e.path == f"{ORG}/api_keys"]
    assert "status" not in keys


def test_progress_goes_to_stderr() -> None:
    result, _ = roster("--format", "json", ROSTER_QUIET="0")
    assert result.exit_code == 0
    # The phases run side by side: in any order, each started before it is read.
    assert_phase_lines(
        result.stderr,
        [
            "reading API keys…",
            "reading users…",
            "reading workspaces…",
            "reading usage report: 0/1…",
            "read API keys: 3",
            "read users: 8",
            "read workspaces: 3",
            "read usage report: 1/1",
        ],
    )


def test_the_formats_agree() -> None:
    data = json.loads(roster("--format", "json")[0].stdout)
    rows = list(csv.DictReader(io.StringIO(roster("--format", "csv")[0].stdout)))
    assert [{k: v or None for k, v in row.items()} for row in rows] == [
        {k: None if v is None else str(v) for k, v in k.items()} for k in data["keys"]
    ]
    assert {k["workspace"] for k in data["keys"]} >= {"Default", "Production"}


def test_a_short_window_leaves_old_use_out() -> None:
    month = {
        k["name"]: k["last_used"] for k in json.loads(roster("--format", "json")[0].stdout)["keys"]
    }
    today = {
        k["name"]: k["last_used"]
        for k in json.loads(roster("--since", "0d", "--format", "json")[0].stdout)["keys"]
    }
    assert set(month) == set(today)
    assert all(day in (None, "2026-11-02") for day in today.values())
    assert all(today[name] is None or month[name] == today[name] for name in month)


def test_the_key_of_a_removed_member_is_a_former_members() -> None:
    store = sample_store()
    linus = store.user_by_email("linus@tinyco.io")
    assert linus is not None
    asyncio.run(Org(store).client().remove_user(linus.id))
    store.save(".roster-sandbox.json")
    data = json.loads(roster("--format", "json")[0].stdout)
    (key,) = [k for k in data["keys"] if k["name"] == "production-linus"]
    assert (key["owner"], key["owner_email"], key["created_by"]) == (
        "former member",
        None,
        linus.id,
    )


def test_a_window_that_means_nothing_is_a_usage_error() -> None:
    result, made = roster("--since", "yesterday")
    assert (result.exit_code, result.stdout, made) == (2, "", [])
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--since': 'yesterday' is not a number of days or a date;"
        " use 30d (that many whole days before today, and today) or a date (2026-10-01), UTC"
    )


# --- end to end: key names that try to act on a terminal -------------------------------------

EVIL_KEYS = ("Line\nBreak", "Ops\x1b[2J\x1b[H", "\u202eevil")


def with_hostile_keys() -> None:
    store = sample_store()
    creator = store.user_by_email("ada@tinyco.io")
    assert creator is not None
    for name in EVIL_KEYS:
        store.insert_api_key(
            EmulatorKey(
                id=store.new_id("apikey_"),
                name=name,
                workspace_id=store.default_workspace_id,
                created_by=creator.id,
                created_at=format_time(SAMPLE_NOW),
                status="inactive",
                partial_key_hint="sk-ant-api03-Evl...k3yA",
            )
        )
    store.save(".roster-sandbox.json")


def test_hostile_key_names_are_escaped_in_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS")  # not a terminal: every cell whole
    with_hostile_keys()
    result, _ = roster()
    assert (result.exit_code, result.stderr) == (0, "")
    assert all(line.isprintable() for line in result.stdout.splitlines())
    names = [line.split("  ")[1] for line in result.stdout.splitlines() if line.startswith("  ")]
    assert set(names) >= {"Line\\nBreak", "Ops\\x1b[2J\\x1b[H", "\\u202eevil"}
    golden("keys-hostile.txt", result.stdout)


def test_hostile_key_names_are_exact_in_json_and_csv() -> None:
    with_hostile_keys()
    shown = roster("--format", "json")[0].stdout
    assert "\x1b" not in shown
    assert "\u202e" not in shown
    assert set(EVIL_KEYS) <= {k["name"] for k in json.loads(shown)["keys"]}
    rows = csv.DictReader(io.StringIO(roster("--format", "csv")[0].stdout, newline=""))
    assert set(EVIL_KEYS) <= {r["name"] for r in rows}


def test_a_creation_time_that_is_no_date_has_no_age_rather_than_a_traceback() -> None:
    from datetime import datetime, timezone

    from roster.model import ApiKey
    from roster.reports.governance import window_since
    from roster.reports.keys import keys_report

    window = window_since("7d", datetime(2026, 11, 2, 9, tzinfo=timezone.utc))
    odd = ApiKey("apikey_1", "ci", "active", None, None, "yesterday")
    [row] = keys_report(window, [odd], [], [], {}).rows
    assert (row.created_at, row.age_days) == ("yesterday", None)
