"""The markdown plan for pull-request comments: golden files (``ROSTER_REGEN_GOLDEN=1`` rewrites
them), escaping of organization data, and cutting a huge plan to GitHub's comment limit.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roster.changes import (
    CHANGE_KINDS,
    Change,
    ChangeKind,
    HeldBack,
    KeyNotice,
    LimitStep,
    RateLimitNotice,
    Unmanaged,
    Waiting,
)
from roster.model import Organization
from roster.plan import Plan
from roster.render_markdown import MARKDOWN_MARKER, MIN_MAX_CHARS, render_markdown
from tests.test_render import ACME, assert_golden

OWN_TAGS = re.compile(r"<!-- roster-plan -->|<details( open)?>|</details>|<summary>|</summary>")
FENCE_OPENERS = ("```diff", "```text")
TABLE_HEADER = "| Invite | Add | Change | Remove | Manual | Waiting | Held back | Unmanaged |"
CONSOLE_ADMIN = "In the Console, change kim@acme.com's role from user to admin;"


def busy_plan() -> Plan:
    """Every kind of change, manual actions, and every kind of account a plan only shows."""
    return Plan(
        ACME,
        changes=(
            Change("invite", "hal@acme.com", None, "claude_code_user"),
            Change(
                "invite",
                "gus@acme.com",
                None,
                "user",
                note="the previous invite expired on 2024-10-22",
            ),
            Change("reinvite", "fay@acme.com", "user", "developer", invite_id="invite_fay"),
            Change("update_role", "bob@acme.com", "user", "developer", user_id="user_bob"),
            Change("create_workspace", "", workspace="Support"),
            Change(
                "add_workspace_member",
                "bob@acme.com",
                None,
                "workspace_developer",
                user_id="user_bob",
                workspace="Production",
                workspace_id="wrkspc_prod",
            ),
            Change(
                "update_workspace_member",
                "dan@acme.com",
                "workspace_user",
                "workspace_admin",
                user_id="user_dan",
                workspace="Production",
                workspace_id="wrkspc_prod",
            ),
            Change(
                "remove_workspace_member",
                "zoe@acme.com",
                "workspace_developer",
                None,
                user_id="user_zoe",
                workspace="Research",
                workspace_id="wrkspc_research",
            ),
            Change(
                "archive_workspace",
                "",
                workspace="Legacy",
                workspace_id="wrkspc_legacy",
                note="final; 2 active API keys in it stop working",
            ),
            Change(
                "set_rate_limits",
                "",
                workspace="Production",
                workspace_id="wrkspc_prod",
                group="claude-sonnet-4-5",
                rate_limit_id="ratelimit_sonnet",
                limits=(
                    LimitStep("requests_per_minute", None, 2_000, 4_000),
                    LimitStep("output_tokens_per_minute", 300_000, 400_000, 800_000),
                ),
            ),
            Change("delete_invite", "old@acme.com", "billing", None, invite_id="invite_old"),
            Change("remove_member", "zoe@acme.com", "developer", None, user_id="user_zoe"),
            Change(
                "deactivate_api_key",
                "zoe@acme.com",
                user_id="user_zoe",
                workspace="Research",
                key_id="apikey_01zoe",
                key_name="zoe-laptop",
            ),
            Change(
                "archive_api_key",
                "a former member (user_gone)",
                user_id="user_gone",
                workspace="Default",
                key_id="apikey_01gone",
                key_name="old-batch-job",
            ),
            Change(
                "manual",
                "kim@acme.com",
                "user",
                "admin",
                user_id="user_kim",
                note=f"{CONSOLE_ADMIN} only the Console grants admin.",
            ),
            Change(
                "manual",
                "ops@acme.com",
                "admin",
                None,
                user_id="user_ops",
                note="In the Console, remove ops@acme.com (admin) from the organization, or list"
                " them in the roster files; the API cannot remove a member with the admin role.",
            ),
        ),
        unmanaged=(
            Unmanaged("member", "sam@acme.com", "user", "user_sam"),
            Unmanaged("workspace", "", "", "wrkspc_sandbox", "Sandbox"),
        ),
        held_back=(
            HeldBack("member", "ceo@acme.com", "developer", "user"),
            HeldBack("workspace_member", "eli@acme.com", "workspace_admin", None, "Research"),
        ),
        waiting=(Waiting("ivy@acme.com", "Production", "workspace_user"),),
        api_keys=(KeyNotice("apikey_01old", "ci-deploy", "pat@acme.com", "Production"),),
        rate_limits=(
            RateLimitNotice(
                "not_in_files", "Production", "batch", "requests_per_minute", 100, 4_000
            ),
        ),
    )


@cache
def huge_plan() -> Plan:
    """An organization of thousands: 5,000 invites, 3,000 removals, and two manual actions."""
    invites = [Change("invite", f"new{i:05}@bigco.example", None, "user") for i in range(5_000)]
    removals = [
        Change("remove_member", f"gone{i:05}@bigco.example", "developer", None, user_id=f"u{i}")
        for i in range(3_000)
    ]
    manual = [
        Change(
            "manual", "kim@acme.com", "user", "admin", note=f"{CONSOLE_ADMIN} only the Console."
        ),
        Change("manual", "max@acme.com", "managed", "user", note="In the Console, change max."),
    ]
    return Plan(ACME, changes=(*invites, *removals, *manual))


# Inline code: what it holds is shown as it is, never read as markdown or HTML.
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def assert_well_formed(markdown: str) -> None:
    """Every code block and <details> is closed, and no HTML but roster's own comes through."""
    fence, details = "", 0
    for line in markdown.splitlines():
        if fence:
            fence = "" if line == "```" else fence
            assert line == "```" or not line.startswith("```"), line
            continue
        assert not line.startswith("```") or line in FENCE_OPENERS, line
        fence = line if line.startswith("```") else ""
        details += line.startswith("<details") - (line == "</details>")
        assert details in (0, 1), "a <details> is left open or nested"
        outside_code = CODE_SPAN.sub("", OWN_TAGS.sub("", line))
        assert "<" not in re.sub(r"\\<", "", outside_code), line
    assert (fence, details) == ("", 0)


