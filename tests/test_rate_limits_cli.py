"""``roster rate-limits``: the rows and their rendering from values (table-driven), then the
command end to end against the in-process emulator (``--sandbox``): exact output, errors, names
from the API that try to act on a terminal, and the requests made. Exact tables are golden files;
``ROSTER_REGEN_GOLDEN=1`` rewrites them.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from roster.emulator.clock import format_time
from roster.emulator.records import Workspace as WorkspaceRecord
from roster.emulator.sample import SAMPLE_NOW, sample_store
from roster.model import RateLimitGroup, Workspace, WorkspaceRateLimit
from roster.reports.rate_limits import (
    RateLimits,
    UnknownWorkspaceError,
    chosen_workspaces,
    limit_rows,
    rate_limits_csv,
    rate_limits_data,
    rate_limits_shown,
    rate_limits_table,
    workspace_headers,
)
from roster.sandbox import load_sandbox
from tests.support import Org, run_cli, run_in_sandbox

GOLDEN = Path(__file__).parent / "data" / "golden" / "reports"
ORG = "/v1/organizations"
RPM, ITPM, OTPM = "requests_per_minute", "input_tokens_per_minute", "output_tokens_per_minute"
ITPM_CA, TOOL_USES = "input_tokens_per_minute_cache_aware", "tool_uses_per_second"

OPUS = RateLimitGroup(
    "rl_opus", "model_group", "rlg_opus", "Claude Opus 4.x", ("claude-opus-4-5",),
    {OTPM: 400_000, RPM: 4_000},
)  # fmt: skip
SONNET = RateLimitGroup(
    "rl_sonnet", "model_group", "rlg_sonnet", "Claude Sonnet 4.x", ("claude-sonnet-4-5",),
    {RPM: 4_000, ITPM_CA: 4_000_000, OTPM: 800_000},
)  # fmt: skip
BATCH = RateLimitGroup("rl_batch", "batch", "rlg_batch", limits={RPM: 4_000})
SEARCH = RateLimitGroup("rl_search", "web_search", "rlg_search", limits={TOOL_USES: 30})
FILES = RateLimitGroup("rl_files", "files", "rlg_files")  # limits nothing
PRODUCTION = Workspace("wrkspc_prod", "Production")
RESEARCH = Workspace("wrkspc_res", "Research")
OLD = Workspace("wrkspc_old", "Old", archived=True)


def overrides(workspace: Workspace, group: RateLimitGroup, **limits: int) -> WorkspaceRateLimit:
    return WorkspaceRateLimit(workspace.id, group.id, limits)


def report(
    groups: Sequence[RateLimitGroup],
    workspaces: Sequence[Workspace] = (),
    *entries: WorkspaceRateLimit,
) -> RateLimits:
    return rate_limits_shown(groups, workspaces, entries, every_workspace=True)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("ROSTER_REGEN_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- rows ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate_limits", "expected"),
    [
        pytest.param(
            report([SONNET]),
            [
                ("Claude Sonnet 4.x", RPM, 4_000, ()),
                ("Claude Sonnet 4.x", ITPM_CA, 4_000_000, ()),
                ("Claude Sonnet 4.x", OTPM, 800_000, ()),
            ],
            id="the limiter types in roster's order, not the API's",
        ),
        pytest.param(
            report([OPUS], [PRODUCTION, RESEARCH], overrides(RESEARCH, OPUS, **{OTPM: 40_000})),
            [
                ("Claude Opus 4.x", RPM, 4_000, (None, None)),
                ("Claude Opus 4.x", OTPM, 400_000, (None, 40_000)),
            ],
            id="a workspace that inherits has None",
        ),
        pytest.param(
            report([OPUS], [PRODUCTION], overrides(PRODUCTION, OPUS, **{ITPM: 90_000})),
            [
                ("Claude Opus 4.x", RPM, 4_000, (None,)),
                ("Claude Opus 4.x", ITPM, None, (90_000,)),
                ("Claude Opus 4.x", OTPM, 400_000, (None,)),
            ],
            id="a type only a workspace limits",
        ),
        pytest.param(
            report([BATCH], [PRODUCTION], overrides(PRODUCTION, BATCH, future_limit=7, **{RPM: 1})),
            [("batch", RPM, 4_000, (1,)), ("batch", "future_limit", None, (7,))],
            id="a type roster does not know comes last",
        ),
        pytest.param(
            report([FILES, SEARCH, BATCH, SONNET, OPUS]),
            [
                ("Claude Opus 4.x", RPM, 4_000, ()),
                ("Claude Opus 4.x", OTPM, 400_000, ()),
                ("Claude Sonnet 4.x", RPM, 4_000, ()),
                ("Claude Sonnet 4.x", ITPM_CA, 4_000_000, ()),
                ("Claude Sonnet 4.x", OTPM, 800_000, ()),
                ("batch", RPM, 4_000, ()),
                ("web_search", TOOL_USES, 30, ()),
            ],
            id="model groups by name, then the other kinds; a group that limits nothing has none",
        ),
        pytest.param(report([]), [], id="nothing limited"),
    ],
)
def test_rows(
    rate_limits: RateLimits, expected: list[tuple[str, str, int | None, tuple[int | None, ...]]]
) -> None:
    rows = [
        (r.group.label, r.limiter, r.organization, r.workspaces) for r in limit_rows(rate_limits)
    ]
    assert rows == expected


def test_only_workspaces_that_override_are_shown_unless_one_was_named() -> None:
    entries = [overrides(RESEARCH, OPUS, **{OTPM: 1}), WorkspaceRateLimit(PRODUCTION.id, OPUS.id)]
    every = rate_limits_shown([OPUS], [PRODUCTION, RESEARCH], entries)
    assert (every.workspaces, every.overrides) == ((RESEARCH,), (entries[0],))
    named = rate_limits_shown([OPUS], [PRODUCTION], entries[1:], every_workspace=True)
    assert named.workspaces == (PRODUCTION,)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, ["Production", "Research"]),
        ("Research", ["Research"]),
        ("Old", "workspace 'Old' is archived: it has no rate limits"),
        ("Default", "the Default workspace always has the organization's rate limits"),
        ("Staging", "no active workspace is named 'Staging'"),
        ("research", "no active workspace is named 'research' (did you mean 'Research'?)"),
        ("\x1b[2J", "no active workspace is named '\\x1b[2J'"),
    ],
)
def test_the_workspaces_chosen(name: str | None, expected: list[str] | str) -> None:
    if isinstance(expected, str):
        with pytest.raises(UnknownWorkspaceError) as refused:
            chosen_workspaces([OLD, PRODUCTION, RESEARCH], name)
        assert str(refused.value) == expected
    else:
        assert [w.name for w in chosen_workspaces([OLD, PRODUCTION, RESEARCH], name)] == expected


def test_workspaces_that_share_a_name_are_told_apart_by_id() -> None:
    twin = Workspace("wrkspc_prod2", "Production")
    assert workspace_headers([PRODUCTION, twin, RESEARCH]) == [
        "Production (wrkspc_prod)",
        "Production (wrkspc_prod2)",
        "Research",
    ]
    assert chosen_workspaces([PRODUCTION, twin, RESEARCH], "Production") == (PRODUCTION, twin)


# --- the table -------------------------------------------------------------------------------


def table_lines(rate_limits: RateLimits, width: int | None = 80) -> list[str]:
    return rate_limits_table(rate_limits, width).splitlines()


@pytest.mark.parametrize(
    ("value", "cells"),
    [
        pytest.param(None, ["  output_tokens_per_minute", "400,000"], id="inherits: blank"),
        pytest.param(40_000, ["  output_tokens_per_minute", "400,000", "40,000"], id="below"),
        pytest.param(400_000, ["  output_tokens_per_minute", "400,000", "400,000"], id="equal"),
        pytest.param(
            500_000, ["  output_tokens_per_minute", "400,000", "500,000*"], id="above: marked"
        ),
    ],
)
def test_a_workspace_cell(value: int | None, cells: list[str]) -> None:
    entries = [] if value is None else [overrides(PRODUCTION, OPUS, **{OTPM: value})]
    lines = table_lines(report([OPUS], [PRODUCTION], *entries))
    line = next(line for line in lines if OTPM in line)
    assert line.split() == [cell.strip() for cell in cells]
    assert ("* above the organization's limit: the lower one applies." in lines) == (
        value == 500_000
    )


def test_a_marked_column_keeps_its_digits_aligned() -> None:
    marked = report([OPUS], [PRODUCTION], overrides(PRODUCTION, OPUS, **{RPM: 5_000, OTPM: 40_000}))
    assert table_lines(marked)[:4] == [
        "GROUP / LIMITER             ORGANIZATION  Production",
        "Claude Opus 4.x",
        "  requests_per_minute              4,000      5,000*",
        "  output_tokens_per_minute       400,000     40,000",
    ]


def test_the_table_golden() -> None:
    shown = report(
        [OPUS, SONNET, BATCH, SEARCH, FILES],
        [PRODUCTION, RESEARCH],
        overrides(PRODUCTION, SONNET, **{OTPM: 900_000, RPM: 2_000}),
        overrides(PRODUCTION, BATCH, **{RPM: 100}),
        overrides(RESEARCH, OPUS, **{ITPM: 50_000, OTPM: 40_000}),
    )
    golden("rate-limits-values.txt", rate_limits_table(shown, 80))


def test_long_and_shared_names_are_whole_when_not_on_a_terminal() -> None:
    twin = Workspace("wrkspc_prod2", "Production")
    lab = Workspace("wrkspc_lab", "A laboratory with a very long name indeed")
    shown = report(
        [SONNET],
        [lab, PRODUCTION, twin],
        overrides(PRODUCTION, SONNET, **{OTPM: 300_000}),
        overrides(twin, SONNET, **{OTPM: 900_000}),
        overrides(lab, SONNET, **{RPM: 5}),
    )
    golden("rate-limits-names.txt", rate_limits_table(shown, None))


def test_a_narrow_terminal_cuts_the_names_not_the_numbers() -> None:
    shown = report([SONNET], [PRODUCTION], overrides(PRODUCTION, SONNET, **{RPM: 2_000}))
    lines = table_lines(shown, 50)
    table = lines[: lines.index("")]
    assert max(map(len, table)) <= 50
    assert table[0] == "GROUP / LIMITER             ORGANIZATION  Product…"
    assert table[3] == "  input_tokens_per_minute…     4,000,000"
    assert table_lines(shown, None)[3] == "  input_tokens_per_minute_cache_aware     4,000,000"


@pytest.mark.parametrize(
    ("rate_limits", "notes"),
    [
        pytest.param(
            rate_limits_shown([OPUS], [PRODUCTION], []),
            ["No workspace overrides the organization's limits."],
            id="no overrides",
        ),
        pytest.param(
            report([OPUS], [PRODUCTION]),
            [
                "A blank cell: the workspace has the organization's limit.",
                "Workspace 'Production' overrides none of the organization's limits.",
            ],
            id="a named workspace that overrides nothing",
        ),
        pytest.param(
            report([OPUS], [RESEARCH], overrides(RESEARCH, OPUS, **{RPM: 1})),
            ["A blank cell: the workspace has the organization's limit."],
            id="overrides",
        ),
    ],
)
def test_the_notes_under_the_table(rate_limits: RateLimits, notes: list[str]) -> None:
    lines = table_lines(rate_limits)
    assert lines[lines.index("") + 1 :] == [
        *notes,
        "In a roster file, name a group by one of its models (claude-sonnet-4-5),",
        "its type (batch) or its id (rlg_...); --format json lists its models and id.",
    ]


def test_an_organization_without_limits() -> None:
    assert rate_limits_table(report([FILES])) == "The organization has no rate limits.\n"


def test_names_from_the_api_are_escaped_in_the_table() -> None:
    hostile = RateLimitGroup(
        "rl_x", "model_group", "rlg_x", "Claude\x1b[2J\u202eX", limits={RPM: 1}
    )
    space = Workspace("wrkspc_x", "Ops\n\x1b[31mred\u2066")
    lines = table_lines(report([hostile], [space], overrides(space, hostile, **{RPM: 2})), None)
    assert lines[:3] == [
        "GROUP / LIMITER        ORGANIZATION  Ops\\n\\x1b[31mred\\u2066",
        "Claude\\x1b[2J\\u202eX",
        "  requests_per_minute             1                      2*",
    ]
    assert all(line.isprintable() for line in lines)


# --- json and csv ----------------------------------------------------------------------------


def test_the_json_form() -> None:
    shown = report([OPUS, BATCH], [RESEARCH], overrides(RESEARCH, OPUS, **{OTPM: 40_000}))
    assert rate_limits_data(shown) == {
        "groups": [
            {
                "id": "rl_opus",
                "group_id": "rlg_opus",
                "group_type": "model_group",
                "display_name": "Claude Opus 4.x",
                "models": ["claude-opus-4-5"],
                "limits": {OTPM: 400_000, RPM: 4_000},
            },
            {
                "id": "rl_batch",
                "group_id": "rlg_batch",
                "group_type": "batch",
                "display_name": None,
                "models": [],
                "limits": {RPM: 4_000},
            },
        ],
        "workspaces": [
            {
                "id": "wrkspc_res",
                "name": "Research",
                "overrides": [
                    {"rate_limit_id": "rl_opus", "group_id": "rlg_opus", "limits": {OTPM: 40_000}}
                ],
            }
        ],
    }


def test_the_csv_form_is_long() -> None:
    shown = report(
        [OPUS],
        [PRODUCTION, RESEARCH],
        overrides(RESEARCH, OPUS, **{OTPM: 40_000, ITPM: 9}),
        overrides(PRODUCTION, OPUS, **{OTPM: 1}),
    )
    assert rate_limits_csv(shown) == (
        "group,group_id,group_type,limiter,organization_limit,workspace,workspace_id,value\n"
        "Claude Opus 4.x,rlg_opus,model_group,requests_per_minute,4000,,,4000\n"
        "Claude Opus 4.x,rlg_opus,model_group,input_tokens_per_minute,,Research,wrkspc_res,9\n"
        "Claude Opus 4.x,rlg_opus,model_group,output_tokens_per_minute,400000,,,400000\n"
        "Claude Opus 4.x,rlg_opus,model_group,output_tokens_per_minute,400000,"
        "Production,wrkspc_prod,1\n"
        "Claude Opus 4.x,rlg_opus,model_group,output_tokens_per_minute,400000,"
        "Research,wrkspc_res,40000\n"
    )


# --- end to end: the sandbox -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "80")  # the golden tables are a terminal's, 80 wide
    for name in ("ANTHROPIC_ADMIN_KEY", "ROSTER_API_URL", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


# The emulators that --sandbox starts, whose request logs say what roster asked for.


def roster(*args: str, **env: str) -> tuple[Result, Counter[str]]:
    """``roster rate-limits ARGS --sandbox``, and how many requests it made to each path."""
    result, requests = run_in_sandbox(["rate-limits", *args], env=env)
    return result, Counter(entry.path for entry in requests)


def workspace_ids() -> dict[str, str]:
    """The sandbox's workspaces by name, as the API lists them (the Default one left out)."""
    client = Org(load_sandbox()).client()
    listed = asyncio.run(client.list_workspaces(include_archived=True))
    return {w["name"]: w["id"] for w in listed}


