"""Saved plans: written, read back, refused when stale, tampered, foreign or from a newer format."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from roster.desired import Desired, DesiredWorkspace, Policy, RemovalLimit
from roster.errors import StalePlanError, UnsafePlanError
from roster.model import Current
from roster.plan import Plan
from roster.saved_plan import (
    PlanFileError,
    describe_drift,
    desired_data,
    desired_from_data,
    fingerprint,
    plan_from_data,
    read_saved_plan,
    still_valid,
    write_saved_plan,
)
from roster.state import fetch_state
from tests.support import Org, make_store

DESIRED = Desired(
    {"ann@example.io": "developer", "new@example.io": "user", "boss@example.io": "admin"},
    Policy(unmanaged="remove", max_removals=RemovalLimit(10, percent=True)),
    workspaces={"W1": DesiredWorkspace("W1", {"ann@example.io": "workspace_developer"})},
)
MEMBERS = {"ann@example.io": "user", "old@example.io": "user", "boss@example.io": "admin"}


def saved_against(org: Org, tmp_path: Path) -> tuple[Path, Plan]:
    roster_file = tmp_path / "roster.yaml"
    roster_file.write_text("members: {}\n")

    async def make() -> tuple[Plan, Current]:
        plan = await org.plan(DESIRED)
        return plan, await fetch_state(org.client(), workspace_members_of=["W1"])

    plan, current = asyncio.run(make())
    path = tmp_path / "plan.json"
    write_saved_plan(path, plan, DESIRED, current, files=[roster_file], now="2026-11-24T10:00:00Z")
    return path, plan


def current_of(org: Org) -> Current:
    return asyncio.run(fetch_state(org.client(), workspace_members_of=["W1"]))


def test_a_saved_plan_reads_back_as_the_same_values(tmp_path: Path) -> None:
    org = Org(make_store(MEMBERS, {}, {"W1": {}}))
    path, plan = saved_against(org, tmp_path)
    saved = read_saved_plan(path)
    assert saved.plan == plan
    assert saved.desired == DESIRED
    assert saved.config_digest.startswith("sha256:")
    assert plan_from_data(plan.data) == plan
    assert desired_from_data(desired_data(DESIRED)) == DESIRED


def test_an_unchanged_organization_gets_exactly_the_saved_plan(tmp_path: Path) -> None:
    org = Org(make_store(MEMBERS, {}, {"W1": {}}))
    path, plan = saved_against(org, tmp_path)
    assert still_valid(read_saved_plan(path), current_of(org)) == plan


def test_drift_that_changes_the_plan_is_refused_and_named(tmp_path: Path) -> None:
    org = Org(make_store(MEMBERS, {}, {"W1": {}}))
    path, _ = saved_against(org, tmp_path)
    ann = org.store.user_by_email("ann@example.io")
    assert ann is not None
    asyncio.run(org.client().update_user(ann.id, "billing"))
    with pytest.raises(
        StalePlanError, match="nothing was applied: run roster plan again"
    ) as caught:
        still_valid(read_saved_plan(path), current_of(org))
    assert "member ann@example.io role: user -> billing" in caught.value.drift


def test_drift_that_leaves_the_actions_alone_is_not_stale(tmp_path: Path) -> None:
    org = Org(make_store(MEMBERS, {}, {"W1": {}, "W2": {}}))
    path, plan = saved_against(org, tmp_path)
    asyncio.run(org.client().create_workspace("Unrelated"))
    assert still_valid(read_saved_plan(path), current_of(org)) == plan


def test_a_plan_for_another_organization_is_refused(tmp_path: Path) -> None:
    path, _ = saved_against(Org(make_store(MEMBERS, {}, {"W1": {}})), tmp_path)
    other = Org(make_store(MEMBERS, {}, {"W1": {}}))
    with pytest.raises(UnsafePlanError, match="the plan is for organization Prop Org"):
        still_valid(read_saved_plan(path), current_of(other))


def rewrite(path: Path, edit: dict[str, object]) -> None:
    document = json.loads(path.read_text())
    document.update(edit)
    path.write_text(json.dumps(document))


def test_a_modified_plan_file_is_refused(tmp_path: Path) -> None:
    path, _ = saved_against(Org(make_store(MEMBERS, {}, {"W1": {}})), tmp_path)
    document = json.loads(path.read_text())
    document["plan"]["changes"][0]["to_role"] = "billing"
    path.write_text(json.dumps(document))
    with pytest.raises(PlanFileError, match="modified after roster wrote it"):
        read_saved_plan(path)


def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    path, _ = saved_against(Org(make_store(MEMBERS, {}, {"W1": {}})), tmp_path)
    rewrite(path, {"format_version": 2})
    with pytest.raises(PlanFileError, match="plan format 2 is not one this roster"):
        read_saved_plan(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a roster plan file"),
        ('{"members": {}}', "no plan in it"),
        ("[]", "no plan"),
    ],
)
def test_files_that_are_not_plans_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(content)
    with pytest.raises(PlanFileError, match=message):
        read_saved_plan(path)


def resealed(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit a plan file and recompute its digest, as someone who knows the format could."""
    document = json.loads(path.read_text())
    document.pop("digest")
    edit(document)
    document["digest"] = fingerprint(document)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["plan"].pop("changes"),
        lambda d: d["plan"]["changes"][0].update(extra=1),
        lambda d: d["plan"]["changes"][0].update(kind="nuke"),
        lambda d: d.update(desired=[]),
        lambda d: d["desired"]["policy"].update(max_removals="abc"),
    ],
    ids=["no-changes", "unknown-field", "unknown-kind", "desired-list", "bad-limit"],
)
def test_a_resealed_plan_of_the_wrong_shape_is_one_clear_error(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None]
) -> None:
    path, _ = saved_against(Org(make_store(MEMBERS, {}, {"W1": {}})), tmp_path)
    resealed(path, edit)
    with pytest.raises(PlanFileError, match="not a usable roster plan file"):
        read_saved_plan(path)


