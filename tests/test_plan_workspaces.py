"""Planning workspaces, their members and the keys of removed members: every rule as a table row."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from roster.desired import Desired, DesiredWorkspace, Policy
from roster.errors import UnsafePlanError
from roster.model import ApiKey, Current, Member, Organization, Workspace, WorkspaceMember
from roster.plan import Plan, check_archive_guard, compute_plan

ORG = Organization("org-1", "Acme")
PROD = Workspace("wrkspc_prod", "Production")
PEOPLE = {
    "ann@acme.com": "user",
    "dev@acme.com": "developer",
    "boss@acme.com": "admin",
    "bill@acme.com": "billing",
    "ceo@acme.com": "developer",
}


def member(email: str, role: str) -> Member:
    return Member(f"user_{email.split('@', maxsplit=1)[0]}", email, "Name", role, "2026-01-01")


def in_prod(email: str, role: str) -> WorkspaceMember:
    return WorkspaceMember(PROD.id, f"user_{email.split('@', maxsplit=1)[0]}", role)


def plan_for(
    workspaces: Mapping[str, Mapping[str, str]],
    held: tuple[WorkspaceMember, ...] = (),
    *,
    policy: Policy | None = None,
    members: Mapping[str, str] = PEOPLE,
    current_members: Mapping[str, str] = PEOPLE,
    spaces: tuple[Workspace, ...] = (PROD,),
    keys: tuple[ApiKey, ...] = (),
) -> Plan:
    desired = Desired(
        dict(members),
        policy or Policy(unmanaged="remove"),
        workspaces={n: DesiredWorkspace(n, dict(m)) for n, m in workspaces.items()},
    )
    current = Current(
        ORG,
        tuple(member(e, r) for e, r in current_members.items()),
        (),
        spaces,
        held,
        keys,
    )
    return compute_plan(desired, current)


def described(plan: Plan) -> list[tuple[str, str, str, str | None, str | None]]:
    return [(c.kind, c.workspace, c.email, c.from_role, c.to_role) for c in plan.api_changes]


CASES = [
    (
        "a new workspace is created, then its members added",
        {"Support": {"ann@acme.com": "workspace_user"}},
        (),
        [
            ("create_workspace", "Support", "", None, None),
            ("add_workspace_member", "Support", "ann@acme.com", None, "workspace_user"),
        ],
    ),
    (
        "a member is added to an existing workspace",
        {"Production": {"dev@acme.com": "workspace_developer"}},
        (),
        [("add_workspace_member", "Production", "dev@acme.com", None, "workspace_developer")],
    ),
    (
        "a workspace role is changed",
        {"Production": {"dev@acme.com": "workspace_admin"}},
        (in_prod("dev@acme.com", "workspace_developer"),),
        [
            (
                "update_workspace_member",
                "Production",
                "dev@acme.com",
                "workspace_developer",
                "workspace_admin",
            )
        ],
    ),
    (
        "an unlisted workspace member is removed",
        {"Production": {}},
        (in_prod("ann@acme.com", "workspace_user"),),
        [("remove_workspace_member", "Production", "ann@acme.com", "workspace_user", None)],
    ),
    (
        "inherited memberships of admins and billing members are never touched",
        {"Production": {}},
        (
            in_prod("boss@acme.com", "workspace_admin"),
            in_prod("bill@acme.com", "workspace_billing"),
        ),
        [],
    ),
    (
        "a billing member can be made workspace admin",
        {"Production": {"bill@acme.com": "workspace_admin"}},
        (in_prod("bill@acme.com", "workspace_billing"),),
        [
            (
                "update_workspace_member",
                "Production",
                "bill@acme.com",
                "workspace_billing",
                "workspace_admin",
            )
        ],
    ),
    (
        "a billing member's inherited role needs no listing to exist",
        {"Production": {"bill@acme.com": "workspace_admin"}},
        (),
        [
            (
                "update_workspace_member",
                "Production",
                "bill@acme.com",
                "workspace_billing",
                "workspace_admin",
            )
        ],
    ),
    (
        "a matching workspace plans nothing",
        {"Production": {"dev@acme.com": "workspace_developer"}},
        (in_prod("dev@acme.com", "workspace_developer"),),
        [],
    ),
]


@pytest.mark.parametrize(
    ("workspaces", "held", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_workspace_rules(
    workspaces: Mapping[str, Mapping[str, str]],
    held: tuple[WorkspaceMember, ...],
    expected: list[tuple[str, str, str, str | None, str | None]],
) -> None:
    assert described(plan_for(workspaces, held)) == expected


@pytest.mark.parametrize(
    ("unmanaged", "kinds", "reported"),
    [
        ("remove", ["remove_workspace_member"], []),
        ("report", [], ["ann@acme.com"]),
        ("ignore", [], []),
    ],
)
def test_unlisted_workspace_members_follow_their_policy(
    unmanaged: str, kinds: list[str], reported: list[str]
) -> None:
    policy = Policy(unmanaged="report", workspace_members=unmanaged)  # type: ignore[arg-type]
    plan = plan_for({"Production": {}}, (in_prod("ann@acme.com", "workspace_user"),), policy=policy)
    assert [c.kind for c in plan.api_changes] == kinds
    assert [u.email for u in plan.unmanaged if u.kind == "workspace_member"] == reported


def test_workspace_members_default_to_the_organization_policy() -> None:
    plan = plan_for(
        {"Production": {}},
        (in_prod("ann@acme.com", "workspace_user"),),
        policy=Policy(unmanaged="report"),
    )
    assert plan.api_changes == ()
    assert [(u.kind, u.workspace) for u in plan.unmanaged] == [("workspace_member", "Production")]


def test_protected_members_are_not_removed_or_demoted_in_workspaces() -> None:
    policy = Policy(unmanaged="remove", protected=frozenset({"ceo@acme.com", "ann@acme.com"}))
    plan = plan_for(
        {"Production": {"ceo@acme.com": "workspace_user"}},
        (in_prod("ceo@acme.com", "workspace_admin"), in_prod("ann@acme.com", "workspace_user")),
        policy=policy,
    )
    assert plan.api_changes == ()
    assert [(h.email, h.role, h.wanted_role, h.workspace) for h in plan.held_back] == [
        ("ann@acme.com", "workspace_user", None, "Production"),
        ("ceo@acme.com", "workspace_admin", "workspace_user", "Production"),
    ]


def test_invitees_wait_for_their_invite_to_be_accepted() -> None:
    plan = plan_for(
        {"Production": {"new@acme.com": "workspace_user"}},
        members={**PEOPLE, "new@acme.com": "developer"},
    )
    assert [c.kind for c in plan.api_changes] == ["invite"]
    assert [(w.email, w.workspace, w.role) for w in plan.waiting] == [
        ("new@acme.com", "Production", "workspace_user")
    ]


def test_a_role_change_in_the_same_plan_decides_inheritance() -> None:
    plan = plan_for(
        {"Production": {"ann@acme.com": "workspace_admin"}},
        members={**PEOPLE, "ann@acme.com": "billing"},
    )
    assert described(plan) == [
        ("update_role", "", "ann@acme.com", "user", "billing"),
        (
            "update_workspace_member",
            "Production",
            "ann@acme.com",
            "workspace_billing",
            "workspace_admin",
        ),
    ]


def test_two_workspaces_with_one_name_are_a_manual_action_and_the_rest_is_planned() -> None:
    older = Workspace("wrkspc_twin", "Production", created_at="2026-11-01T08:00:00.000000Z")
    newer = Workspace("wrkspc_prod", "Production", created_at="2026-11-02T09:30:00.000000Z")
    held = (
        WorkspaceMember(older.id, "user_dev", "workspace_developer"),
        WorkspaceMember(older.id, "user_boss", "workspace_admin"),  # inherited: not listed
    )
    plan = plan_for(
        {"Production": {"ann@acme.com": "workspace_admin"}, "Support": {}},
        held,
        spaces=(newer, older),
        keys=(ApiKey("apikey_1", "ci", "active", newer.id, "user_dev"),),
    )
    assert [(c.kind, c.workspace) for c in plan.changes] == [
        ("create_workspace", "Support"),
        ("manual", "Production"),
    ]
    assert plan.manual_changes[0].note == (
        "In the Console, archive or rename all but one of the 2 active workspaces named"
        " 'Production', so that the name identifies one; until then roster plans nothing for it:"
        " wrkspc_twin (created 2026-11-01 08:00:00, 1 member: dev@acme.com, no active API keys);"
        " wrkspc_prod (created 2026-11-02 09:30:00, no members, 1 active API key: 'ci')."
    )


def test_twins_matter_only_when_the_files_name_them() -> None:
    twins = (
        PROD,
        Workspace("wrkspc_twin", "Production"),
        Workspace("wrkspc_old", "Support", archived=True),
    )
    plan = plan_for({"Support": {}}, spaces=twins)
    assert described(plan) == [("create_workspace", "Support", "", None, None)]


def test_unlisted_workspaces_are_reported_when_asked() -> None:
    reported = plan_for({}, policy=Policy(workspaces="report"))
    assert [(u.kind, u.workspace, u.id) for u in reported.unmanaged] == [
        ("workspace", "Production", PROD.id)
    ]
    assert plan_for({}, policy=Policy()).unmanaged == ()


def key(key_id: str, creator: str | None, workspace: str | None = PROD.id) -> ApiKey:
    return ApiKey(key_id, f"key {key_id}", "active", workspace, creator)


def archive_plan(*keys: ApiKey, spaces: tuple[Workspace, ...] = (PROD,)) -> Plan:
    desired = Desired(
        dict(PEOPLE), workspaces={"Production": DesiredWorkspace("Production", archived=True)}
    )
    current = Current(ORG, tuple(member(e, r) for e, r in PEOPLE.items()), (), spaces, (), keys)
    return compute_plan(desired, current)


def test_archiving_is_planned_with_the_keys_it_stops() -> None:
    plan = archive_plan(key("k1", "user_dev"), key("k2", None), key("k3", "user_dev", None))
    assert [(c.kind, c.workspace_id, c.note) for c in plan.api_changes] == [
        ("archive_workspace", PROD.id, "final; 2 active API keys in it stop working")
    ]
    with pytest.raises(UnsafePlanError, match="pass --allow-archive"):
        check_archive_guard(plan, allow_archive=False)
    check_archive_guard(plan, allow_archive=True)


def test_an_absent_or_archived_workspace_needs_no_archiving() -> None:
    assert archive_plan(spaces=()).is_empty
    assert archive_plan(spaces=(Workspace(PROD.id, "Production", archived=True),)).is_empty


@pytest.mark.parametrize(
    ("policy", "kinds", "notices"),
    [
        ("report", [], ["k3", "k1"]),  # by owner: "a former member" sorts first
        ("deactivate", ["deactivate_api_key", "deactivate_api_key"], []),
        ("archive", ["archive_api_key", "archive_api_key"], []),
        ("keep", [], []),
    ],
)
def test_keys_of_removed_and_former_members_follow_policy(
    policy: str, kinds: list[str], notices: list[str]
) -> None:
    keys = (
        key("k1", "user_ann"),  # ann is being removed
        key("k2", "user_dev"),  # dev stays
        key("k3", "user_gone"),  # created by someone no longer a member
        key("k4", None),  # a service or legacy key
    )
    people = {e: r for e, r in PEOPLE.items() if e != "ann@acme.com"}
    plan = plan_for(
        {},
        policy=Policy(unmanaged="remove", api_keys_of_removed_members=policy),  # type: ignore[arg-type]
        members=people,
        keys=keys,
    )
    key_changes = [c for c in plan.api_changes if c.key_id]
    assert [c.kind for c in key_changes] == kinds
    assert [n.key_id for n in plan.api_keys] == notices
    owners = {c.key_id: c.email for c in key_changes} | {n.key_id: n.owner for n in plan.api_keys}
    assert owners.get("k1", "ann@acme.com") == "ann@acme.com"
    assert owners.get("k3", "a former member (user_gone)") == "a former member (user_gone)"


def test_phases_put_workspace_removals_before_org_removals_and_keys_last() -> None:
    people = {e: r for e, r in PEOPLE.items() if e != "ann@acme.com"}
    plan = plan_for(
        {"Production": {"dev@acme.com": "workspace_user"}},
        (in_prod("ann@acme.com", "workspace_user"), in_prod("ceo@acme.com", "workspace_user")),
        policy=Policy(unmanaged="remove", api_keys_of_removed_members="deactivate"),
        members=people,
        keys=(key("k1", "user_ann"),),
    )
    assert [(c.kind, c.email) for c in plan.api_changes] == [
        ("add_workspace_member", "dev@acme.com"),
        ("remove_workspace_member", "ceo@acme.com"),
        ("remove_member", "ann@acme.com"),
        ("deactivate_api_key", "ann@acme.com"),
    ]
    # Leaving the organization, ann leaves its workspaces with it: no change of their own.
    assert plan.api_changes[2].note == "leaving workspace Production too"
