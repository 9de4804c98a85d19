"""Planning: every rule as a table row, the guards' arithmetic, and properties of the pure core."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roster.desired import FILE_ROLES, Desired, OrganizationRef, Policy, RemovalLimit
from roster.errors import UnsafePlanError
from roster.model import ORG_ROLES, SETTABLE_ROLES, Current, Invite, Member, Organization
from roster.plan import (
    Change,
    HeldBack,
    Plan,
    Unmanaged,
    check_organization,
    check_removal_guard,
    compute_plan,
    is_demotion,
)

ACME = Organization("8d3e4f52-0c7a-4b1e-9a6d-5f2c1b0e9d87", "Acme")


def member(email: str, role: str) -> Member:
    local = email.split("@", maxsplit=1)[0]
    return Member(f"user_{local}", email, local.title(), role, "2024-10-30T23:58:27Z")


def invite(email: str, role: str, status: str = "pending") -> Invite:
    local = email.split("@", maxsplit=1)[0]
    return Invite(
        f"invite_{local}", email, role, status, "2024-10-01T09:00:00Z", "2024-10-22T09:00:00Z"
    )


def current_of(*accounts: Member | Invite) -> Current:
    members = tuple(a for a in accounts if isinstance(a, Member))
    invites = tuple(a for a in accounts if isinstance(a, Invite))
    return Current(ACME, members, invites)


def desired_of(members: Mapping[str, str], **policy: Any) -> Desired:
    return Desired(members=dict(members), policy=Policy(**policy))


def plan_of(members: Mapping[str, str], *accounts: Member | Invite, **policy: Any) -> Plan:
    return compute_plan(desired_of(members, **policy), current_of(*accounts))


ALICE, BOB, CEO = "alice@acme.com", "bob@acme.com", "ceo@acme.com"
PROTECT_CEO = {"protected": frozenset({CEO})}
REMOVE = {"unmanaged": "remove"}
IGNORE_SVC = {"ignore": ("*@svc.acme.com",)}


def promote_note(email: str, old: str) -> str:
    return (
        f"In the Console, change {email}'s role from {old} to admin; only the Console grants admin."
    )


# id, desired members, current accounts, policy, expected changes, unmanaged, held back
RULES: list[tuple[str, dict[str, str], list[Member | Invite], dict[str, Any], list[Any]]] = [
    ("new member is invited", {ALICE: "developer"}, [], {}, [
        Change("invite", ALICE, None, "developer"),
    ]),
    ("pending invite with the role is done", {ALICE: "user"}, [invite(ALICE, "user")], {}, []),
    ("pending invite with another role is replaced", {ALICE: "developer"},
     [invite(ALICE, "user")], {}, [
        Change("reinvite", ALICE, "user", "developer", invite_id="invite_alice"),
    ]),
    ("expired invite is sent again", {ALICE: "user"}, [invite(ALICE, "user", "expired")], {}, [
        Change("invite", ALICE, None, "user", note="the previous invite expired on 2024-10-22"),
    ]),
    ("expired invite of someone unlisted is left", {},
     [invite(BOB, "user", "expired")], REMOVE, []),
    ("member with another settable role changes", {ALICE: "developer"},
     [member(ALICE, "user")], {}, [
        Change("update_role", ALICE, "user", "developer", user_id="user_alice"),
    ]),
    ("member with the role is left", {ALICE: "billing"}, [member(ALICE, "billing")], {}, []),
    ("promotion to admin is manual", {ALICE: "admin"}, [member(ALICE, "developer")], {}, [
        Change("manual", ALICE, "developer", "admin", user_id="user_alice",
               note=promote_note(ALICE, "developer")),
    ]),
    ("demotion of an admin is manual", {ALICE: "user"}, [member(ALICE, "admin")], {}, [
        Change("manual", ALICE, "admin", "user", user_id="user_alice",
               note="In the Console, change alice@acme.com's role from admin to user;"
               " the API cannot take away admin."),
    ]),
    ("an owner is admin enough", {CEO: "admin"}, [member(CEO, "owner")], {}, []),
    ("a primary owner is admin enough", {CEO: "admin"}, [member(CEO, "primary_owner")], {}, []),
    ("demotion of an owner is manual", {CEO: "developer"}, [member(CEO, "primary_owner")], {}, [
        Change("manual", CEO, "primary_owner", "developer", user_id="user_ceo",
               note="In the Console, change ceo@acme.com's role from primary_owner to developer;"
               " the API cannot take away primary_owner."),
    ]),
    ("unlisted admin is removed by hand", {}, [member(BOB, "admin")], REMOVE, [
        Change("manual", BOB, "admin", None, user_id="user_bob",
               note="In the Console, remove bob@acme.com (admin) from the organization, or list"
               " them in the roster files; the API cannot remove a member with the admin role."),
    ]),
    ("unlisted admin is reported", {}, [member(BOB, "admin")], {}, [
        Unmanaged("member", BOB, "admin", "user_bob"),
    ]),
    ("a new admin is invited in the Console", {ALICE: "admin"}, [], {}, [
        Change("manual", ALICE, None, "admin",
               note="In the Console, invite alice@acme.com as admin;"
               " only the Console grants admin."),
    ]),
    ("a pending admin invite counts as done", {ALICE: "admin"},
     [invite(ALICE, "admin")], {}, []),
    ("a pending user invite for an admin is manual", {ALICE: "admin"},
     [invite(ALICE, "user")], {}, [
        Change("manual", ALICE, "user", "admin", invite_id="invite_alice",
               note="In the Console, delete the pending user invite for alice@acme.com and invite"
               " them as admin."),
    ]),
    ("a pending admin invite for a developer is manual", {ALICE: "developer"},
     [invite(ALICE, "admin")], {}, [
        Change("manual", ALICE, "admin", "developer", invite_id="invite_alice",
               note="In the Console, delete the pending admin invite for alice@acme.com and invite"
               " them as developer."),
    ]),
    ("unlisted member is removed", {}, [member(BOB, "developer")], REMOVE, [
        Change("remove_member", BOB, "developer", None, user_id="user_bob"),
    ]),
    ("unlisted member is reported", {}, [member(BOB, "developer")], {"unmanaged": "report"}, [
        Unmanaged("member", BOB, "developer", "user_bob"),
    ]),
    ("unlisted member is ignored", {}, [member(BOB, "developer")], {"unmanaged": "ignore"}, []),
    ("unlisted invite is deleted", {}, [invite(BOB, "billing")], REMOVE, [
        Change("delete_invite", BOB, "billing", None, invite_id="invite_bob"),
    ]),
    ("unlisted invite is reported", {}, [invite(BOB, "billing")], {}, [
        Unmanaged("invite", BOB, "billing", "invite_bob"),
    ]),
    ("unlisted invite is ignored", {}, [invite(BOB, "billing")], {"unmanaged": "ignore"}, []),
    ("unlisted admin invite is deleted by hand", {}, [invite(BOB, "admin")], REMOVE, [
        Change("manual", BOB, "admin", None, invite_id="invite_bob",
               note="In the Console, delete the pending admin invite for bob@acme.com."),
    ]),
    ("ignored accounts are neither touched nor reported", {"x@svc.acme.com": "user"},
     [member("x@svc.acme.com", "developer"), member("y@svc.acme.com", "user"),
      invite("z@svc.acme.com", "user")], {**REMOVE, **IGNORE_SVC}, []),
    ("ignored accounts are not reported either", {},
     [member("y@svc.acme.com", "user")], IGNORE_SVC, []),
    ("protected unlisted member is held back", {}, [member(CEO, "developer")],
     {**REMOVE, **PROTECT_CEO}, [HeldBack("member", CEO, "developer", None)]),
    ("protected unlisted invite is held back", {}, [invite(CEO, "developer")],
     {**REMOVE, **PROTECT_CEO}, [HeldBack("invite", CEO, "developer", None)]),
    ("protected demotion is held back", {CEO: "user"}, [member(CEO, "developer")], PROTECT_CEO, [
        HeldBack("member", CEO, "developer", "user"),
    ]),
    ("protected sideways move losing a right is held back", {CEO: "billing"},
     [member(CEO, "developer")], PROTECT_CEO, [HeldBack("member", CEO, "developer", "billing")]),
    ("protected admin listed lower is held back", {CEO: "user"}, [member(CEO, "admin")],
     PROTECT_CEO, [HeldBack("member", CEO, "admin", "user")]),
    ("protected invite demotion is held back", {CEO: "user"}, [invite(CEO, "billing")],
     PROTECT_CEO, [HeldBack("invite", CEO, "billing", "user")]),
    ("protected promotion goes ahead", {CEO: "claude_code_user"}, [member(CEO, "user")],
     PROTECT_CEO, [Change("update_role", CEO, "user", "claude_code_user", user_id="user_ceo")]),
    ("managed member's role is changed by hand", {ALICE: "user"}, [member(ALICE, "managed")], {}, [
        Change("manual", ALICE, "managed", "user", user_id="user_alice",
               note="In the Console or the identity provider's groups, change alice@acme.com's"
               " role from managed to user."),
    ]),
    ("unlisted managed member is removed by hand", {}, [member(BOB, "managed")], REMOVE, [
        Change("manual", BOB, "managed", None, user_id="user_bob",
               note="In the Console, remove bob@acme.com (managed) from the organization, or list"
               " them in the roster files; the API cannot remove a member with the managed role."),
    ]),
    ("a stale invite of a listed member is left", {ALICE: "user"},
     [member(ALICE, "user"), invite(ALICE, "developer")], REMOVE, []),
    ("an unlisted member's stale invite goes too", {},
     [member(BOB, "user"), invite(BOB, "developer")], REMOVE, [
        Change("delete_invite", BOB, "developer", None, invite_id="invite_bob"),
        Change("remove_member", BOB, "user", None, user_id="user_bob"),
    ]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("members", "accounts", "policy", "expected"),
    [case[1:] for case in RULES],
    ids=[case[0] for case in RULES],
)
def test_rule(
    members: dict[str, str],
    accounts: list[Member | Invite],
    policy: dict[str, Any],
    expected: list[Any],
) -> None:
    plan = plan_of(members, *accounts, **policy)
    assert [*plan.changes, *plan.unmanaged, *plan.held_back] == expected


def test_changes_are_ordered_by_phase_then_kind_then_email() -> None:
    plan = plan_of(
        {
            "zed@acme.com": "developer",
            "amy@acme.com": "user",
            "kim@acme.com": "admin",
            BOB: "billing",
        },
        member("kim@acme.com", "user"),
        member(BOB, "user"),
        member("old@acme.com", "user"),
        member("ann@acme.com", "developer"),
        invite("gone@acme.com", "user"),
        **REMOVE,
    )
    assert [(c.kind, c.email) for c in plan.changes] == [
        ("invite", "amy@acme.com"),
        ("invite", "zed@acme.com"),
        ("update_role", BOB),
        ("delete_invite", "gone@acme.com"),
        ("remove_member", "ann@acme.com"),
        ("remove_member", "old@acme.com"),
        ("manual", "kim@acme.com"),
    ]
    assert [c.phase for c in plan.changes] == [1, 1, 1, 6, 6, 6, 8]


def test_plan_counts_summary_and_data() -> None:
    plan = plan_of(
        {ALICE: "developer", CEO: "admin", "new@acme.com": "user"},
        member(ALICE, "user"),
        member(CEO, "developer"),
        member(BOB, "user"),
        invite("old@acme.com", "user"),
    )
    assert {kind: n for kind, n in plan.counts.items() if n} == {
        "invite": 1,
        "update_role": 1,
        "manual": 1,
    }
    assert plan.summary == {
        "invite": 1,
        "change": 1,
        "add": 0,
        "remove": 0,
        "manual": 1,
        "unmanaged": 2,
        "held_back": 0,
    }
    data = plan.data
    assert list(data) == [
        "format_version", "organization", "changes", "manual", "unmanaged", "held_back",
        "waiting", "api_keys", "rate_limits", "group_overrides", "summary",
    ]  # fmt: skip
    assert data["organization"] == {"id": ACME.id, "name": "Acme"}
    assert [c["kind"] for c in data["changes"]] == ["invite", "update_role"]
    assert data["changes"][1] == {
        "kind": "update_role",
        "email": ALICE,
        "from_role": "user",
        "to_role": "developer",
        "user_id": "user_alice",
        "invite_id": None,
        "note": "",
        "workspace": None,
        "workspace_id": None,
        "key_id": None,
        "key_name": "",
        "group": "",
        "rate_limit_id": None,
        "limits": [],
    }
    assert [c["email"] for c in data["manual"]] == [CEO]
    assert data["unmanaged"][0] == {
        "kind": "member",
        "email": BOB,
        "role": "user",
        "id": "user_bob",
        "workspace": None,
    }


def test_a_matching_organization_gives_an_empty_plan() -> None:
    plan = plan_of(
        {ALICE: "developer", BOB: "admin"}, member(ALICE, "developer"), member(BOB, "admin")
    )
    assert plan.is_empty
    assert plan == Plan(ACME)


def test_reported_accounts_do_not_make_a_plan_non_empty() -> None:
    plan = plan_of({}, member(BOB, "user"))
    assert plan.is_empty
    assert plan.unmanaged == (Unmanaged("member", BOB, "user", "user_bob"),)


def test_a_plan_sorts_what_it_is_given() -> None:
    first, second = (
        Change("invite", "b@x.io", to_role="user"),
        Change("invite", "a@x.io", to_role="user"),
    )
    assert Plan(ACME, (first, second)) == Plan(ACME, (second, first))
    assert Plan(ACME, (first, second)).changes == (second, first)


@pytest.mark.parametrize(
    ("from_role", "to_role", "demotes"),
    [
        ("developer", "user", True),
        ("user", "developer", False),
        ("user", "claude_code_user", False),
        ("claude_code_user", "user", True),
        ("developer", "billing", True),
        ("admin", "developer", True),
        ("owner", "admin", True),
        ("managed", "user", True),
        ("user", "admin", False),
    ],
)
def test_demotion_means_losing_a_right(from_role: str, to_role: str, demotes: bool) -> None:
    assert is_demotion(from_role, to_role) is demotes


# --- the organization guard -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wanted", "refused"),
    [
        (None, False),
        (OrganizationRef(id=ACME.id), False),
        (OrganizationRef(name="Acme"), False),
        (OrganizationRef(id=ACME.id, name="Acme"), False),
        (OrganizationRef(id="0000"), True),
        (OrganizationRef(name="Initech"), True),
        (OrganizationRef(id=ACME.id, name="Acme Corp"), True),
    ],
)
def test_check_organization(wanted: OrganizationRef | None, refused: bool) -> None:
    desired = dataclasses.replace(desired_of({}), organization=wanted)
    if refused:
        with pytest.raises(UnsafePlanError):
            check_organization(desired, current_of())
    else:
        check_organization(desired, current_of())


def test_compute_plan_refuses_another_organization() -> None:
    desired = dataclasses.replace(
        desired_of({}), organization=OrganizationRef(id="1111", name="Initech")
    )
    with pytest.raises(UnsafePlanError) as caught:
        compute_plan(desired, current_of())
    assert str(caught.value) == (
        f"the roster files are for 'Initech' (id 1111) but the admin key belongs to 'Acme'"
        f" (id {ACME.id}); check the key or the files' organization"
    )
    assert caught.value.exit_code == 3


# --- the mass-removal guard -----------------------------------------------------------------------


def guard_case(total: int, removed: int, limit: str | int, force: bool = False) -> None:
    accounts = [member(f"m{i}@acme.com", "user") for i in range(total)]
    kept = {a.email: "user" for a in accounts[removed:]}
    policy = Policy(unmanaged="remove", max_removals=RemovalLimit.parse(limit))
    current = current_of(*accounts, invite("pending@acme.com", "user"))
    plan = compute_plan(Desired(kept, policy), current)
    check_removal_guard(plan, current, policy, force)


@pytest.mark.parametrize(
    ("total", "removed", "limit"), [(40, 10, 10), (40, 4, "10%"), (40, 0, 0), (5, 1, "20%")]
)
def test_removals_up_to_the_limit_pass(total: int, removed: int, limit: str | int) -> None:
    guard_case(total, removed, limit)


@pytest.mark.parametrize(
    ("total", "removed", "limit", "message"),
    [
        (40, 12, "10%", "plan removes 12 of 40 members (30.0%), over policy.max_removals 10% (4)"),
        (40, 5, "10%", "plan removes 5 of 40 members (12.5%), over policy.max_removals 10% (4)"),
        (40, 11, 10, "plan removes 11 of 40 members (27.5%), over policy.max_removals 10;"),
        (9, 1, "10%", "plan removes 1 of 9 members (11.1%), over policy.max_removals 10% (0)"),
        (8, 1, 0, "plan removes 1 of 8 members (12.5%), over policy.max_removals 0;"),
    ],
)
def test_removals_over_the_limit_are_refused(
    total: int, removed: int, limit: str | int, message: str
) -> None:
    with pytest.raises(UnsafePlanError) as caught:
        guard_case(total, removed, limit)
    assert str(caught.value).startswith(message)
    assert str(caught.value).endswith("; review the plan or pass --force")


def test_force_overrides_the_removal_guard() -> None:
    guard_case(40, 40, 1, force=True)


def test_deleted_invites_do_not_count_as_removals() -> None:
    policy = Policy(unmanaged="remove", max_removals=RemovalLimit(0))
    current = current_of(*(invite(f"i{n}@acme.com", "user") for n in range(5)))
    plan = compute_plan(Desired({}, policy), current)
    assert plan.counts["delete_invite"] == 5
    check_removal_guard(plan, current, policy, force=False)


def test_the_default_limit_allows_five_removals() -> None:
    guard_case(100, 5, int(Policy().max_removals.amount))
    with pytest.raises(UnsafePlanError):
        guard_case(100, 6, int(Policy().max_removals.amount))


# --- properties of the pure core ------------------------------------------------------------------

POOL = [f"{name}@acme.com" for name in ("ann", "bob", "cy", "dee", "eve", "fox")]
POOL += ["bot@svc.acme.com", "ops@svc.acme.com"]
STATUSES = ["pending", "expired"]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Desired, Current]:
    members = draw(st.dictionaries(st.sampled_from(POOL), st.sampled_from(sorted(ORG_ROLES))))
    invites = draw(
        st.dictionaries(
            st.sampled_from(POOL),
            st.tuples(st.sampled_from(sorted(ORG_ROLES)), st.sampled_from(STATUSES)),
        )
    )
    wanted = draw(st.dictionaries(st.sampled_from(POOL), st.sampled_from(sorted(FILE_ROLES))))
    policy = Policy(
        unmanaged=draw(st.sampled_from(["report", "remove", "ignore"])),
        ignore=draw(st.sampled_from([(), ("*@svc.acme.com",), ("bo?@*",)])),
        protected=frozenset(draw(st.lists(st.sampled_from(POOL), max_size=3))),
    )
    current = current_of(
        *(member(e, r) for e, r in members.items()),
        *(invite(e, r, s) for e, (r, s) in invites.items()),
    )
    return Desired(wanted, policy), current


def shuffled(current: Current, seed: int) -> Current:
    order = random.Random(seed)
    members, invites = list(current.members), list(current.invites)
    order.shuffle(members)
    order.shuffle(invites)
    return Current(current.organization, tuple(members), tuple(invites))


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.integers())
def test_the_plan_is_deterministic(scenario: tuple[Desired, Current], seed: int) -> None:
    desired, current = scenario
    reordered = Desired(dict(reversed(list(desired.members.items()))), desired.policy)
    assert compute_plan(desired, current) == compute_plan(reordered, shuffled(current, seed))


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_api_change_is_legal(scenario: tuple[Desired, Current]) -> None:
    desired, current = scenario
    policy = desired.policy
    for change in compute_plan(desired, current).api_changes:
        assert not policy.ignores(change.email)
        assert change.to_role is None or change.to_role in SETTABLE_ROLES
        assert change.from_role is None or change.from_role in SETTABLE_ROLES
        if change.kind in {"remove_member", "delete_invite"}:
            assert not policy.protects(change.email)
            assert policy.unmanaged == "remove"
        if policy.protects(change.email) and change.from_role and change.to_role:
            assert not is_demotion(change.from_role, change.to_role)
        needs_user = change.kind in {"update_role", "remove_member"}
        needs_invite = change.kind in {"reinvite", "delete_invite"}
        assert (change.user_id is not None) == needs_user
        assert (change.invite_id is not None) == needs_invite


def simulate(current: Current, plan: Plan) -> Current:
    """What the Admin API would hold after every API change in ``plan``."""
    members = {m.email: m for m in current.members}
    invites = {i.email: i for i in current.invites}
    for change in plan.api_changes:
        if change.kind in {"invite", "reinvite"}:
            assert change.to_role is not None
            invites[change.email] = invite(change.email, change.to_role)
        elif change.kind == "update_role":
            assert change.to_role is not None
            members[change.email] = dataclasses.replace(members[change.email], role=change.to_role)
        elif change.kind == "remove_member":
            del members[change.email]
        elif change.kind == "delete_invite":
            del invites[change.email]
    return Current(current.organization, tuple(members.values()), tuple(invites.values()))


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_applying_the_plan_converges(scenario: tuple[Desired, Current]) -> None:
    desired, current = scenario
    plan = compute_plan(desired, current)
    after = simulate(current, plan)
    again = compute_plan(desired, after)
    assert again.api_changes == ()
    assert again.manual_changes == plan.manual_changes