def shown_lines(markdown: str) -> int:
    return sum(1 for line in markdown.splitlines() if line[:2] in ("+ ", "- ", "! "))


@pytest.mark.parametrize(
    ("name", "plan"),
    [("busy", busy_plan()), ("empty", Plan(ACME)), ("truncated", huge_plan())],
)
def test_golden(name: str, plan: Plan) -> None:
    rendered = render_markdown(plan)
    assert_golden(f"markdown/{name}.md", rendered)
    assert_well_formed(rendered)


def test_the_marker_comes_first() -> None:
    for plan in (busy_plan(), Plan(ACME), huge_plan()):
        assert render_markdown(plan).splitlines()[0] == MARKDOWN_MARKER


def test_an_empty_plan_says_so_in_one_line() -> None:
    lines = render_markdown(Plan(ACME)).splitlines()
    assert lines[-1] == "No changes. The organization matches the roster files."
    assert len([line for line in lines if line]) == 3


def test_a_plan_with_only_accounts_to_show_keeps_them() -> None:
    plan = Plan(ACME, unmanaged=(Unmanaged("member", "sam@acme.com", "user", "user_sam"),))
    rendered = render_markdown(plan)
    assert "No changes." in rendered
    assert "<details><summary>Unmanaged (1)</summary>" in rendered


def test_every_change_kind_has_a_section() -> None:
    rendered = render_markdown(busy_plan())
    summaries = re.findall(r"<summary>(.*) \(\d+\)</summary>", rendered)
    assert len(summaries) == len(CHANGE_KINDS) - 1 + 5  # manual is the warning; 5 notices


def test_manual_actions_sit_in_a_warning_outside_the_sections() -> None:
    before_sections = render_markdown(busy_plan()).split("<details")[0]
    assert "> [!WARNING]\n> **2 manual actions** for the Console" in before_sections
    assert f"> - {CONSOLE_ADMIN}" in before_sections


def test_short_sections_stay_open_and_long_ones_fold() -> None:
    rendered = render_markdown(huge_plan())
    assert "<details open>" not in rendered
    assert "<details open><summary>Invite (2)</summary>" in render_markdown(busy_plan())


def test_a_huge_plan_fits_and_keeps_what_matters() -> None:
    rendered = render_markdown(huge_plan())
    assert len(rendered) <= 65_000
    assert TABLE_HEADER + "\n|---:" in rendered
    assert "| 5,000 | 0 | 0 | 3,000 | 2 | 0 | 0 | 0 |" in rendered
    assert f"> - {CONSOLE_ADMIN}" in rendered
    assert "> - In the Console, change max." in rendered