def requests(*workspaces: str) -> Counter[str]:
    """One list of workspaces, one of the organization's limits, one per workspace named."""
    ids = workspace_ids()
    paths = [f"{ORG}/workspaces", f"{ORG}/rate_limits"]
    return Counter(paths + [f"{ORG}/workspaces/{ids[name]}/rate_limits" for name in workspaces])


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("rate-limits.txt", []),
        ("rate-limits-research.txt", ["--workspace", "Research"]),
    ],
)
def test_golden_output(name: str, args: list[str]) -> None:
    result, _ = roster(*args)
    assert (result.exit_code, result.stderr) == (0, "")
    golden(name, result.stdout)


def test_the_docs_show_what_the_sandbox_prints() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "reports.md").read_text(encoding="utf-8")
    shown = re.search(
        r"^```console\n\$ roster rate-limits --sandbox\n(.*?)^```$", docs, re.M | re.S
    )
    assert shown is not None, "docs/reports.md lost its rate-limits example"
    assert roster()[0].stdout == shown.group(1)


def test_every_active_workspace_is_read_but_not_the_default_one() -> None:
    result, made = roster()
    assert result.exit_code == 0
    assert made == requests("Production", "Research")  # the Default workspace has no overrides


def test_a_named_workspace_alone_is_read() -> None:
    result, made = roster("--workspace", "Research")
    assert result.exit_code == 0
    assert made == requests("Research")


