"""`roster sync-groups` end to end from a CSV export: stable output, the guard, and the
generated file read by validate and plan, with entries written by hand winning."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from roster.cli import main
from roster.config import load_config

EXPORTS = Path(__file__).parent / "data" / "directory" / "exports"
ROSTER = """\
members:
  boss@example.com: developer
{extra}groups:
  source:
    kind: csv
    path: groups.csv
  output: generated/groups.yaml
  max_removals: {limit}
  rules:
    - group: Engineering
      role: developer
      workspaces:
        Research: workspace_developer
    - group: Contractors
      workspaces:
        Research: workspace_user
"""


@pytest.fixture
def team(tmp_path: Path) -> Path:
    shutil.copy(EXPORTS / "groups.csv", tmp_path / "groups.csv")
    (tmp_path / "roster.yaml").write_text(ROSTER.format(extra="", limit=1))
    return tmp_path


def sync(team: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["sync-groups", str(team), *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_rerun_with_no_directory_change_is_byte_identical(team: Path) -> None:
    code, out, err = sync(team, env={"ROSTER_QUIET": ""})
    assert code == 0, err
    output = team / "generated" / "groups.yaml"
    assert out == (
        f"Wrote {output}: 3 members (3 added, 0 removed, 0 with another role)."
        " Review it as a pull request.\n"
    )
    assert err == "csv export groups.csv: 6 rows, 4 people, 3 groups\n"
    first = output.read_bytes()
    assert sync(team, "--quiet") == (0, f"{output} is up to date: 3 members.\n", "")
    assert output.read_bytes() == first
    assert sync(team, "--check", "-q")[0] == 0


def test_check_exits_2_and_writes_nothing(team: Path) -> None:
    code, out, _ = sync(team, "--check", "-q")
    assert code == 2
    assert "would change: 3 members (3 added" in out
    assert not (team / "generated").exists()


def test_a_read_that_drops_more_than_max_removals_is_refused_with_the_arithmetic(
    team: Path,
) -> None:
    assert sync(team, "-q")[0] == 0
    before = (team / "generated" / "groups.yaml").read_bytes()
    # A group emptied but for one person: everyone else would go.
    (team / "groups.csv").write_text(
        "group,member\nEngineering,dan@example.com\nContractors,dan@example.com\n"
    )
    code, _, err = sync(team, "-q")
    assert code == 3
    assert "3 of the 3 people it lists would go (1 left), and groups.max_removals allows 1" in err
    assert (team / "generated" / "groups.yaml").read_bytes() == before
    code, out, _ = sync(team, "-q", "--force")
    assert code == 0
    assert "1 member (1 added, 3 removed, 0 with another role)" in out


def test_the_generated_file_loads_and_hand_entries_win(team: Path) -> None:
    (team / "roster.yaml").write_text(ROSTER.format(extra="  ann@example.com: user\n", limit=1))
    assert sync(team, "-q")[0] == 0
    desired = load_config([team])
    assert desired.members["ann@example.com"] == "user"
    assert desired.members["bob@example.com"] == "developer"
    assert "ann@example.com" not in desired.workspaces["Research"].members
    assert dict(desired.workspaces["Research"].members) == {
        "bob@example.com": "workspace_developer",
        "cleo@partner.example": "workspace_developer",
    }
    [override] = desired.group_overrides
    assert (override.email, override.file_role, override.group_role) == (
        "ann@example.com",
        "user",
        "developer",
    )
    assert override.file_at is not None
    assert override.file_at[0].endswith("roster.yaml")
    result = CliRunner().invoke(main, ["validate", str(team)])
    assert result.exit_code == 0, result.stderr


def test_the_plan_says_which_hand_entry_wins(team: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (team / "roster.yaml").write_text(ROSTER.format(extra="  ann@example.com: user\n", limit=1))
    assert sync(team, "-q")[0] == 0
    monkeypatch.chdir(team)
    result = CliRunner().invoke(main, ["plan", "--sandbox", "--quiet", "."])
    assert result.exit_code == 0, result.stderr
    assert (
        "  ! ann@example.com: user in roster.yaml:3, not developer from the group rules"
        " (generated/groups.yaml:12)\n"
    ) in result.stdout


def test_no_groups_section_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "roster.yaml").write_text("members:\n  a@example.com: user\n")
    code, _, err = sync(tmp_path)
    assert code == 1
    assert err == (
        f"Error: {tmp_path}: no roster file gives a 'groups' section:"
        " see docs/identity-sources.md\n"
    )


def test_an_output_that_is_not_a_generated_file_is_left_alone(team: Path) -> None:
    (team / "generated").mkdir()
    (team / "generated" / "groups.yaml").write_text("members:\n  x@example.com: user\n")
    code, _, err = sync(team, "-q")
    assert code == 1
    assert "not a file roster sync-groups wrote" in err
    assert (team / "generated" / "groups.yaml").read_text() == "members:\n  x@example.com: user\n"


def test_a_generated_file_cannot_set_policy(team: Path) -> None:
    (team / "other.yaml").write_text(
        "generated:\n  by: roster sync-groups\npolicy:\n  unmanaged: remove\nmembers: {}\n"
    )
    result = CliRunner().invoke(main, ["validate", str(team)])
    assert result.exit_code == 1
    assert "other.yaml:3:1: 'policy' cannot be given in a generated file" in result.stderr


# --- the examples -----------------------------------------------------------------------------

EXAMPLES = Path(__file__).parent.parent / "examples" / "directory"


@pytest.mark.parametrize("kind", ["csv", "graph", "google", "ldap", "scim"])
def test_every_source_example_validates_with_its_group_rules(kind: str) -> None:
    desired = load_config([EXAMPLES / kind])
    assert desired.groups is not None
    assert desired.groups.source["kind"] == kind
    assert desired.groups.rules


@pytest.mark.parametrize("kind", ["csv", "graph", "google"])
def test_each_export_example_is_in_sync_and_plans(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = shutil.copytree(EXAMPLES / kind, tmp_path / kind)
    assert sync(team, "--check", "-q") == (
        0,
        f"{team}/generated/groups.yaml is up to date: "
        f"{len(load_config([team]).members) - 1} members.\n",
        "",
    )
    monkeypatch.chdir(team)
    result = CliRunner().invoke(main, ["plan", "--sandbox", "--quiet", "."])
    assert result.exit_code == 0, result.stderr
    assert "+ invite ann@example.com as developer" in result.stdout


def test_a_hand_workspace_line_for_a_generated_member_does_not_stop_the_next_sync(
    team: Path,
) -> None:
    assert sync(team, "-q")[0] == 0
    roster = team / "roster.yaml"
    roster.write_text(
        roster.read_text()
        + "workspaces:\n  Ops:\n    members:\n      bob@example.com: workspace_admin\n"
    )
    assert dict(load_config([team]).workspaces["Ops"].members) == {
        "bob@example.com": "workspace_admin"
    }
    assert sync(team, "-q")[0] == 0


def test_a_saved_plan_keeps_what_the_hand_entries_override() -> None:
    from roster.desired import GroupOverride
    from roster.model import Organization
    from roster.plan import Plan
    from roster.saved_plan import plan_from_data

    overrides = (
        GroupOverride("ann@example.com", "developer", ("g.yaml", 12, 3), "user", ("r.yaml", 3, 3)),
        GroupOverride("svc@example.com", "user", ("g.yaml", 14, 3)),
        GroupOverride(
            "bob@example.com", "workspace_user", ("g.yaml", 20, 7), "workspace_admin",
            ("r.yaml", 9, 7), "Research",
        ),
    )  # fmt: skip
    plan = Plan(Organization("org", "Org"), group_overrides=overrides)
    assert plan_from_data(plan.data) == plan
    assert plan_from_data(plan.data).group_overrides == plan.group_overrides
