"""The organization's Default workspace, as the API has it (admin-api.md §9): listed only with
``include_default``, never created, renamed or archived; its members are planned like any
workspace's.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from click.testing import CliRunner

from roster.cli import main
from roster.config import load_config
from roster.desired import Desired, DesiredWorkspace, Policy
from roster.emulator.app import create_app
from roster.emulator.records import Workspace
from roster.emulator.server import running_server
from roster.export import render_roster_file
from roster.plan import compute_plan
from roster.state import fetch_state
from tests.support import KEY, Org, make_store

PEOPLE = {"boss@example.io": "admin", "dev@example.io": "developer", "ann@example.io": "user"}


def org() -> Org:
    return Org(make_store(PEOPLE, {}, {"Production": {"dev@example.io": "workspace_user"}}))


def test_the_state_holds_the_default_workspace_and_marks_it() -> None:
    current = asyncio.run(fetch_state(org().client()))
    marked = {(w.name, w.is_default) for w in current.workspaces}
    assert marked == {("Default", True), ("Production", False)}


def test_members_of_the_default_workspace_are_planned_and_applied_there() -> None:
    emulated = org()
    default_id = emulated.store.default_workspace_id
    desired = Desired(
        PEOPLE,
        workspaces={"Default": DesiredWorkspace("Default", {"ann@example.io": "workspace_user"})},
    )
    plan = asyncio.run(emulated.plan(desired))
    assert [(c.kind, c.workspace_id) for c in plan.changes] == [
        ("add_workspace_member", default_id)
    ]
    assert asyncio.run(emulated.apply(desired)).ok
    assert emulated.store.get_member(default_id, user_id(emulated, "ann@example.io"))
    assert asyncio.run(emulated.plan(desired)).is_empty


def test_the_default_workspace_is_never_archived_nor_created() -> None:
    emulated = org()
    archived = Desired(PEOPLE, workspaces={"Default": DesiredWorkspace("Default", archived=True)})
    plan = asyncio.run(emulated.plan(archived))
    assert [c.kind for c in plan.changes] == ["manual"]
    assert "can never be archived" in plan.changes[0].note
    current = asyncio.run(emulated.current(archived))
    hidden = type(current)(
        current.organization,
        current.members,
        current.invites,
        tuple(w for w in current.workspaces if not w.is_default),
    )
    listed = Desired(PEOPLE, workspaces={"Default": DesiredWorkspace("Default")})
    [missing] = compute_plan(listed, hidden).changes
    assert missing.kind == "manual"
    assert "never creates a workspace named Default" in missing.note


def test_the_default_workspace_is_not_reported_as_unmanaged() -> None:
    desired = Desired(PEOPLE, Policy(workspaces="report"))
    plan = asyncio.run(org().plan(desired))
    assert [u.workspace for u in plan.unmanaged if u.kind == "workspace"] == ["Production"]


def test_export_writes_the_default_workspace_only_with_members_of_its_own(tmp_path: Path) -> None:
    emulated = org()
    plain = render_roster_file(
        asyncio.run(fetch_state(emulated.client(), workspace_members_of=None))
    )
    assert "Default" not in plain
    ann = user_id(emulated, "ann@example.io")
    emulated.store.insert_member(emulated.store.default_workspace_id, ann, "workspace_developer")
    current = asyncio.run(fetch_state(emulated.client(), workspace_members_of=None))
    text = render_roster_file(current)
    assert yaml.safe_load(text)["workspaces"]["Default"] == {
        "members": {"ann@example.io": "workspace_developer"}
    }
    path = tmp_path / "exported.yaml"
    path.write_text(text, encoding="utf-8")
    assert compute_plan(load_config([path]), current).is_empty


def test_a_file_listing_default_plans_no_new_workspace_over_http(tmp_path: Path) -> None:
    store = make_store(PEOPLE, {})
    path = tmp_path / "roster.yaml"
    data = {
        "members": PEOPLE,
        "workspaces": {"Default": {"members": {"ann@example.io": "workspace_user"}}},
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with running_server(create_app(store)) as base:
        result = CliRunner().invoke(
            main,
            ["plan", str(path), "--api-url", base],
            env={"ANTHROPIC_ADMIN_KEY": KEY.reveal(), "NO_COLOR": "1"},
        )
    assert result.exit_code == 0, result.output
    assert "create workspace" not in result.stdout
    assert "  + add ann@example.io to workspace Default as workspace_user" in result.stdout


def user_id(emulated: Org, email: str) -> str:
    user = emulated.store.user_by_email(email)
    assert user is not None
    return user.id


def test_a_workspace_named_like_the_default_one_is_left_out_of_an_export(tmp_path: Path) -> None:
    emulated = org()
    imposter = Workspace(
        emulated.store.new_id("wrkspc_"), "Default", "2026-11-02T09:00:00Z", "#000000"
    )
    emulated.store.insert_workspace(imposter)
    emulated.store.insert_member(imposter.id, user_id(emulated, "ann@example.io"), "workspace_user")
    current = asyncio.run(fetch_state(emulated.client(), workspace_members_of=None))
    text = render_roster_file(current)
    assert "named like the Default workspace" in text
    path = tmp_path / "exported.yaml"
    path.write_text(text, encoding="utf-8")
    desired = load_config([path])
    assert "Default" not in desired.workspaces
    assert compute_plan(desired, current).is_empty
    # A file that names Default means the organization's own, whatever else shares the name.
    listed = Desired(
        PEOPLE,
        workspaces={"Default": DesiredWorkspace("Default", {"ann@example.io": "workspace_user"})},
    )
    [change] = compute_plan(listed, current).changes
    assert (change.kind, change.workspace_id) == (
        "add_workspace_member",
        emulated.store.default_workspace_id,
    )