def test_the_formats_agree() -> None:
    data = json.loads(roster("--format", "json")[0].stdout)
    rows = list(csv.DictReader(io.StringIO(roster("--format", "csv")[0].stdout)))
    from_json = {
        (w["name"], group["group_id"], limiter): value
        for w in data["workspaces"]
        for group in w["overrides"]
        for limiter, value in group["limits"].items()
    }
    from_csv = {(r["workspace"], r["group_id"], r["limiter"]): int(r["value"]) for r in rows}
    groups = {g["display_name"] or g["group_type"]: g["group_id"] for g in data["groups"]}
    assert (
        {k: v for k, v in from_csv.items() if k[0]}
        == from_json
        == {
            ("Production", groups["Claude Sonnet 4.x"], OTPM): 300_000,
            ("Production", groups["Claude Sonnet 4.x"], RPM): 2_000,
            ("Production", groups["batch"], RPM): 100,
            ("Research", groups["Claude Opus 4.x"], OTPM): 40_000,
        }
    )
    org_limits = {(g["group_id"], t): v for g in data["groups"] for t, v in g["limits"].items()}
    assert {(k[1], k[2]): v for k, v in from_csv.items() if not k[0]} == org_limits
    assert org_limits[groups["web_search"], TOOL_USES] == 30