def test_a_resealed_plan_with_other_changes_is_stale_even_if_nothing_drifted(
    tmp_path: Path,
) -> None:
    org = Org(make_store(MEMBERS, {}, {"W1": {}}))
    path, _ = saved_against(org, tmp_path)
    resealed(path, lambda d: d["plan"]["changes"][0].update(to_role="billing"))
    with pytest.raises(StalePlanError):
        still_valid(read_saved_plan(path), current_of(org))


def test_drift_is_told_key_by_key_never_as_one_whole_mapping() -> None:
    before = {"workspace_members": {f"W / u{n}@x.io": "workspace_user" for n in range(50)}}
    after: dict[str, Any] = {"workspace_members": {}}
    lines = describe_drift(before, after)
    assert lines[0] == "workspace membership W / u0@x.io is gone"
    assert lines[-1] == "... and 30 more differences"
    assert max(map(len, lines)) <= 200


def test_a_removal_limit_is_saved_exactly_never_rounded() -> None:
    limit = RemovalLimit.parse("12.4999999%")
    assert str(limit) == "12.4999999%"
    assert RemovalLimit.parse(str(limit)) == limit
    assert limit.allowed(8) == 0  # 12.5 % of 8 would allow one


def test_a_key_the_policy_turns_off_keeps_a_saved_plan_valid_the_next_day() -> None:
    # Its reason counts days, which grow by one at midnight: the decision is what must hold.
    from roster.desired import ApiKeyPolicy
    from roster.model import ApiKey, Current, Organization
    from roster.plan import compute_plan
    from roster.saved_plan import SavedPlan, snapshot, still_valid

    org = Organization("org-1", "Acme")
    old = ApiKey("apikey_old", "ci", "active", None, None, "2026-01-01T00:00:00Z")
    desired = Desired({}, Policy(api_keys=ApiKeyPolicy(90, action="deactivate")))
    today = Current(org, (), (), api_keys=(old,), read_at="2026-11-02T09:00:00Z")
    tomorrow = Current(org, (), (), api_keys=(old,), read_at="2026-11-03T09:00:00Z")
    plan = compute_plan(desired, today)
    saved = SavedPlan(plan, desired, snapshot(today), "sha256:x", "2026-11-02T09:00:00Z")
    fresh = still_valid(saved, tomorrow)
    assert [c.note for c in fresh.changes] == ["created 2026-01-01, 306 days old, limit 90"]
