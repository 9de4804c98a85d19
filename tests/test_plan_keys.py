"""Planning API keys by the key policy: old and unused keys, reported or deactivated, each key
listed once, Claude Code's keys never deactivated, and the guard on how many go at once."""

from __future__ import annotations

import pytest

from roster.changes import Change, KeyNotice
from roster.desired import ApiKeyPolicy, Desired, KeyPolicy, Policy, RemovalLimit
from roster.errors import UnsafePlanError
from roster.model import ApiKey, Current, Member, Organization, Workspace
from roster.plan import Plan, check_key_guard, compute_plan

ACME = Organization("8d3e4f52-0c7a-4b1e-9a6d-5f2c1b0e9d87", "Acme")
NOW = "2026-11-02T09:00:00Z"
ADA = Member("user_ada", "ada@acme.com", "Ada", "developer", "2024-01-01T00:00:00Z")
BOB = Member("user_bob", "bob@acme.com", "Bob", "developer", "2024-01-01T00:00:00Z")
PROD = Workspace("wrkspc_prod", "Production")
CLAUDE_CODE = Workspace("wrkspc_cc", "Claude Code")


def key(name: str, created: str, creator: str | None = ADA.id, workspace: str = PROD.id) -> ApiKey:
    return ApiKey(f"apikey_{name}", name, "active", workspace, creator, created)


def plan(
    keys: tuple[ApiKey, ...],
    api_keys: ApiKeyPolicy,
    *,
    used: dict[str, str] | None = None,
    members: dict[str, str] | None = None,
    removed_keys: KeyPolicy = "report",
    read_at: str = NOW,
) -> Plan:
    current = Current(
        ACME,
        (ADA, BOB),
        (),
        workspaces=(PROD, CLAUDE_CODE),
        api_keys=keys,
        read_at=read_at,
        key_last_used=used or {},
    )
    policy = Policy(api_keys=api_keys, api_keys_of_removed_members=removed_keys, unmanaged="remove")
    wanted = members if members is not None else {ADA.email: "developer", BOB.email: "developer"}
    return compute_plan(Desired(wanted, policy), current)


def listed(result: Plan) -> list[tuple[str, str, str]]:
    """(what, key name, why) for every key the plan lists."""
    notices = [("report", n.name, n.reason) for n in result.api_keys]
    changes = [(c.kind, c.key_name, c.note) for c in result.changes if c.key_id]
    return notices + changes


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ("2026-08-04T10:00:00Z", []),  # 90 days old: at the limit, not past it
        ("2026-08-03T10:00:00Z", [("report", "ci", "created 2026-08-03, 91 days old, limit 90")]),
        ("2026-06-01T00:00:00Z", [("report", "ci", "created 2026-06-01, 154 days old, limit 90")]),
        ("", []),  # no creation time: nothing to measure
    ],
)
def test_a_key_past_the_age_limit_is_reported_with_why(
    created: str, expected: list[tuple[str, str, str]]
) -> None:
    assert listed(plan((key("ci", created),), ApiKeyPolicy(max_age_days=90))) == expected


def test_deactivate_turns_the_key_off_and_keeps_its_name_and_why_apart() -> None:
    result = plan((key("ci", "2026-06-01T00:00:00Z"),), ApiKeyPolicy(90, action="deactivate"))
    assert result.changes == (
        Change(
            "deactivate_api_key",
            ADA.email,
            user_id=ADA.id,
            workspace="Production",
            key_id="apikey_ci",
            key_name="ci",
            note="created 2026-06-01, 154 days old, limit 90",
        ),
    )


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        ({"apikey_ci": "2026-10-30"}, []),
        (
            {"apikey_ci": "2026-08-01"},
            [("report", "ci", "last used 2026-08-01, none in the last 60 days")],
        ),
        ({}, [("report", "ci", "no use in the last 60 days")]),
    ],
)
def test_a_key_unused_for_the_window_is_reported(
    used: dict[str, str], expected: list[tuple[str, str, str]]
) -> None:
    keys = (key("ci", "2026-01-01T00:00:00Z"),)
    assert listed(plan(keys, ApiKeyPolicy(unused_days=60), used=used)) == expected


def test_a_key_newer_than_the_window_is_not_called_unused() -> None:
    assert listed(plan((key("new", "2026-10-20T00:00:00Z"),), ApiKeyPolicy(unused_days=60))) == []


def test_both_reasons_are_told_together() -> None:
    keys = (key("ci", "2026-01-01T00:00:00Z"),)
    [(_, _, why)] = listed(plan(keys, ApiKeyPolicy(90, 60)))
    assert why == "created 2026-01-01, 305 days old, limit 90; no use in the last 60 days"