def test_the_format_comes_from_the_environment() -> None:
    result, _ = roster(ROSTER_RATE_LIMITS_FORMAT="json", ROSTER_RATE_LIMITS_WORKSPACE="Research")
    assert [w["name"] for w in json.loads(result.stdout)["workspaces"]] == ["Research"]


def test_progress_goes_to_stderr() -> None:
    result, _ = roster("--format", "json", ROSTER_QUIET="0")
    assert result.exit_code == 0
    assert result.stderr == (
        "reading workspaces…\n"
        "read workspaces: 2\n"
        "reading rate limits: 0/3…\n"
        "read rate limits: 3/3\n"
    )
    json.loads(result.stdout)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Staging", "no active workspace is named 'Staging'"),
        ("production", "no active workspace is named 'production' (did you mean 'Production'?)"),
        ("Default", "the Default workspace always has the organization's rate limits"),
        ("Old", "workspace 'Old' is archived: it has no rate limits"),
        ("Evil\x1b[2J\n", "no active workspace is named 'Evil\\x1b[2J\\n'"),
    ],
)
def test_a_workspace_that_cannot_be_shown_is_a_usage_error(name: str, message: str) -> None:
    with_workspaces({"Old": {}}, archived=["Old"])
    result, made = roster("--workspace", name)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: Invalid value for '--workspace': {message}\n"
    assert made == Counter({f"{ORG}/workspaces": 1})


