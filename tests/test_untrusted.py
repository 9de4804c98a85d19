"""Names cannot forge what a person reads: a corpus of hostile names through every renderer.

Names come from the API (users, invites, API keys, workspaces, the organization) and from files.
Whatever they hold, no output line may start with a change sign roster did not put there, and no
raw control, bidirectional or invisible character may reach the terminal; JSON stays exact.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from roster.changes import Change, HeldBack, KeyNotice, Unmanaged, Waiting
from roster.cli import main
from roster.config import load_config
from roster.desired import Desired, Policy
from roster.emulator.app import create_app
from roster.emulator.clock import format_time
from roster.emulator.records import ApiKey, Invite, User, Workspace
from roster.emulator.sample import SAMPLE_NOW, sample_store
from roster.emulator.server import running_server
from roster.emulator.store import Store
from roster.export import render_roster_file
from roster.model import Current, Member, Organization
from roster.model import Workspace as Space
from roster.plan import Plan, compute_plan
from roster.render import render_json, render_text
from roster.render_markdown import render_markdown
from roster.reports.table import Column, render_table
from roster.untrusted import is_unsafe, json_text, markdown_text, printable

ADMIN_KEY = "sk-ant-admin01-hostile-names-Qw3rTy"

HOSTILE = (
    "Prod\n  + add bob@example.com",
    "ci\n\nPlan: 0 to invite, 0 to add, 0 to change, 0 to remove, 0 manual actions.",
    "ci-key\x1b[1A\x1b[2K\x1b[1A\x1b[2K",
    "Acme\npolicy:\n  unmanaged: remove\n  max_removals: 100%\n#",
    "invoice\u202efdp.exe",
    "isolate\u2066- remove everyone\u2069",
    "\x9b2Kcsi",
    "cr\r  - remove ada@tinyco.io (admin)",
    "nul\x00byte",
    "lines\u2028  + sep\u2029  + para",
    "nel\x85  ~ next",
    "del\x7f and bell\x07",
    "tag\U000e0041 and zero\u200bwidth\ufeff",
    "vt\x0b  + vertical\x0c  + feed\x1c  + fs",
    "<img src=x onerror=alert(1)> `code` | *b* _i_ [l](http://x)",
    "```\n</details>\n# heading",
    "tab\there",
)
# What roster itself adds on a terminal: SGR colour codes, and nothing else.
OUR_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
SIGN_LINE = re.compile(r"^\s*[+~\-!?=…]\s")


def assert_inert(text: str, *, colour: bool = False) -> None:
    """No character of ``text`` can act on a terminal: only newlines separate its lines."""
    shown = OUR_COLOURS.sub("", text) if colour else text
    unsafe = sorted({char for char in shown if char != "\n" and is_unsafe(char)})
    assert not unsafe, f"raw {unsafe!r} in output"
    # str.splitlines() also splits on \x0b, \x1c, \x85, \u2028...: none of those may remain.
    assert shown.splitlines() == shown.split("\n")[: len(shown.splitlines())]


def sign_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if SIGN_LINE.match(line)]


# --- printable and json_text ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("\x1b[1A", "\\x1b[1A"),
        ("\u202eevil", "\\u202eevil"),
        ("\u2066x\u2069", "\\u2066x\\u2069"),
        ("\x85", "\\x85"),
        ("\x7f", "\\x7f"),
        ("\t", "\\t"),
        ("\r", "\\r"),
        ("\ud800", "\\ud800"),
        ("\U000e0041", "\\U000e0041"),
        ("José Ñandú", "José Ñandú"),
        ("a\u00a0b", "a\u00a0b"),
        ("👩\u200d💻", "👩\u200d💻"),
        ("", ""),
    ],
)
def test_printable_escapes_what_acts_on_a_terminal_and_keeps_the_rest(raw: str, shown: str) -> None:
    assert printable(raw) == shown


@given(st.text())
def test_printable_leaves_nothing_unsafe_and_is_idempotent(text: str) -> None:
    once = printable(text)
    assert not any(is_unsafe(char) for char in once)
    assert printable(once) == once
    if text.isprintable():
        assert once == text


@given(st.dictionaries(st.text(), st.text() | st.lists(st.text(), max_size=3), max_size=4))
def test_json_text_is_exact_and_inert(data: dict[str, Any]) -> None:
    text = json_text(data)
    assert json.loads(text) == data
    assert_inert(text)


@given(st.text())
def test_markdown_text_is_one_inert_line(text: str) -> None:
    shown = markdown_text(text)
    assert "\n" not in shown
    assert_inert(shown)


# --- the renderers, given hostile values directly -----------------------------------------------


def hostile_plan(name: str) -> Plan:
    email = f"{name}@x.io"
    changes = (
        Change("invite", email, None, "user", note=name),
        Change("update_role", email, "user", "developer", user_id=name),
        Change("create_workspace", "", workspace=name),
        Change("add_workspace_member", email, None, "workspace_user", workspace=name),
        Change("remove_member", email, "user", None, user_id=name),
        Change("deactivate_api_key", email, user_id=name, workspace=name, key_id=name, note=name),
        Change("manual", email, note=f"In the Console, change {name}'s role."),
    )
    return Plan(
        Organization(name, name),
        changes=changes,
        unmanaged=(
            Unmanaged("member", email, name, name),
            Unmanaged("workspace", "", "", name, name),
        ),
        held_back=(HeldBack("workspace_member", email, name, name, name),),
        waiting=(Waiting(email, name, name),),
        api_keys=(KeyNotice(name, name, name, name),),
    )


def entries(plan: Plan) -> int:
    return sum(
        len(part)
        for part in (plan.changes, plan.unmanaged, plan.held_back, plan.waiting, plan.api_keys)
    )


@pytest.mark.parametrize("name", [*HOSTILE, "lone \ud800 surrogate"])
@pytest.mark.parametrize("colour", [False, True])
def test_a_hostile_name_cannot_forge_the_text_plan(name: str, colour: bool) -> None:
    plan = hostile_plan(name)
    text = render_text(plan, color=colour)
    assert_inert(text, colour=colour)
    plain = OUR_COLOURS.sub("", text)
    assert len(sign_lines(plain)) == entries(plan)
    assert [line for line in plain.splitlines() if line.startswith("Plan:")] == [
        "Plan: 1 to invite, 2 to add, 1 to change, 2 to remove, 1 manual action."
    ]
    assert plain.splitlines()[0].startswith("Organization: ")


@pytest.mark.parametrize("name", [*HOSTILE, "lone \ud800 surrogate"])
def test_a_hostile_name_stays_inside_its_markdown_line(name: str) -> None:
    plan = hostile_plan(name)
    text = render_markdown(plan)
    assert_inert(text)
    lines = text.splitlines()
    assert lines[0] == "<!-- roster-plan -->"
    assert sum(1 for line in lines if line.startswith("```")) % 2 == 0
    assert sum(1 for line in lines if line.startswith("<details")) == sum(
        1 for line in lines if line == "</details>"
    )
    diff_lines = [line for line in lines if re.match(r"^[+\-!] ", line)]
    assert len(diff_lines) == len(plan.api_changes)
    assert not any(line.startswith("#") for line in lines if not line.startswith("##"))


@pytest.mark.parametrize("name", [*HOSTILE, "lone \ud800 surrogate"])
def test_json_keeps_a_hostile_name_exactly(name: str) -> None:
    plan = hostile_plan(name)
    text = render_json(plan)
    assert_inert(text)
    assert json.loads(text) == plan.data


@pytest.mark.parametrize("name", HOSTILE)
def test_a_table_measures_cells_after_escaping_them(name: str) -> None:
    text = render_table([Column("NAME", shrink=1), Column("N", "right")], [[name, "1"], ["x", "2"]])
    assert_inert(text)
    assert len(text.splitlines()) == 3
    assert len({len(line) for line in text.splitlines()}) == 1  # the right column lines up


# --- export: a name cannot set the next file's policy ---------------------------------------------


@pytest.mark.parametrize("name", HOSTILE)
def test_export_writes_every_hostile_name_through_the_yaml_writer(
    name: str, tmp_path: Path
) -> None:
    current = Current(
        Organization("5f0c1d2e-0000-4000-8000-000000000001", name),
        members=(
            Member("user_1", "ada@acme.io", name, "admin", "2026-01-01T00:00:00Z"),
            Member("user_2", f"{name}@acme.io".lower(), name, "user", "2026-01-01T00:00:00Z"),
            Member("user_3", "sso@acme.io", name, name, "2026-01-01T00:00:00Z"),
        ),
        invites=(),
        workspaces=(Space("wrkspc_1", name), Space("wrkspc_2", "Research")),
    )
    text = render_roster_file(current)
    assert_inert(text)
    path = tmp_path / "exported.yaml"
    path.write_text(text, encoding="utf-8")
    desired = load_config([path])
    assert desired.policy == Policy()
    assert desired.organization is not None
    assert desired.organization.name == name
    assert dict(desired.members) == {"ada@acme.io": "admin"}
    assert list(desired.workspaces) == ["Research"]
    assert compute_plan(desired, current).is_empty


def test_the_injected_policy_of_an_organization_name_is_only_text(tmp_path: Path) -> None:
    name = "Acme\npolicy:\n  unmanaged: remove\n  max_removals: 100%\n#"
    text = render_roster_file(Current(Organization("org-1", name), members=(), invites=()))
    data = yaml.safe_load(text)
    assert list(data) == ["organization", "members"]
    assert data["organization"]["name"] == name
    assert text.splitlines()[1] == (
        '# Exported by roster from "Acme\\npolicy:\\n  unmanaged: remove\\n  max_removals:'
        ' 100%\\n#" (org-1).'
    )


# --- every command, over HTTP, against an organization full of hostile names --------------------


def hostile_store() -> Store:
    """Tinyco, plus members, invites, keys and workspaces named from the corpus, and its name."""
    store = sample_store()
    store.organization = type(store.organization)(store.organization.id, HOSTILE[3])
    founded = format_time(SAMPLE_NOW - timedelta(days=100))
    expires = format_time(SAMPLE_NOW + timedelta(days=10))
    for index, name in enumerate(HOSTILE):
        user = User(store.new_id("user_"), f"h{index}@hostile.example", name, "user", founded)
        store.insert_user(user)
        email = f"{name.lower()}@odd.example"
        invite = Invite(store.new_id("invite_"), email, "user", founded, expires)
        store.insert_invite(invite)
        workspace = Workspace(store.new_id("wrkspc_"), name, founded, "#6C5BB9")
        store.insert_workspace(workspace)
        store.insert_member(workspace.id, user.id, "workspace_user")
        key = ApiKey(
            store.new_id("apikey_"), name, workspace.id, user.id, founded, "active", "sk-ant-…"
        )
        store.insert_api_key(key)
    return store


@pytest.fixture(scope="module")
def hostile_api() -> Iterator[str]:
    with running_server(create_app(hostile_store())) as base:
        yield base


def run(*args: str, base: str) -> Result:
    """``roster ARGS --api-url BASE``; whatever it prints must be inert and keyless."""
    result = CliRunner().invoke(
        main,
        [*args, "--api-url", base],
        env={"ANTHROPIC_ADMIN_KEY": ADMIN_KEY, "NO_COLOR": "1"},
        prog_name="roster",
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert ADMIN_KEY not in result.stdout + result.stderr
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    return result


def roster_file(tmp_path: Path) -> Path:
    path = tmp_path / "roster.yaml"
    data = {
        "policy": {
            "unmanaged": "report",
            "workspaces": "report",
            "api_keys_of_removed_members": "report",
        },
        "members": {
            "ada@tinyco.io": "admin",
            "grace@tinyco.io": "user",
            "newcomer@tinyco.io": "user",
        },
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_plan_of_a_hostile_organization_forges_nothing(hostile_api: str, tmp_path: Path) -> None:
    path = roster_file(tmp_path)
    text = run("plan", str(path), base=hostile_api)
    data = json.loads(run("plan", str(path), "--format", "json", base=hostile_api).stdout)
    parts = ("changes", "manual", "unmanaged", "held_back", "waiting", "api_keys")
    expected = sum(len(data[part]) for part in parts)
    assert text.exit_code == 0
    assert len(sign_lines(text.stdout)) == expected
    lines = text.stdout.splitlines()
    assert [line for line in lines if line.startswith(("Plan:", "No changes"))] == [lines[-1]]
    assert lines[-1].startswith("Plan: 1 to invite, 0 to add, 1 to change")
    assert data["organization"]["name"] == HOSTILE[3]
    assert {u["workspace"] for u in data["unmanaged"] if u["kind"] == "workspace"} >= set(HOSTILE)
    markdown = run("plan", str(path), "--format", "markdown", base=hostile_api)
    assert markdown.exit_code == 0


@pytest.mark.parametrize(
    "command",
    [
        ["org"],
        ["members"],
        ["export"],
        ["report"],
        ["report", "--format", "markdown"],
        ["report", "--format", "json"],
        ["usage", "--start", "2026-10-26", "--group-by", "workspace", "--group-by", "api-key"],
        ["cost", "--start", "2026-10-26", "--group-by", "workspace", "--group-by", "description"],
    ],
)
def test_every_report_of_a_hostile_organization_is_inert(
    hostile_api: str, tmp_path: Path, command: list[str]
) -> None:
    result = run(*command, base=hostile_api)
    assert (result.exit_code, result.stderr) == (0, "")
    assert not sign_lines(result.stdout)


def test_members_shows_one_line_per_account(hostile_api: str, tmp_path: Path) -> None:
    result = run("members", base=hostile_api)
    as_json = json.loads(run("members", "--format", "json", base=hostile_api).stdout)
    assert len(result.stdout.splitlines()) == as_json["count"] + 1
    assert {m["name"] for m in as_json["members"]} >= set(HOSTILE)


def test_apply_progress_and_errors_of_a_hostile_organization_are_inert(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    data = {
        "policy": {
            "unmanaged": "remove",
            "max_removals": "100%",
            "api_keys_of_removed_members": "deactivate",
        },
        "members": {"ada@tinyco.io": "admin"},
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    store = hostile_store()
    with running_server(create_app(store)) as base:
        shown = run("plan", str(path), "--format", "json", base=base)
        planned = json.loads(shown.stdout)
        applied = run("apply", str(path), "--yes", base=base)
        again = run("plan", str(path), base=base)
    assert applied.exit_code == 0, applied.stderr
    assert len(sign_lines(applied.stderr)) == len(planned["changes"])
    assert len(planned["changes"]) > 2 * len(HOSTILE)
    assert again.stdout.splitlines()[-1] == "No changes. The organization matches the roster files."


def test_an_api_error_quoting_a_hostile_name_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roster.cli import sync
    from roster.errors import InvalidRequestError

    async def refuse(*_: Any, **__: Any) -> Current:
        raise InvalidRequestError(HOSTILE[1], method="GET", path=f"/v1/x/{HOSTILE[2]}")

    monkeypatch.setattr(sync, "fetch_state", refuse)
    result = run("plan", str(roster_file(tmp_path)), base="http://127.0.0.1:9")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: GET /v1/x/ci-key\\x1b[1A")


def test_a_warning_about_a_hostile_path_is_one_line(tmp_path: Path) -> None:
    key_file = tmp_path / "key\n  + add evil@example.org"
    key_file.write_text(ADMIN_KEY, encoding="utf-8")
    key_file.chmod(0o644)
    with running_server(create_app(Store())) as base:
        result = run("org", "--api-key-file", str(key_file), base=base)
    warning = result.stderr.splitlines()[0]
    assert warning.startswith("Warning: ")
    assert "key\\n  + add evil@example.org" in warning
    assert not sign_lines(result.stderr)


def test_the_desired_side_cannot_name_a_hostile_workspace(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(
        'members:\n  ada@acme.io: admin\nworkspaces:\n  "Prod\\n  + add bob@example.com": {}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["validate", str(path)], prog_name="roster")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path}:4:3: workspaces: 'Prod\\n  + add bob@example.com' is not a valid"
        " workspace name (1 to 40 characters, not only spaces, no control, bidirectional or"
        " invisible characters)\n"
    )


def test_the_plan_of_a_hostile_desired_state_is_inert() -> None:
    desired = Desired(members={"ada@acme.io": "admin"}, policy=Policy(unmanaged="remove"))
    current = Current(
        Organization("o", HOSTILE[0]),
        members=tuple(
            Member(f"user_{i}", f"{name}@x.io", name, "user", "") for i, name in enumerate(HOSTILE)
        ),
        invites=(),
    )
    plan = compute_plan(desired, current)
    text = render_text(plan, color=False)
    assert_inert(text)
    assert len(sign_lines(text)) == len(HOSTILE) + 1  # and "invite ada@acme.io in the Console"


# --- what a first review found -------------------------------------------------------------------


def test_a_plan_of_names_with_lone_surrogates_saves_and_reads_back(tmp_path: Path) -> None:
    from roster.saved_plan import read_saved_plan, write_saved_plan

    odd = "lone \ud800 surrogate"
    current = Current(
        Organization("org-1", odd),
        members=(Member("user_1", "ada@acme.io", odd, "user", ""),),
        invites=(),
        workspaces=(Space("wrkspc_1", odd),),
    )
    desired = Desired({"ada@acme.io": "user"}, Policy(workspaces="report"))
    plan = compute_plan(desired, current)
    roster_file = tmp_path / "roster.yaml"
    roster_file.write_text("members:\n  ada@acme.io: user\n", encoding="utf-8")
    path = tmp_path / "plan.json"
    write_saved_plan(path, plan, desired, current, files=[roster_file], now="2026-12-02T00:00:00Z")
    assert read_saved_plan(path).plan == plan


def test_csv_spells_out_a_lone_surrogate_and_keeps_the_rest_exact() -> None:
    from roster.reports.table import render_csv

    text = render_csv(["name"], [["a\ud800b"], ["Zoë \u202e"]])
    assert text == "name\na\\ud800b\nZoë \u202e\n"
    text.encode("utf-8")  # writable as UTF-8 at all


def test_markdown_leaves_no_mention_or_link_live() -> None:
    name = "@acme/security-team https://evil.example/login"
    heading = render_markdown(Plan(Organization("org-1", name))).splitlines()[1]
    assert heading == f"## roster plan for `{name}` (org-1)"
    assert markdown_text("Team #1 | x", in_table=True) == "`Team #1 \\| x`"
    assert markdown_text("grace@tinyco.io") == "grace@tinyco.io"  # an email mentions nobody


def test_a_role_with_a_trailing_newline_cannot_break_the_report_table() -> None:
    from roster.reports.report import _word

    assert _word("user\n") == "user\\\\n"
    assert _word("claude_code_user") == "claude_code_user"


def test_the_debug_log_shows_a_hostile_request_id_escaped(caplog: pytest.LogCaptureFixture) -> None:
    import httpx

    from roster.api import AdminClient, make_http_client
    from roster.credentials import Secret

    forged = "req_\u202e\x9b2J\x85FORGED"

    def answer(request: httpx.Request) -> httpx.Response:
        raw = [(b"request-id", forged.encode("utf-8"))]  # as bytes on the wire: any byte at all
        return httpx.Response(200, json={"id": "o", "name": "n"}, headers=raw)

    async def fetch() -> None:
        key = Secret("sk-ant-admin01-debug-log-test")
        async with make_http_client(
            "https://x", key, transport=httpx.MockTransport(answer)
        ) as http:
            await AdminClient(http).me()

    with caplog.at_level("DEBUG", logger="roster"):
        asyncio.run(fetch())
    [line] = [r.getMessage() for r in caplog.records if r.name == "roster.http"]
    assert_inert(line)
    assert "req_\\u202e\\x9b2J\\x85FORGED" in line


@pytest.mark.parametrize(
    "name", ["Acme_www.evil.example/login", "Café@security-team", "Fix GH-12", "see #12"]
)
def test_a_name_github_would_link_or_mention_is_inline_code(name: str) -> None:
    assert markdown_text(name) == f"`{name}`"