def test_claude_code_keys_are_reported_never_deactivated() -> None:
    keys = (key("claude-code-ada", "2026-01-01T00:00:00Z", workspace=CLAUDE_CODE.id),)
    result = plan(keys, ApiKeyPolicy(90, action="deactivate"))
    assert result.changes == ()
    [notice] = result.api_keys
    assert notice.reason.endswith("; minted by Claude Code, never deactivated by roster")


@pytest.mark.parametrize("removed_keys", ["report", "deactivate", "archive"])
def test_a_removed_member_s_key_is_listed_once_by_its_own_policy(removed_keys: KeyPolicy) -> None:
    keys = (key("bobs", "2026-01-01T00:00:00Z", creator=BOB.id),)
    result = plan(
        keys,
        ApiKeyPolicy(90, action="deactivate"),
        members={ADA.email: "developer"},  # Bob is removed
        removed_keys=removed_keys,
    )
    entries = listed(result)
    assert len(entries) == 1
    assert entries[0][2] == ""  # listed for the removal, not for its age


def test_the_owner_of_a_key_nobody_made_is_none() -> None:
    result = plan((key("svc", "2026-01-01T00:00:00Z", creator=None),), ApiKeyPolicy(90))
    assert [n.owner for n in result.api_keys] == ["none"]


def test_without_the_time_the_state_was_read_nothing_is_measured() -> None:
    assert listed(plan((key("ci", "2026-01-01T00:00:00Z"),), ApiKeyPolicy(90), read_at="")) == []


def test_the_default_policy_lists_no_key() -> None:
    assert listed(plan((key("ci", "2020-01-01T00:00:00Z"),), ApiKeyPolicy())) == []


# --- the guard -------------------------------------------------------------------------------


def old_keys(count: int) -> tuple[ApiKey, ...]:
    return tuple(key(f"k{n}", "2026-01-01T00:00:00Z") for n in range(count))


@pytest.mark.parametrize(
    ("count", "limit", "refused"),
    [(5, RemovalLimit(5), False), (6, RemovalLimit(5), True), (3, RemovalLimit(100, True), False)],
)
def test_deactivating_more_keys_than_the_policy_allows_is_refused(
    count: int, limit: RemovalLimit, refused: bool
) -> None:
    policy = ApiKeyPolicy(90, action="deactivate", max_deactivations=limit)
    result = plan(old_keys(count), policy)
    current = Current(ACME, (ADA,), (), api_keys=old_keys(count))
    if not refused:
        check_key_guard(result, current, Policy(api_keys=policy), force=False)
        return
    with pytest.raises(UnsafePlanError, match="plan turns off 6 of 6 active API keys"):
        check_key_guard(result, current, Policy(api_keys=policy), force=False)
    check_key_guard(result, current, Policy(api_keys=policy), force=True)


def test_removed_members_keys_do_not_count_against_the_key_guard() -> None:
    keys = tuple(key(f"b{n}", "2026-10-01T00:00:00Z", creator=BOB.id) for n in range(9))
    policy = ApiKeyPolicy(90, action="deactivate", max_deactivations=RemovalLimit(1))
    result = plan(keys, policy, members={ADA.email: "developer"}, removed_keys="deactivate")
    assert len(result.changes) == 10  # Bob's removal and his nine keys
    check_key_guard(result, Current(ACME, (), (), api_keys=keys), Policy(api_keys=policy), False)


def test_keys_of_people_removed_before_count_against_the_key_guard() -> None:
    # Nobody is removed by this plan, so no removal guard bounds these: the key guard does.
    gone = tuple(key(f"g{n}", "2026-10-01T00:00:00Z", creator="user_gone") for n in range(3))
    policy = ApiKeyPolicy(max_deactivations=RemovalLimit(2))
    result = plan(gone, policy, removed_keys="deactivate")
    assert [c.kind for c in result.changes] == ["deactivate_api_key"] * 3
    current = Current(ACME, (ADA, BOB), (), api_keys=gone)
    with pytest.raises(UnsafePlanError, match="plan turns off 3 of 3 active API keys"):
        check_key_guard(result, current, Policy(api_keys=policy), force=False)


def test_key_notices_keep_their_reason_through_the_plan_data() -> None:
    result = plan((key("ci", "2026-06-01T00:00:00Z"),), ApiKeyPolicy(90))
    assert result.data["api_keys"] == [
        {
            "key_id": "apikey_ci",
            "name": "ci",
            "owner": ADA.email,
            "workspace": "Production",
            "reason": "created 2026-06-01, 154 days old, limit 90",
        }
    ]
    assert KeyNotice(**result.data["api_keys"][0]) == result.api_keys[0]