def test_no_key_is_a_one_line_error() -> None:
    result = run_cli(["rate-limits"], env={}, secrets=[])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no admin key")
    assert len(result.stderr.splitlines()) == 1


# --- end to end: names that try to act on a terminal -----------------------------------------

# A line break, ANSI sequences that clear the screen, a bidirectional override.
HOSTILE = ("Line\nBreak", "Ops\x1b[2J\x1b[H", "\u202eevil")


def with_workspaces(
    workspaces: Mapping[str, Mapping[str, Mapping[str, int]]], archived: Sequence[str] = ()
) -> None:
    """The sandbox as Tinyco plus ``workspaces`` (name -> group as a roster file names it ->
    limits), set through the API, and the ``archived`` ones archived."""
    store = sample_store()
    ids = {}
    for name in workspaces:
        ids[name] = store.new_id("wrkspc_")
        created = format_time(SAMPLE_NOW)
        store.insert_workspace(WorkspaceRecord(ids[name], name, created, "#6C5BB9"))
    asyncio.run(_set_overrides(Org(store), ids, workspaces))
    for name in archived:
        store.archive_workspace(ids[name])
    store.save(".roster-sandbox.json")


async def _set_overrides(
    org: Org, ids: Mapping[str, str], workspaces: Mapping[str, Mapping[str, Mapping[str, int]]]
) -> None:
    client = org.client()
    for name, groups in workspaces.items():
        for group, limits in groups.items():
            (entry,) = await client.list_rate_limits(**_query_naming(group))
            values = [{"type": t, "value": v} for t, v in limits.items()]
            await client.update_workspace_rate_limits(ids[name], entry["id"], values)


