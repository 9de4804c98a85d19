"""Planning workspace rate limits: table-driven cases of the pure core, names resolved to groups,
problems located in the files, and the notices a reviewer sees."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import pytest
from click.testing import Result

from roster.changes import Change, LimitStep, RateLimitNotice
from roster.config import load_config
from roster.desired import Desired, DesiredWorkspace, Policy, RateLimitPolicy
from roster.errors import ConfigError
from roster.model import (
    Current,
    Organization,
    RateLimitGroup,
    Workspace,
    WorkspaceRateLimit,
)
from roster.plan import compute_plan
from roster.plan_rate_limits import GroupNames
from tests.support import run_cli

ACME = Organization("8d3e4f52-0c7a-4b1e-9a6d-5f2c1b0e9d87", "Acme")
SONNET = RateLimitGroup(
    "ratelimit_sonnet",
    "model_group",
    "rlg_01sonnet",
    "Claude Sonnet 4.x",
    ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-0"),
    {"requests_per_minute": 4_000, "output_tokens_per_minute": 800_000},
)
OPUS = RateLimitGroup(
    "ratelimit_opus",
    "model_group",
    "rlg_01opus",
    "Claude Opus 4.x",
    ("claude-opus-4-5-20251101", "claude-opus-4-5"),
    {"output_tokens_per_minute": 400_000},
)
BATCH = RateLimitGroup(
    "ratelimit_batch", "batch", "rlg_01batch", "", (), {"requests_per_minute": 4_000}
)
PRODUCTION = Workspace("wrkspc_prod", "Production", created_at="2024-01-01T00:00:00Z")
STAGING = Workspace("wrkspc_staging", "Staging", created_at="2024-01-02T00:00:00Z")
OTPM, RPM = "output_tokens_per_minute", "requests_per_minute"

Limits = Mapping[str, Mapping[str, int]]


def current(
    overrides: Mapping[tuple[str, str], Mapping[str, int]] = MappingProxyType({}),
    workspaces: tuple[Workspace, ...] = (PRODUCTION, STAGING),
) -> Current:
    """Acme with three groups; ``overrides`` maps (workspace id, entry id) to its values."""
    return Current(
        ACME,
        (),
        (),
        workspaces=workspaces,
        rate_limits=(SONNET, OPUS, BATCH),
        workspace_rate_limits=tuple(
            WorkspaceRateLimit(w, e, dict(v)) for (w, e), v in overrides.items()
        ),
    )


def desired(policy: RateLimitPolicy = "report", **limits: Limits | None) -> Desired:
    spaces = {name: DesiredWorkspace(name, rate_limits=given) for name, given in limits.items()}
    return Desired({}, Policy(rate_limits=policy), workspaces=spaces)


def changes(plan_desired: Desired, state: Current) -> list[tuple[str, str, tuple[LimitStep, ...]]]:
    plan = compute_plan(plan_desired, state)
    found = [c for c in plan.changes if c.kind == "set_rate_limits"]
    return [(c.workspace, c.group, c.limits) for c in found]


def test_a_named_limiter_is_set_beside_the_organization_limit() -> None:
    wanted = desired(Production={"claude-sonnet-4-5": {OTPM: 400_000}})
    state = current({(PRODUCTION.id, SONNET.id): {OTPM: 300_000}})
    [change] = compute_plan(wanted, state).changes
    assert change == Change(
        "set_rate_limits",
        "",
        workspace="Production",
        workspace_id=PRODUCTION.id,
        group="claude-sonnet-4-5",
        rate_limit_id=SONNET.id,
        limits=(LimitStep(OTPM, 300_000, 400_000, 800_000),),
    )


@pytest.mark.parametrize(
    ("name", "entry"),
    [
        ("claude-sonnet-4-5", SONNET),
        ("claude-sonnet-4-5-20250929", SONNET),  # a dated model names its family too
        ("claude-sonnet-4-0", SONNET),
        ("rlg_01sonnet", SONNET),
        ("claude-opus-4-5", OPUS),
        ("batch", BATCH),
        ("rlg_01batch", BATCH),
    ],
)
def test_every_name_of_a_group_resolves_to_its_entry(name: str, entry: RateLimitGroup) -> None:
    [change] = compute_plan(desired(Production={name: {RPM: 10}}), current()).changes
    assert (change.group, change.rate_limit_id) == (name, entry.id)


def test_what_already_holds_is_not_planned() -> None:
    wanted = desired(Production={"batch": {RPM: 100}, "claude-opus-4-5": {OTPM: 9}})
    state = current({(PRODUCTION.id, BATCH.id): {RPM: 100}, (PRODUCTION.id, OPUS.id): {OTPM: 9}})
    plan = compute_plan(wanted, state)
    assert (plan.is_empty, plan.rate_limits) == (True, ())


@pytest.mark.parametrize(
    ("policy", "planned", "noticed"),
    [
        # Another type of a named group, and a group the files do not name.
        (
            "report",
            [("Production", "claude-sonnet-4-5", (LimitStep(OTPM, None, 1_000, 800_000),))],
            [
                ("not_in_files", "Production", "batch", RPM, 100),
                ("not_in_files", "Production", "claude-sonnet-4-5", RPM, 2_000),
            ],
        ),
        (
            "remove",
            [
                ("Production", "batch", (LimitStep(RPM, 100, None, 4_000),)),
                (
                    "Production",
                    "claude-sonnet-4-5",
                    (LimitStep(RPM, 2_000, None, 4_000), LimitStep(OTPM, None, 1_000, 800_000)),
                ),
            ],
            [],
        ),
        (
            "ignore",
            [("Production", "claude-sonnet-4-5", (LimitStep(OTPM, None, 1_000, 800_000),))],
            [],
        ),
    ],
)
def test_overrides_the_files_do_not_give_follow_the_policy(
    policy: RateLimitPolicy,
    planned: list[tuple[str, str, tuple[LimitStep, ...]]],
    noticed: list[tuple[str, str, str, str, int]],
) -> None:
    wanted = desired(policy, Production={"claude-sonnet-4-5": {OTPM: 1_000}})
    state = current(
        {
            (PRODUCTION.id, SONNET.id): {RPM: 2_000},
            (PRODUCTION.id, BATCH.id): {RPM: 100},
            (STAGING.id, BATCH.id): {RPM: 50},  # Staging gives no rate_limits: never touched
        }
    )
    plan = compute_plan(wanted, state)
    assert changes(wanted, state) == planned
    shown = [(n.reason, n.workspace, n.group, n.limiter, n.value) for n in plan.rate_limits]
    assert shown == noticed


def test_empty_rate_limits_with_remove_clears_every_override() -> None:
    wanted = desired("remove", Production={})
    state = current({(PRODUCTION.id, BATCH.id): {RPM: 100}, (PRODUCTION.id, OPUS.id): {OTPM: 5}})
    assert changes(wanted, state) == [
        ("Production", "batch", (LimitStep(RPM, 100, None, 4_000),)),
        ("Production", "claude-opus-4-5", (LimitStep(OTPM, 5, None, 400_000),)),
    ]


def test_a_workspace_the_plan_creates_gets_its_limits_in_the_same_plan() -> None:
    wanted = desired(Interns={"claude-sonnet-4-5": {RPM: 20}})
    plan = compute_plan(wanted, current())
    assert [(c.kind, c.workspace, c.workspace_id) for c in plan.changes] == [
        ("create_workspace", "Interns", None),
        ("set_rate_limits", "Interns", None),
    ]
    assert plan.changes[0].phase < plan.changes[1].phase


def test_two_active_workspaces_of_one_name_get_no_rate_limit_change() -> None:
    twin = Workspace("wrkspc_twin", "Production", created_at="2025-01-01T00:00:00Z")
    state = current(workspaces=(PRODUCTION, twin))
    plan = compute_plan(desired(Production={"batch": {RPM: 1}}), state)
    assert [c.kind for c in plan.changes] == ["manual"]


def test_a_value_above_the_organization_limit_is_planned_with_a_notice() -> None:
    wanted = desired(Production={"claude-opus-4-5": {OTPM: 500_000}})
    plan = compute_plan(wanted, current())
    assert [c.limits for c in plan.changes] == [(LimitStep(OTPM, None, 500_000, 400_000),)]
    assert plan.rate_limits == (
        RateLimitNotice(
            "above_organization_limit", "Production", "claude-opus-4-5", OTPM, 500_000, 400_000
        ),
    )


@pytest.mark.parametrize(
    ("staging_value", "noticed"),
    [(300_000, False), (500_001, True)],
)
def test_overrides_adding_up_past_the_organization_limit_are_noticed(
    staging_value: int, noticed: bool
) -> None:
    wanted = desired(Production={"claude-sonnet-4-5": {OTPM: 300_000}})
    state = current({(STAGING.id, SONNET.id): {OTPM: staging_value}})
    totals = [n for n in compute_plan(wanted, state).rate_limits if n.reason != "not_in_files"]
    expected = RateLimitNotice(
        "over_organization_total",
        "Production, Staging",
        "Claude Sonnet 4.x",
        OTPM,
        300_000 + staging_value,
        800_000,
    )
    assert totals == ([expected] if noticed else [])


def test_totals_are_only_noticed_for_what_the_plan_sets() -> None:
    # Already over the limit, but the plan changes nothing in that group: nothing to review.
    wanted = desired(Production={"batch": {RPM: 1}})
    state = current(
        {(PRODUCTION.id, SONNET.id): {OTPM: 500_000}, (STAGING.id, SONNET.id): {OTPM: 500_000}}
    )
    assert [n.reason for n in compute_plan(wanted, state).rate_limits] == ["not_in_files"]


def test_a_workspace_without_rate_limits_reads_nothing_and_plans_nothing() -> None:
    wanted = desired(Production=None)
    state = current({(PRODUCTION.id, BATCH.id): {RPM: 100}})
    assert not wanted.names_rate_limits
    plan = compute_plan(wanted, state)
    assert (plan.changes, plan.rate_limits) == ((), ())


# --- names roster writes --------------------------------------------------------------------


def test_the_name_roster_gives_a_group_resolves_back_to_it() -> None:
    names = GroupNames((SONNET, OPUS, BATCH))
    assert [names.name_of(g) for g in (SONNET, OPUS, BATCH)] == [
        "claude-sonnet-4-5",
        "claude-opus-4-5",  # the alias, not the dated model listed first
        "batch",
    ]
    assert all(names.resolve(names.name_of(g))[0] == g for g in (SONNET, OPUS, BATCH))


def test_a_type_two_groups_share_is_named_by_group_id() -> None:
    other = RateLimitGroup("ratelimit_batch2", "batch", "rlg_01batch2", "", (), {})
    names = GroupNames((BATCH, other))
    assert names.name_of(other) == "rlg_01batch2"
    group, why = names.resolve("batch")
    assert group is None
    assert why == "'batch' is in 2 groups; name one by its id: rlg_01batch, rlg_01batch2"


# --- names the files get wrong, located -------------------------------------------------------


def plan_file(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "roster.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        compute_plan(load_config([path]), current())
    return raised.value


def test_misnamed_groups_are_told_together_each_at_its_line(tmp_path: Path) -> None:
    error = plan_file(
        tmp_path,
        "members: {}\n"
        "workspaces:\n"
        "  Production:\n"
        "    rate_limits:\n"
        "      claude-sonnet-4-5: {requests_per_minute: 1}\n"
        "      claude-sonnet-4-0: {output_tokens_per_minute: 2}\n"
        "      claude-nope-9: {requests_per_minute: 3}\n"
        "  Staging:\n"
        "    rate_limits:\n"
        "      model_group: {requests_per_minute: 4}\n"
        "      rlg_01missing: {requests_per_minute: 5}\n"
        "      ratelimit_opus: {requests_per_minute: 6}\n",
    )
    where = str(tmp_path / "roster.yaml")
    assert [p.located() for p in error.problems] == [
        f"{where}:6:7: workspace 'Production': rate limits: 'claude-sonnet-4-0' names the same"
        " group as 'claude-sonnet-4-5' (Claude Sonnet 4.x); give each group once",
        f"{where}:7:7: workspace 'Production': rate limits: no rate-limit group of the"
        " organization covers the model 'claude-nope-9'; its groups are claude-sonnet-4-5,"
        " claude-opus-4-5, batch",
        f"{where}:10:7: workspace 'Staging': rate limits: 'model_group' is every model family;"
        " name one by a model, such as claude-sonnet-4-5",
        f"{where}:11:7: workspace 'Staging': rate limits: no rate-limit group has the id"
        " rlg_01missing",
        f"{where}:12:7: workspace 'Staging': rate limits: 'ratelimit_opus' is the organization's"
        " entry id, which differs between organizations; name the group claude-opus-4-5 or"
        " rlg_01opus",
    ]


def test_a_large_file_is_located_too(tmp_path: Path) -> None:
    # Large, sound files load on the fast path; the one naming rate limits keeps its places.
    members = "".join(f"  p{n}@acme.com: user\n" for n in range(2_000))
    error = plan_file(
        tmp_path,
        f"members:\n{members}workspaces:\n  Production:\n    rate_limits:\n"
        "      claude-nope-9: {requests_per_minute: 3}\n",
    )
    assert [(p.line, p.column) for p in error.problems] == [(2_005, 7)]


def roster(*args: object) -> Result:
    return run_cli(args, env={"ANTHROPIC_ADMIN_KEY": "", "ROSTER_API_URL": ""}, secrets=())


def test_plan_tells_a_misnamed_group_as_a_file_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "roster.yaml").write_text(
        "members: {}\nworkspaces:\n  Production:\n    rate_limits:\n"
        "      claude-nope-9: {requests_per_minute: 3}\n",
        encoding="utf-8",
    )
    result = roster("plan", "--sandbox", "roster.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "Error: roster.yaml:5:7: workspace 'Production': rate limits: no rate-limit group of the"
        " organization covers the model 'claude-nope-9'; its groups are "
    )
    assert result.stderr.endswith(", web_search\n")
    assert result.stderr.count("\n") == 1


def test_two_workspaces_of_one_name_both_count_toward_the_total() -> None:
    twin_a = Workspace("wrkspc_team_a", "Team", created_at="2024-02-01T00:00:00Z")
    twin_b = Workspace("wrkspc_team_b", "Team", created_at="2024-02-02T00:00:00Z")
    state = current(
        {(twin_a.id, OPUS.id): {OTPM: 300_000}, (twin_b.id, OPUS.id): {OTPM: 300_000}},
        workspaces=(PRODUCTION, twin_a, twin_b),
    )
    plan = compute_plan(desired(Production={"claude-opus-4-5": {OTPM: 50_000}}), state)
    [total] = [n for n in plan.rate_limits if n.reason == "over_organization_total"]
    assert (total.workspace, total.value) == ("Production, Team, Team", 650_000)


def test_a_workspace_the_plan_archives_no_longer_counts_toward_the_total() -> None:
    state = current({(STAGING.id, OPUS.id): {OTPM: 390_000}})
    spaces = {
        "Production": DesiredWorkspace(
            "Production", rate_limits={"claude-opus-4-5": {OTPM: 50_000}}
        ),
        "Staging": DesiredWorkspace("Staging", archived=True),
    }
    plan = compute_plan(Desired({}, workspaces=spaces), state)
    assert [n.reason for n in plan.rate_limits] == []


def test_a_value_above_the_organization_limit_is_told_while_the_files_give_it() -> None:
    wanted = desired(Production={"claude-opus-4-5": {OTPM: 500_000}})
    state = current({(PRODUCTION.id, OPUS.id): {OTPM: 500_000}})  # already set
    plan = compute_plan(wanted, state)
    assert plan.is_empty
    assert [n.reason for n in plan.rate_limits] == ["above_organization_limit"]


@pytest.mark.parametrize(("policy", "kinds"), [("report", []), ("remove", ["set_rate_limits"])])
def test_an_override_of_an_entry_the_organization_no_longer_lists_is_still_seen(
    policy: RateLimitPolicy, kinds: list[str]
) -> None:
    state = current({(PRODUCTION.id, "ratelimit_retired"): {RPM: 7}})
    plan = compute_plan(desired(policy, Production={}), state)
    assert [c.kind for c in plan.changes] == kinds
    assert [c.limits for c in plan.changes] == [(LimitStep(RPM, 7, None, None),)] * len(kinds)
    noticed = [(n.reason, n.group) for n in plan.rate_limits]
    assert noticed == ([("not_in_files", "ratelimit_retired")] if policy == "report" else [])


def test_a_group_given_by_id_shows_its_display_name_in_the_plan() -> None:
    [change] = compute_plan(desired(Production={"rlg_01batch": {RPM: 5}}), current()).changes
    assert change.note == "batch"
    [sonnet] = compute_plan(desired(Production={"rlg_01sonnet": {RPM: 5}}), current()).changes
    assert sonnet.note == "Claude Sonnet 4.x"


def test_a_model_a_file_cannot_name_gives_way_to_the_group_id() -> None:
    odd = RateLimitGroup(
        "ratelimit_odd", "model_group", "rlg_01odd", "Odd", ("anthropic.claude-v1:0",), {}
    )
    assert GroupNames((odd,)).name_of(odd) == "rlg_01odd"


def test_the_names_a_file_can_give_are_the_schema_s() -> None:
    from roster.config import roster_schema
    from roster.plan_rate_limits import GROUP_NAME, GROUP_NAME_MAX

    schema = roster_schema()["$defs"]["rate_limit_group"]
    assert (schema["pattern"], schema["maxLength"]) == (GROUP_NAME.pattern, GROUP_NAME_MAX)
