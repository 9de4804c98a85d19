"""Rendering plans: golden text, coloured text and JSON; ``ROSTER_REGEN_GOLDEN=1`` rewrites them."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from roster.desired import Desired, DesiredWorkspace, Policy, RateLimitPolicy
from roster.model import (
    Current,
    Invite,
    Member,
    Organization,
    RateLimitGroup,
    Workspace,
    WorkspaceRateLimit,
)
from roster.plan import Plan, compute_plan
from roster.render import render_json, render_text

GOLDEN = Path(__file__).parent / "data" / "golden"
ACME = Organization("8d3e4f52-0c7a-4b1e-9a6d-5f2c1b0e9d87", "Acme")
JOINED, SENT, EXPIRES = "2024-10-30T23:58:27Z", "2024-10-01T09:00:00Z", "2024-10-22T09:00:00Z"


def member(local: str, role: str) -> Member:
    return Member(f"user_{local}", f"{local}@acme.com", local.title(), role, JOINED)


def invite(local: str, role: str, status: str = "pending") -> Invite:
    return Invite(f"invite_{local}", f"{local}@acme.com", role, status, SENT, EXPIRES)


def busy_plan() -> Plan:
    """One of everything a plan can hold."""
    current = Current(
        ACME,
        members=(
            member("ada", "admin"),
            member("bob", "user"),
            member("ceo", "developer"),
            member("dan", "developer"),
            member("eli", "developer"),
            member("kim", "user"),
            member("max", "managed"),
            member("ops", "admin"),
            member("deploy", "developer"),
        ),
        invites=(invite("fay", "user"), invite("gus", "user", "expired"), invite("old", "billing")),
    )
    desired = Desired(
        members={
            "ada@acme.com": "admin",
            "bob@acme.com": "developer",
            "ceo@acme.com": "user",
            "fay@acme.com": "developer",
            "gus@acme.com": "user",
            "hal@acme.com": "claude_code_user",
            "ivy@acme.com": "user",
            "kim@acme.com": "admin",
            "max@acme.com": "user",
        },
        policy=Policy(
            unmanaged="remove",
            ignore=("deploy@*",),
            protected=frozenset({"ceo@acme.com", "eli@acme.com"}),
        ),
    )
    return compute_plan(desired, current)


def reporting_plan() -> Plan:
    current = Current(
        ACME, (member("ada", "developer"), member("zed", "user")), (invite("yan", "user"),)
    )
    return compute_plan(Desired({"ada@acme.com": "developer"}), current)


def empty_plan() -> Plan:
    return Plan(ACME)


SONNET = RateLimitGroup(
    "ratelimit_sonnet",
    "model_group",
    "rlg_01sonnet",
    "Claude Sonnet 4.x",
    ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
    {"requests_per_minute": 4_000, "output_tokens_per_minute": 800_000},
)
HAIKU = RateLimitGroup(
    "ratelimit_haiku",
    "model_group",
    "rlg_01haiku",
    "Claude Haiku 4.x",
    ("claude-haiku-4-5",),
    {"output_tokens_per_minute": 800_000},
)
BATCH = RateLimitGroup(
    "ratelimit_batch", "batch", "rlg_01batch", "", (), {"requests_per_minute": 4_000}
)


def rate_limits_plan(policy: RateLimitPolicy = "report") -> Plan:
    """Production's overrides changed, set and above the limit; Interns created with its own."""
    production = Workspace("wrkspc_prod", "Production", created_at=JOINED)
    current = Current(
        ACME,
        (),
        (),
        workspaces=(production,),
        rate_limits=(SONNET, HAIKU, BATCH),
        workspace_rate_limits=(
            WorkspaceRateLimit(production.id, SONNET.id, {"output_tokens_per_minute": 300_000}),
            WorkspaceRateLimit(production.id, BATCH.id, {"requests_per_minute": 100}),
        ),
    )
    limits = {
        "Production": {
            "claude-sonnet-4-5": {
                "output_tokens_per_minute": 400_000,
                "requests_per_minute": 2_000,
            },
            "claude-haiku-4-5": {"output_tokens_per_minute": 900_000},
        },
        "Interns": {"claude-sonnet-4-5-20250929": {"output_tokens_per_minute": 500_000}},
    }
    desired = Desired(
        {},
        Policy(rate_limits=policy),
        workspaces={
            name: DesiredWorkspace(name, rate_limits=given) for name, given in limits.items()
        },
    )
    return compute_plan(desired, current)


PLANS: dict[str, Callable[[], Plan]] = {
    "busy": busy_plan,
    "reporting": reporting_plan,
    "empty": empty_plan,
    "rate_limits": rate_limits_plan,
    "rate_limits_removing": lambda: rate_limits_plan("remove"),
}


def assert_golden(name: str, rendered: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ROSTER_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8"), f"{path} differs; review, then regenerate"


@pytest.mark.parametrize("name", sorted(PLANS))
def test_text(name: str) -> None:
    assert_golden(f"{name}.txt", render_text(PLANS[name](), color=False))


@pytest.mark.parametrize("name", sorted(PLANS))
def test_colour_text(name: str) -> None:
    assert_golden(f"{name}.color.txt", render_text(PLANS[name](), color=True))


@pytest.mark.parametrize("name", sorted(PLANS))
def test_json(name: str) -> None:
    assert_golden(f"{name}.json", render_json(PLANS[name]()))


def test_text_without_colour_has_no_escape_codes() -> None:
    assert "\x1b" not in render_text(busy_plan(), color=False)


def test_colour_marks_each_sign() -> None:
    text = render_text(busy_plan(), color=True)
    signs = set(re.findall(r"^  (\x1b\[[0-9;]+m.\x1b\[0m) ", text, flags=re.MULTILINE))
    assert signs == {
        "\x1b[32m+\x1b[0m",
        "\x1b[33m~\x1b[0m",
        "\x1b[31m-\x1b[0m",
        "\x1b[1;35m!\x1b[0m",
    }


def test_the_empty_plan_says_so() -> None:
    assert render_text(Plan(ACME), color=False).splitlines()[-1] == (
        "No changes. The organization matches the roster files."
    )


def test_the_summary_counts_every_change() -> None:
    assert render_text(busy_plan(), color=False).splitlines()[-1] == (
        "Plan: 3 to invite, 0 to add, 2 to change, 2 to remove, 3 manual actions."
    )


def test_json_is_the_plan_data() -> None:
    plan = busy_plan()
    assert json.loads(render_json(plan)) == plan.data