def test_a_cut_plan_says_exactly_how_much_it_left_out() -> None:
    rendered = render_markdown(huge_plan(), max_chars=20_000)
    left_out = 8_000 - shown_lines(rendered)
    hint = "run `roster plan` locally or see the CI log for the full plan."
    assert rendered.endswith(f"\n\n… and {left_out:,} more changes not shown; {hint}\n")
    shown = re.findall(r"\((\d[\d,]*) of ([\d,]+) shown\)", rendered)
    assert {total for _, total in shown} == {"5,000", "3,000"}
    assert sum(int(n.replace(",", "")) for n, _ in shown) == 8_000 - left_out


def test_cutting_keeps_whole_lines() -> None:
    rendered = render_markdown(huge_plan(), max_chars=10_000)
    changes = [line for line in rendered.splitlines() if line.startswith(("+ ", "- "))]
    assert all(re.fullmatch(r"\+ invite new\d{5}@bigco\.example as user", c) for c in changes[:5])
    assert all(line.endswith(("as user", "(developer)")) for line in changes)


def test_too_many_manual_actions_are_cut_too() -> None:
    note = "In the Console, change someone@acme.com's role from user to admin; only the Console."
    manual = tuple(Change("manual", f"m{i}@acme.com", note=note) for i in range(500))
    rendered = render_markdown(Plan(ACME, changes=manual), max_chars=5_000)
    assert len(rendered) <= 5_000
    kept = rendered.count(f"> - {note}")
    assert f"> - … and {500 - kept:,} more not shown;" in rendered
    assert TABLE_HEADER in rendered


def test_the_smallest_limit_holds_against_long_names() -> None:
    organization = Organization("`|<" * 200, "<b>|`*_" * 200)
    plan = Plan(organization, changes=huge_plan().changes)
    rendered = render_markdown(plan, max_chars=MIN_MAX_CHARS)
    assert len(rendered) <= MIN_MAX_CHARS
    assert_well_formed(rendered)


def test_a_limit_below_the_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="max_chars must be at least"):
        render_markdown(Plan(ACME), max_chars=MIN_MAX_CHARS - 1)


def test_organization_data_cannot_inject_markdown_or_html() -> None:
    organization = Organization("org|1", "Evil <script>alert(1)</script> `co` | *x*")
    hostile = "x`y<img src=x>@acme.com\n```\n</details>"
    plan = Plan(
        organization,
        changes=(
            Change("invite", hostile, None, "user"),
            Change("manual", hostile, note=f"In the Console, invite {hostile} as admin."),
        ),
        waiting=(Waiting(hostile, "Team\n# heading", "workspace_user"),),
    )
    rendered = render_markdown(plan)
    assert_well_formed(rendered)
    heading = rendered.splitlines()[1]
    assert heading == (
        r"## roster plan for Evil \<script\>alert(1)\</script\> \`co\` \| \*x\* (org\|1)"
    )
    assert "+ invite x`y<img src=x>@acme.com\\n```\\n</details> as user" in rendered
    # The hostile email would mention @acme.com, so the note is inline code: nothing in it is live.
    assert (
        "> - ````In the Console, invite x`y<img src=x>@acme.com\\n```\\n</details> as admin.````"
        in rendered
    )


# --- properties -----------------------------------------------------------------------------

NAMES = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
SIZES = st.dictionaries(st.sampled_from(CHANGE_KINDS), st.integers(0, 1_200), max_size=6)


def plan_of(sizes: dict[ChangeKind, int], name: str, notices: int) -> Plan:
    changes = [
        Change(kind, f"{name}{i}@x.example", "user", "developer", workspace=name, note=name)
        for kind, count in sizes.items()
        for i in range(count)
    ]
    waiting = [Waiting(f"{name}{i}@x.example", name, "workspace_user") for i in range(notices)]
    return Plan(Organization(name, name), changes=tuple(changes), waiting=tuple(waiting))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=SIZES,
    name=NAMES,
    notices=st.integers(0, 300),
    max_chars=st.integers(2_000, 65_000),
)
def test_any_plan_fits_any_limit_and_stays_well_formed(
    sizes: dict[ChangeKind, int], name: str, notices: int, max_chars: int
) -> None:
    rendered = render_markdown(plan_of(sizes, name, notices), max_chars=max_chars)
    assert len(rendered) <= max_chars
    assert rendered.startswith(MARKDOWN_MARKER + "\n")
    assert_well_formed(rendered)
    if any(sizes.values()) or notices:
        assert TABLE_HEADER in rendered