def _query_naming(group: str) -> dict[str, Any]:
    return {"model": group} if group.startswith("claude-") else {"group_type": group}


def test_hostile_workspace_names_are_escaped_in_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLUMNS")  # not a terminal: every cell whole
    with_workspaces({name: {"claude-haiku-4-5": {RPM: 10}} for name in HOSTILE})
    result, made = roster()
    assert (result.exit_code, result.stderr) == (0, "")
    assert all(line.isprintable() for line in result.stdout.splitlines())
    header = result.stdout.splitlines()[0].split("  ")
    assert [cell.strip() for cell in header if cell.strip()] == [
        "GROUP / LIMITER",
        "ORGANIZATION",
        "Line\\nBreak",
        "Ops\\x1b[2J\\x1b[H",
        "Production",
        "Research",
        "\\u202eevil",
    ]
    golden("rate-limits-hostile.txt", result.stdout)
    assert made == requests(*HOSTILE, "Production", "Research")


def test_hostile_workspace_names_are_exact_in_json_and_csv() -> None:
    with_workspaces({name: {"batch": {RPM: 10}} for name in HOSTILE})
    shown = roster("--format", "json")[0].stdout
    assert "\x1b" not in shown
    assert "\u202e" not in shown  # JSON spells them \u001b and \u202e, which parse back exactly
    data = json.loads(shown)
    names = ["Line\nBreak", "Ops\x1b[2J\x1b[H", "Production", "Research", "\u202eevil"]
    assert [w["name"] for w in data["workspaces"]] == names  # by name, as the API wrote them
    rows = csv.DictReader(io.StringIO(roster("--format", "csv")[0].stdout, newline=""))
    assert {r["workspace"] for r in rows if r["group"] == "batch"} == {"", *HOSTILE, "Production"}


def test_a_named_workspace_that_overrides_nothing_is_still_shown() -> None:
    with_workspaces({"Staging": {}})
    result, made = roster("--workspace", "Staging")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].endswith("ORGANIZATION  Staging")
    assert "Workspace 'Staging' overrides none of the organization's limits." in result.stdout
    assert made == requests("Staging")
