"""export: the organization as a roster file that plans to no changes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from roster.config import load_config
from roster.desired import FILE_ROLES
from roster.export import render_roster_file
from roster.model import (
    ASSIGNABLE_WORKSPACE_ROLES,
    Current,
    Invite,
    Member,
    Organization,
    Workspace,
    WorkspaceMember,
)
from roster.plan import compute_plan
from roster.yaml_writer import entry_lines, yaml_lines

ORG = Organization("5f0c1d2e-0000-4000-8000-000000000001", "Acme: R&D #1")


def member(email: str, role: str) -> Member:
    return Member(f"user_{email}", email, "Name", role, "2026-01-01T00:00:00Z")


def pending(email: str, role: str) -> Invite:
    return Invite(f"invite_{email}", email, role, "pending", "2026-11-01", "2026-11-22")


def test_export_lists_members_and_pending_invites_sorted() -> None:
    current = Current(
        ORG,
        members=(member("zed@acme.io", "developer"), member("amy@acme.io", "owner")),
        invites=(pending("new@acme.io", "user"),),
    )
    text = render_roster_file(current)
    assert text.splitlines()[-3:] == [
        "  amy@acme.io: admin  # owner in the Console",
        "  new@acme.io: user  # invited, not yet accepted",
        "  zed@acme.io: developer",
    ]
    assert "  name: 'Acme: R&D #1'" in text


def test_roles_and_addresses_a_file_cannot_state_are_comments() -> None:
    current = Current(
        ORG, members=(member("sso@acme.io", "managed"), member("odd.@acme.io", "user")), invites=()
    )
    text = render_roster_file(current)
    assert "  # sso@acme.io: managed  (a role roster files cannot state; left unmanaged)" in text
    assert "  # odd.@acme.io: user  (an address roster files cannot state; left unmanaged)" in text
    assert text.splitlines()[-3] == "  {}"  # nothing listed: an empty mapping, then the comments


def test_a_file_whose_members_are_all_comments_still_loads(tmp_path: Path) -> None:
    current = Current(ORG, members=(member("odd.@acme.io", "user"),), invites=())
    path = tmp_path / "exported.yaml"
    path.write_text(render_roster_file(current), encoding="utf-8")
    assert dict(load_config([path]).members) == {}


roles = st.sampled_from(["user", "developer", "billing", "claude_code_user", "admin", "owner"])
local_parts = st.from_regex(r"[a-z][a-z0-9._+-]{0,8}", fullmatch=True)
addresses = st.builds(
    lambda local, domain: f"{local}@{domain}", local_parts, st.sampled_from(["a.io", "b-c.org"])
)


@settings(max_examples=60, deadline=None)
@given(
    members=st.dictionaries(addresses, roles, max_size=6),
    invites=st.dictionaries(addresses, roles.filter(lambda r: r != "owner"), max_size=4),
    name=st.text(min_size=1, max_size=20).filter(lambda s: s.strip() == s and s.isprintable()),
)
def test_export_then_plan_shows_no_changes(
    members: dict[str, str], invites: dict[str, str], name: str
) -> None:
    current = Current(
        Organization(ORG.id, name),
        members=tuple(member(e, r) for e, r in sorted(members.items())),
        invites=tuple(pending(e, r) for e, r in sorted(invites.items()) if e not in members),
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "exported.yaml"
        path.write_text(render_roster_file(current), encoding="utf-8")
        desired = load_config([path])
    assert compute_plan(desired, current).is_empty


@settings(max_examples=200, deadline=None)
@given(
    email=st.from_regex(r"[a-z0-9][a-z0-9._%+\-]{0,12}@[a-z0-9.\-]{1,12}", fullmatch=True),
    role=st.sampled_from(sorted(FILE_ROLES | ASSIGNABLE_WORKSPACE_ROLES)),
)
def test_the_fast_path_for_plain_entries_writes_what_the_yaml_writer_does(
    email: str, role: str
) -> None:
    assert entry_lines(email, role, "", indent=6) == yaml_lines({email: role}, indent=6)


def test_a_workspace_name_with_invisible_characters_and_members_exports_as_valid_yaml(
    tmp_path: Path,
) -> None:
    # A flag emoji is built from tag characters; U+FFF9 is an annotation mark: both invisible.
    names = [
        "Scotland \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "a\ufff9b",
    ]
    spaces = tuple(Workspace(f"wrkspc_{n}", name) for n, name in enumerate(names))
    held = tuple(WorkspaceMember(w.id, "user_dev@acme.io", "workspace_user") for w in spaces)
    current = Current(
        ORG,
        members=(member("dev@acme.io", "developer"),),
        invites=(),
        workspaces=spaces,
        workspace_members=held,
    )
    path = tmp_path / "exported.yaml"
    path.write_text(render_roster_file(current), encoding="utf-8")
    desired = load_config([path])
    assert sorted(desired.workspaces) == sorted(names)
    assert compute_plan(desired, current).is_empty


def test_an_organization_without_a_name_exports_its_id_alone(tmp_path: Path) -> None:
    current = Current(
        Organization(ORG.id, ""), members=(member("dev@acme.io", "user"),), invites=()
    )
    path = tmp_path / "exported.yaml"
    path.write_text(render_roster_file(current), encoding="utf-8")
    desired = load_config([path])
    assert desired.organization is not None
    assert (desired.organization.id, desired.organization.name) == (ORG.id, None)
    assert compute_plan(desired, current).is_empty


def test_export_reads_no_api_keys() -> None:
    import asyncio

    from roster.state import fetch_state
    from tests.support import Org, make_store

    org = Org(make_store({"a@x.io": "user"}, {}, keys={"k": "a@x.io"}))

    async def paths() -> set[str]:
        await org.control("DELETE", "requests")
        await fetch_state(org.client(), workspace_members_of=None, with_api_keys=False)
        return {r["path"] for r in (await org.control("GET", "requests"))["requests"]}

    assert "/v1/organizations/api_keys" not in asyncio.run(paths())
