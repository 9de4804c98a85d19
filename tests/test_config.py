"""Loading roster files: the examples load, the schema is sound, every bad file names its line."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

from roster import config
from roster.config import MAX_FILE_BYTES, load_config, roster_files, roster_schema
from roster.desired import FILE_ROLES, Desired, OrganizationRef, Policy, RemovalLimit
from roster.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
EXAMPLES = ROOT / "examples"

ROLE_LIST = "valid roles: admin, billing, claude_code_user, developer, user"

# (file or directory under tests/data/bad, the file the error names, line, part of the message)
BAD_FILES = [
    ("workspace-member-not-in-members.yaml", None, 6, "bob@acme.com is not in 'members'"),
    ("workspace-admin-demoted.yaml", None, 6, "org admins are workspace_admin in every workspace"),
    ("workspace-billing-role.yaml", None, 6, "workspace_billing cannot be given"),
    (
        "workspace-billing-member.yaml",
        None,
        6,
        "the only other role they can have is workspace_admin",
    ),
    ("workspace-archived-with-members.yaml", None, 4, "'Old' is archived: it cannot list members"),
    ("workspace-name-too-long.yaml", None, 4, "is not a valid workspace name (1 to 40 characters,"),
    (
        "workspace-name-newline.yaml",
        None,
        4,
        r"'Prod\n  + add bob@example.com' is not a valid work",
    ),
    ("workspace-name-ansi.yaml", None, 4, r"'ci-key\x1b[1A\x1b[2K' is not a valid workspace name"),
    ("workspace-name-bidi.yaml", None, 4, r"'Prod\u202egnp.exe' is not a valid workspace name"),
    ("workspace-name-blank.yaml", None, 5, "'   ' is not a valid workspace name"),
    ("workspace-unknown-key.yaml", None, 5, "unknown key 'member' in workspaces.Research"),
    (
        "workspace-member-twice.yaml",
        None,
        8,
        "CAROL@acme.com is listed twice in workspace 'Research'",
    ),
    (
        "workspace-twice",
        "b.yaml",
        3,
        "workspace 'Research' is given twice; first at {dir}/workspace-twice/a.yaml:4",
    ),
    ("broken-yaml.yaml", None, 4, "expected ',' or ']'"),
    ("tab-indent.yaml", None, 3, "tab character"),
    ("tab-after-colon.yaml", None, 2, "tab character"),
    ("duplicate-key.yaml", None, 5, "duplicate key 'policy'; first at {dir}/duplicate-key.yaml:1"),
    ("duplicate-email.yaml", None, 4, "duplicate key 'alice@acme.com'; first at {dir}/dup"),
    ("duplicate-email-case.yaml", None, 4, "first at {dir}/duplicate-email-case.yaml:2 as alice"),
    (
        "duplicate-across-files",
        "b-research.yaml",
        4,
        "BOB@acme.com is listed twice; first at {dir}/duplicate-across-files/a-platform.yaml:3",
    ),
    ("unknown-role.yaml", None, 3, f"'superuser' is not a valid role; {ROLE_LIST}"),
    ("typo-role.yaml", None, 2, "'developr' is not a valid role"),
    ("owner-role.yaml", None, 3, f"cannot give the role 'owner'; {ROLE_LIST}"),
    ("managed-role.yaml", None, 3, "cannot give the role 'managed'"),
    ("admin-as-email.yaml", None, 2, "'admin' is a role, not an email"),
    ("admin-as-policy.yaml", None, 2, "policy.unmanaged: 'admin' is not one of: report, remove"),
    ("admin-in-protected.yaml", None, 4, "policy.protected[1]: 'admin' is not a valid email"),
    ("role-as-list.yaml", None, 2, "a list is not a valid role"),
    (
        "unknown-top-key.yaml",
        None,
        3,
        "unknown key 'member' at the top level; allowed: generated, groups, members,",
    ),
    (
        "unknown-policy-key.yaml",
        None,
        3,
        "unknown key 'max_removal' in policy;"
        " allowed: api_keys, api_keys_of_removed_members, ignore,",
    ),
    ("members-list.yaml", None, 2, "members must be a mapping, not a list"),
    ("members-empty.yaml", None, 3, "members must be a mapping, not an empty value"),
    ("organization-name-number.yaml", None, 2, "organization.name must be text, not a number"),
    ("organization-empty.yaml", None, 3, "organization is empty; give at least one of: id, name"),
    ("empty-mapping.yaml", None, 1, "the top level is empty"),
    ("empty.yaml", None, 1, "the file is empty (or only comments)"),
    ("comments-only.yaml", None, 1, "the file is empty (or only comments)"),
    ("not-utf8.yaml", None, 4, "not UTF-8: byte 0xe9 at offset 41"),
    ("control-character.yaml", None, 3, "control character U+0007"),
    ("alias-bomb.yaml", None, 3, "anchors and aliases"),
    ("alias-role.yaml", None, 2, "anchors and aliases"),
    ("deep-nesting.yaml", None, 1, "nested more than 32 levels"),
    ("python-tag.yaml", None, 2, "YAML tag !!python/object:os.system is not allowed"),
    ("key-is-list.yaml", None, 2, "a key must be plain text"),
    ("email-no-domain.yaml", None, 3, "members: 'bob@' is not a valid email address"),
    ("email-no-at.yaml", None, 2, "'bob.acme.com' is not a valid email address"),
    ("email-space.yaml", None, 3, "'bob smith@acme.com' is not a valid email address"),
    ("email-two-ats.yaml", None, 2, "'bob@@acme.com' is not a valid email address"),
    ("email-no-dot.yaml", None, 3, "'bob@localhost' is not a valid email address"),
    ("email-trailing-newline.yaml", None, 3, r"'bob@acme.com\n' is not a valid email address"),
    ("protected-not-email.yaml", None, 2, "'*@acme.com' is not a valid email address"),
    ("glob-no-at.yaml", None, 4, "policy.ignore[1]: 'ci-bot' is not a valid email glob"),
    ("glob-empty-local.yaml", None, 2, "'@acme.com' is not a valid email glob"),
    ("glob-unclosed-bracket.yaml", None, 2, "'bot[12@acme.com' is not a valid email glob"),
    ("max-removals-negative.yaml", None, 2, "policy.max_removals: -1 is not a valid removal limit"),
    ("max-removals-percent.yaml", None, 3, "'150%' is not a valid removal limit"),
    ("max-removals-word.yaml", None, 2, "'ten' is not a valid removal limit"),
    ("max-removals-fraction.yaml", None, 2, "2.5 is not a valid removal limit"),
    ("unmanaged-unknown.yaml", None, 2, "'delete' is not one of: report, remove, ignore"),
    (
        "organization-twice",
        "team.yaml",
        3,
        "'organization' is given in two files; first at {dir}/organization-twice/org.yaml:1",
    ),
    ("policy-twice", "b.yaml", 4, "'policy' is given in two files; first at {dir}/policy-twice/"),
    ("top-level-list.yaml", None, 1, "the top level must be a mapping, not a list"),
    ("top-level-text.yaml", None, 1, "the top level must be a mapping, not text"),
    ("two-documents.yaml", None, 3, "expected a single document in the stream"),
    ("ignored-member.yaml", None, 5, "is a member but policy.ignore '*@svc.acme.com' matches it"),
]


def load_error(*paths: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(list(paths))
    return caught.value


def assert_one_line_at(error: ConfigError, path: Path, line: int) -> None:
    text = str(error)
    assert "\n" not in text
    assert text.startswith(f"{path}:{line}:")
    assert error.path == str(path)
    assert error.line == line


@pytest.mark.parametrize(("name", "named_file", "line", "message"), BAD_FILES)
def test_bad_file_names_its_line(
    name: str, named_file: str | None, line: int, message: str
) -> None:
    path = BAD / name
    error = load_error(path)
    assert_one_line_at(error, path / named_file if named_file else path, line)
    assert message.format(dir=BAD) in str(error)


def test_the_bad_corpus_is_fully_covered() -> None:
    listed = {name for name, *_ in BAD_FILES}
    assert listed == {path.name for path in BAD.iterdir()}
    assert len(listed) >= 25


def test_every_schema_problem_is_reported_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(
        "members:\n  bob@: user\n  carol@acme.com: owner\npolicy:\n  unmanaged: never\nextra: 1\n"
    )
    error = load_error(path)
    assert [(p.line, p.column) for p in error.problems] == [(2, 3), (3, 19), (5, 14), (6, 1)]
    assert str(error).endswith("(and 3 more problems)")


def test_a_file_over_the_size_cap_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    line = "  someone@example.com: user\n"
    path.write_text("members:\n" + line * (MAX_FILE_BYTES // len(line) + 1))
    error = load_error(path)
    assert str(error).startswith(f"{path}: the file is 32.0 MiB, over the 32 MiB limit")


def test_a_directory_without_roster_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("members: {}")
    assert "no *.yaml or *.yml files" in str(load_error(tmp_path))


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    assert str(load_error(tmp_path / "nope.yaml")).endswith("nope.yaml: no such file or directory")


def test_no_path_at_all_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no roster file given"):
        load_config([])


# --- good files -----------------------------------------------------------------------------------


def example_paths() -> Iterator[Path]:
    yield from sorted(EXAMPLES.glob("*/*.yaml"))
    # A folder of roster files holds them directly; examples/ci holds CI recipes instead.
    yield from sorted(path for path in EXAMPLES.iterdir() if any(path.glob("*.yaml")))


@pytest.mark.parametrize("path", list(example_paths()), ids=str)
def test_every_example_loads(path: Path) -> None:
    desired = load_config([path])
    assert desired.members
    assert set(desired.members.values()) <= FILE_ROLES


def test_the_enterprise_example_merges_its_team_files() -> None:
    desired = load_config([EXAMPLES / "enterprise"])
    assert desired.organization == OrganizationRef(
        id="6f1c2a4e-3b7d-4e8a-9c15-2d4f6a8b0c1e", name="Globex Corporation"
    )
    assert desired.policy == Policy(
        unmanaged="remove",
        ignore=("*@svc.globex.com", "ci-bot-?@globex.com"),
        protected=frozenset({"hank.scorpio@globex.com", "cfo@globex.com"}),
        max_removals=RemovalLimit(5, percent=True),
        workspaces="report",
        workspace_members="report",
        api_keys_of_removed_members="archive",
        rate_limits="remove",
    )
    assert desired.members["raj.patel@globex.com"] == "developer"
    assert desired.members["hana.kim@globex.com"] == "billing"
    assert sorted(desired.workspaces) == [
        "Legacy Billing",
        "Platform Production",
        "Platform Staging",
        "Research",
    ]
    assert desired.workspaces["Legacy Billing"].archived
    assert desired.workspaces["Platform Staging"].members == {
        "raj.patel@globex.com": "workspace_developer",
        "sofia.ortiz@globex.com": "workspace_developer",
    }
    assert desired.workspaces["Platform Production"].rate_limits == {
        "claude-sonnet-4-5": {"requests_per_minute": 2000, "output_tokens_per_minute": 400000},
        "batch": {"requests_per_minute": 100},
    }
    assert desired.workspaces["Research"].rate_limits is None  # never touched
    sonnet = desired.workspaces["Platform Staging"].rate_limits_at["claude-sonnet-4-5"]
    assert sonnet == (str(EXAMPLES / "enterprise" / "platform.yaml"), 35, 7)


def test_emails_are_stored_lower_case_and_globs_too(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text(
        "policy:\n  ignore: ['*@SVC.Acme.com']\n  protected: [CEO@Acme.com]\n"
        "members:\n  Alice@Acme.COM: developer\n"
    )
    desired = load_config([path])
    assert dict(desired.members) == {"alice@acme.com": "developer"}
    assert desired.policy.ignore == ("*@svc.acme.com",)
    assert desired.policy.protected == frozenset({"ceo@acme.com"})


def test_files_and_directories_merge_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "teams").mkdir()
    (tmp_path / "teams" / "b.yml").write_text("members:\n  bob@acme.com: user\n")
    (tmp_path / "teams" / "a.yaml").write_text("members:\n  amy@acme.com: billing\n")
    (tmp_path / "teams" / ".draft.yaml").write_text("not: [valid")
    (tmp_path / "org.yaml").write_text("policy:\n  max_removals: '12.5%'\n")
    desired = load_config(
        [tmp_path / "org.yaml", tmp_path / "teams", tmp_path / "teams" / "a.yaml"]
    )
    assert dict(desired.members) == {"amy@acme.com": "billing", "bob@acme.com": "user"}
    assert desired.policy.max_removals == RemovalLimit(12.5, percent=True)
    assert [p.name for p in roster_files([tmp_path / "teams"])] == ["a.yaml", "b.yml"]


def test_a_file_without_policy_gets_the_safe_defaults(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text("members: {}\n")
    desired = load_config([path])
    assert desired.policy == Policy()
    assert desired.policy.unmanaged == "report"
    assert desired.organization is None


def test_dates_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    path.write_text("organization:\n  name: 2024-01-01\n")
    assert load_config([path]).organization == OrganizationRef(name="2024-01-01")


# --- the schema -----------------------------------------------------------------------------------


def test_the_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(dict(roster_schema()))


def schema_properties(schema: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(schema, dict):
        for name, value in schema.get("properties", {}).items():
            yield f"{where}.{name}", value
        for key, value in schema.items():
            yield from schema_properties(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from schema_properties(item, f"{where}[{index}]")


def test_every_schema_property_and_definition_has_a_description() -> None:
    schema = roster_schema()
    named = [*schema_properties(schema), *schema["$defs"].items()]
    assert len(named) >= 10
    assert [where for where, value in named if not value.get("description")] == []


def test_the_schema_roles_are_the_file_roles() -> None:
    assert set(roster_schema()["$defs"]["role"]["enum"]) == FILE_ROLES


def test_the_schema_defaults_are_the_policy_defaults() -> None:
    defaults = {
        k: v.get("default")
        for k, v in roster_schema()["properties"]["policy"]["properties"].items()
    }
    assert defaults == {
        "unmanaged": "report",
        "ignore": [],
        "protected": [],
        "max_removals": 5,
        "workspaces": "ignore",
        "workspace_members": None,  # the same as unmanaged
        "api_keys_of_removed_members": "report",
        "rate_limits": "report",
        "api_keys": None,  # each of its keys has its own default
    }
    key_defaults = roster_schema()["properties"]["policy"]["properties"]["api_keys"]
    assert {k: v.get("default") for k, v in key_defaults["properties"].items()} == {
        "max_age_days": None,
        "unused_days": None,
        "action": "report",
        "max_deactivations": 5,
    }
    assert Policy.from_data(defaults) == Policy() == Policy.from_data({})


def test_the_policy_data_form_reads_back_as_the_same_policy() -> None:
    policy = Policy.from_data(
        {
            "unmanaged": "remove",
            "ignore": ["Bots-*@X.io"],
            "protected": ["Ada@X.io"],
            "max_removals": "12.5%",
            "workspaces": "report",
            "workspace_members": "ignore",
            "api_keys_of_removed_members": "archive",
            "rate_limits": "remove",
        }
    )
    assert policy.ignore == ("bots-*@x.io",)
    assert policy.protected == frozenset({"ada@x.io"})
    assert Policy.from_data(policy.data) == policy
    assert (
        Policy.from_data(Policy(max_removals=RemovalLimit(7)).data).max_removals.allowed(100) == 7
    )


@pytest.mark.parametrize("packaged", [True, False], ids=["wheel", "source-tree"])
def test_the_schema_is_found_installed_or_not(
    packaged: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wheel has a roster/schemas resource; an editable install does not and reads schemas/.
    if packaged:
        (tmp_path / "schemas").mkdir()
        (tmp_path / "schemas" / "roster.schema.json").write_text('{"title": "packaged"}')
    monkeypatch.setattr("importlib.resources.files", lambda package: tmp_path)
    source_tree = json.loads((ROOT / "schemas" / "roster.schema.json").read_text())
    config.roster_schema.cache_clear()
    try:
        assert config.roster_schema() == ({"title": "packaged"} if packaged else source_tree)
    finally:
        config.roster_schema.cache_clear()


# --- the fast path vouches only for what the careful path accepts, and reads it the same ---------


def careful(paths: list[Path]) -> Desired:
    files = roster_files(paths)
    loaded = [config._load_document(path, config._read_text(path)) for path in files]
    assert all(one.problems == [] for one in loaded)
    return config._merge([one.document for one in loaded], complete=True)


def sound(paths: list[Path]) -> Desired | None:
    files = roster_files(paths)
    return config._load_sound([(path, config._read_text(path)) for path in files])


@pytest.mark.parametrize("name", [name for name, *_ in BAD_FILES])
def test_the_fast_path_vouches_for_no_bad_file(name: str) -> None:
    path = BAD / name
    try:
        texts = [(p, config._read_text(p)) for p in roster_files([path])]
    except ConfigError:
        return  # unreadable: refused before either path parses anything
    assert config._load_sound(texts) is None


@pytest.mark.parametrize(
    "paths",
    [[EXAMPLES / "startup" / "roster.yaml"], [EXAMPLES / "enterprise"]],
    ids=["startup", "enterprise"],
)
def test_the_fast_path_reads_the_examples_as_the_careful_one_does(paths: list[Path]) -> None:
    assert sound(paths) == careful(paths)


SCALARS = st.sampled_from(
    [
        "user",
        "admin",
        "developer",
        "yes",
        "~",
        "2026-01-01",
        "!!str user",
        "'user'",
        "12",
        "workspace_user",
        "*a",
        "&a user",
        "[user]",
        "{a: b}",
        '"a\\tb"',
        "0x1F",
        "user # note",
    ]
)
KEYS = st.sampled_from(
    [
        "ann@acme.io",
        "ANN@acme.io",
        "bob@acme.io",
        "<<",
        "~",
        "2026-01-01",
        "'ann@acme.io'",
        "? ann@acme.io",
        "yes",
        "1",
        "Research",
        "members",
        "unmanaged",
        "ignore",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    members=st.lists(st.tuples(KEYS, SCALARS), max_size=5),
    workspace=st.lists(st.tuples(KEYS, SCALARS), max_size=3),
    policy=st.lists(st.tuples(KEYS, SCALARS), max_size=2),
)
def test_what_the_fast_path_accepts_the_careful_one_accepts_the_same(
    members: list[tuple[str, str]],
    workspace: list[tuple[str, str]],
    policy: list[tuple[str, str]],
) -> None:
    lines = ["members:", *([f"  {k}: {v}" for k, v in members] or ["  {}"])]
    if policy:
        lines += ["policy:", *(f"  {k}: {v}" for k, v in policy)]
    if workspace:
        lines += ["workspaces:", "  Research:", "    members:"]
        lines += [f"      {k}: {v}" for k, v in workspace]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "roster.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        fast = sound([path])
        if fast is None:
            return
        assert careful([path]) == fast


def test_numbers_yaml_reads_as_other_numbers_are_located_problems(tmp_path: Path) -> None:
    # The schema takes 2500.0 for a whole number, and YAML 1.1 reads 017 as 15 and 1:30 as 90.
    path = tmp_path / "roster.yaml"
    path.write_text(
        "members: {}\n"
        "policy:\n"
        "  max_removals: 017\n"
        "workspaces:\n"
        "  Production:\n"
        "    rate_limits:\n"
        "      batch: {requests_per_minute: 2500.0}\n"
        "      files: {requests_per_minute: 1:30}\n"
        "      skills: {requests_per_minute: 400_000}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_config([path])
    assert [(p.line, p.column, p.message) for p in raised.value.problems] == [
        (3, 17, "017 reads as 15 in YAML; write numbers in plain decimal digits"),
        (7, 36, "2500.0 is a decimal; write the whole number 2500 without a point"),
        (8, 36, "1:30 reads as 90 in YAML; write numbers in plain decimal digits"),
    ]
