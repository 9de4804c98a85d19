"""Every problem of the roster files in one run: text, JSON and GitHub annotations, for validate
and for the load step of plan and apply, with nothing made up by a problem told before it.
Exact stdout, stderr and exit code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from roster.cli.problems import github_annotation
from roster.errors import Problem
from tests.support import run_cli

ADMIN_KEY = "sk-ant-admin01-problems-tests-Zx8cVb7n"
KEY_ENV = {"ANTHROPIC_ADMIN_KEY": ADMIN_KEY, "GITHUB_ACTIONS": ""}


def roster(*args: object, env: dict[str, str] | None = None) -> Result:
    return run_cli(args, env={**KEY_ENV, **(env or {})}, secrets=[ADMIN_KEY])


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def write(name: str, text: str) -> Path:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


TWO_BROKEN = {
    "a.yaml": "members:\n  bob@: user\n  carol@acme.com: owner\npolicy:\n  unmanaged: never\n",
    "b.yaml": "members:\n  dan@acme.com: user\n  dan@acme.com: admin\n",
}
TWO_BROKEN_TEXT = (
    "Error: a.yaml:2:3: members: 'bob@' is not a valid email address\n"
    "Error: a.yaml:3:19: members.carol@acme.com: a roster file cannot give the role 'owner';"
    " valid roles: admin, billing, claude_code_user, developer, user\n"
    "Error: a.yaml:5:14: policy.unmanaged: 'never' is not one of: report, remove, ignore\n"
    "Error: b.yaml:3:3: duplicate key 'dan@acme.com'; first at b.yaml:2\n"
    "4 problems in 2 files.\n"
)


def write_two_broken() -> None:
    for name, text in TWO_BROKEN.items():
        write(name, text)


def test_validate_tells_every_problem_of_every_file_then_the_count() -> None:
    write_two_broken()
    result = roster("validate", "a.yaml", "b.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", TWO_BROKEN_TEXT)


def test_one_problem_is_one_line() -> None:
    write("a.yaml", "members:\n  bob@: user\n")
    result = roster("validate", "a.yaml")
    expected = "Error: a.yaml:2:3: members: 'bob@' is not a valid email address\n"
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", expected)


def test_a_directory_is_told_file_by_file_in_name_order_then_by_line() -> None:
    write("team/z.yaml", "members:\n  zed@acme.com: user\n  zed@acme.com: user\n")
    write("team/a.yaml", "members:\n  amy@acme.com: nobody\n  bad: user\n")
    result = roster("validate", "team")
    assert result.stderr == (
        "Error: team/a.yaml:2:17: members.amy@acme.com: 'nobody' is not a valid role;"
        " valid roles: admin, billing, claude_code_user, developer, user\n"
        "Error: team/a.yaml:3:3: members: 'bad' is not a valid email address\n"
        "Error: team/z.yaml:3:3: duplicate key 'zed@acme.com'; first at team/z.yaml:2\n"
        "3 problems in 2 files.\n"
    )


def test_json_is_the_documented_list_on_stdout() -> None:
    write_two_broken()
    result = roster("validate", "--format", "json", "a.yaml", "b.yaml")
    assert (result.exit_code, result.stderr) == (1, "")
    listed = json.loads(result.stdout)
    assert [(p["file"], p["line"], p["column"]) for p in listed] == [
        ("a.yaml", 2, 3),
        ("a.yaml", 3, 19),
        ("a.yaml", 5, 14),
        ("b.yaml", 3, 3),
    ]
    assert set(listed[0]) == {"file", "line", "column", "message"}
    assert listed[3]["message"] == "duplicate key 'dan@acme.com'; first at b.yaml:2"


def test_json_of_valid_files_is_an_empty_list() -> None:
    write("a.yaml", "members:\n  amy@acme.com: user\n")
    result = roster("validate", "--format", "json", "a.yaml")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "[]\n", "")


def test_json_keeps_a_file_problem_without_a_line_as_null() -> None:
    result = roster("validate", "--format", "json", "missing.yaml")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {
            "file": "missing.yaml",
            "line": None,
            "column": None,
            "message": "no such file or directory",
        }
    ]


def test_under_github_actions_each_problem_is_an_annotation_on_stdout() -> None:
    write_two_broken()
    result = roster("validate", "a.yaml", "b.yaml", env={"GITHUB_ACTIONS": "true"})
    assert (result.exit_code, result.stderr) == (1, TWO_BROKEN_TEXT)
    assert result.stdout == (
        "::error file=a.yaml,line=2,col=3::members: 'bob@' is not a valid email address\n"
        "::error file=a.yaml,line=3,col=19::members.carol@acme.com: a roster file cannot give"
        " the role 'owner'; valid roles: admin, billing, claude_code_user, developer, user\n"
        "::error file=a.yaml,line=5,col=14::policy.unmanaged: 'never' is not one of: report,"
        " remove, ignore\n"
        "::error file=b.yaml,line=3,col=3::duplicate key 'dan@acme.com'; first at b.yaml:2\n"
    )


def test_an_annotation_cannot_be_ended_or_forged_by_a_name() -> None:
    problem = Problem("workspace 'a\nb%0A::error::x' 100%", 3, 5, file="we,ird:name.yaml")
    assert github_annotation(problem) == (
        "::error file=we%2Cird%3Aname.yaml,line=3,col=5::workspace 'a\\nb%250A::error::x' 100%25"
    )
    assert github_annotation(Problem("no such file or directory", file="x.yaml")) == (
        "::error file=x.yaml::no such file or directory"
    )


def test_json_output_has_no_annotations_even_under_github_actions() -> None:
    write("a.yaml", "members:\n  bob@: user\n")
    result = roster("validate", "--format", "json", "a.yaml", env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["line"] == 2


def test_plan_and_apply_tell_every_load_problem_and_send_nothing() -> None:
    write_two_broken()
    for command in (["plan"], ["apply", "--yes"]):
        # No API at this URL: a request would be a connection error, not these lines.
        result = roster(*command, "--api-url", "http://127.0.0.1:9", "a.yaml", "b.yaml")
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", TWO_BROKEN_TEXT)


def test_plan_load_problems_are_annotations_under_github_actions() -> None:
    write("a.yaml", "members:\n  bob@: user\n")
    result = roster(
        "plan", "--api-url", "http://127.0.0.1:9", "a.yaml", env={"GITHUB_ACTIONS": "true"}
    )
    assert result.exit_code == 1
    assert result.stdout == (
        "::error file=a.yaml,line=2,col=3::members: 'bob@' is not a valid email address\n"
    )


def test_a_file_left_out_makes_no_false_problem_in_another() -> None:
    # b.yaml's member is in a.yaml, whose schema problem leaves it out of the checks across files.
    write("a.yaml", "members:\n  amy@acme.com: user\n  bob@acme.com: owner\n")
    write("b.yaml", "workspaces:\n  W:\n    members:\n      amy@acme.com: workspace_user\n")
    result = roster("validate", "a.yaml", "b.yaml")
    assert result.stderr == (
        "Error: a.yaml:3:17: members.bob@acme.com: a roster file cannot give the role 'owner';"
        " valid roles: admin, billing, claude_code_user, developer, user\n"
    )


def test_problems_across_files_and_stages_are_told_together() -> None:
    write(
        "a.yaml",
        "policy:\n  ignore: ['bot-*@acme.com']\nmembers:\n  amy@acme.com: user\n"
        "  bot-1@acme.com: user\n",
    )
    write(
        "b.yaml",
        "policy:\n  unmanaged: report\nmembers:\n  Amy@acme.com: developer\n"
        "workspaces:\n  W:\n    members:\n      bot-1@acme.com: workspace_user\n"
        "      zoe@acme.com: workspace_user\n",
    )
    result = roster("validate", "a.yaml", "b.yaml")
    assert result.stderr == (
        "Error: a.yaml:5:3: bot-1@acme.com is a member but policy.ignore 'bot-*@acme.com'"
        " matches it\n"
        "Error: b.yaml:1:1: 'policy' is given in two files; first at a.yaml:1\n"
        "Error: b.yaml:4:3: Amy@acme.com is listed twice; first at a.yaml:4 as amy@acme.com"
        " (emails ignore case)\n"
        "Error: b.yaml:9:7: workspace 'W': zoe@acme.com is not in 'members'; workspace members"
        " must be organization members\n"
        "4 problems in 2 files.\n"
    )


def test_a_builder_problem_and_a_schema_problem_in_one_file_are_told_together() -> None:
    write("a.yaml", "members:\n  amy@acme.com: user\n  amy@acme.com: user\n  bad: user\n")
    result = roster("validate", "a.yaml")
    assert result.stderr == (
        "Error: a.yaml:3:3: duplicate key 'amy@acme.com'; first at a.yaml:2\n"
        "Error: a.yaml:4:3: members: 'bad' is not a valid email address\n"
        "2 problems in 1 file.\n"
    )


def test_an_unreadable_file_does_not_hide_the_others_problems() -> None:
    write("a.yaml", "members: [\n")
    write("b.yaml", "members:\n  bad: user\n")
    result = roster("validate", "a.yaml", "b.yaml", "gone.yaml")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: a.yaml:2:1: ")
    assert lines[1:] == [
        "Error: b.yaml:2:3: members: 'bad' is not a valid email address",
        "Error: gone.yaml: no such file or directory",
        "3 problems in 3 files.",
    ]


def test_a_large_edited_file_tells_all_of_its_problems_in_one_run() -> None:
    lines = ["members:"] + [f"  person{n:05d}@acme.com: user" for n in range(20_000)]
    broken = sorted({(n * 7919) % 20_000 for n in range(24)})
    for n in broken:
        lines[1 + n] = f"  person{n:05d}@acme.com: owner"
    write("big.yaml", "\n".join(lines) + "\n")
    result = roster("validate", "--format", "json", "big.yaml")
    assert [p["line"] for p in json.loads(result.stdout)] == [2 + n for n in broken]


def test_the_text_shows_the_first_thousand_and_counts_the_rest() -> None:
    write("a.yaml", "members:\n" + "".join(f"  bad{n}: user\n" for n in range(1_005)))
    result = roster("validate", "a.yaml")
    lines = result.stderr.splitlines()
    assert len(lines) == 1_001
    assert lines[999] == "Error: a.yaml:1001:3: members: 'bad999' is not a valid email address"
    assert lines[1000] == "1,005 problems in 1 file (the first 1,000 shown)."


def test_a_hostile_name_in_a_problem_is_shown_escaped() -> None:
    write("a.yaml", 'members:\n  "x\\n+ add evil@acme.com\\u001b[2K": user\n')
    result = roster("validate", "a.yaml")
    assert result.stderr == (
        "Error: a.yaml:2:3: members: 'x\\n+ add evil@acme.com\\x1b[2K' is not a valid email"
        " address\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        "members: !foo [a, b]\n",
        "members: {a@example.com: user}\npolicy: !foo text\n",
        "members: {a@example.com: user}\norganization: !foo [x]\n",
        "members: {a@example.com: !foo [x]}\n",
        "members: {a@example.com: user}\nworkspaces: {Eng: {members: {a@example.com: !foo [x]}}}\n",
        "members: {a@example.com: user}\npolicy: {max_removals: !foo [1]}\n",
        "!foo [a]\n",
    ],
)
def test_a_tag_on_a_value_of_the_wrong_shape_is_a_problem_not_a_crash(text: str) -> None:
    write("a.yaml", text)
    result = roster("validate", "a.yaml")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("Error: a.yaml:")
    assert "YAML tag !foo is not allowed in a roster file" in result.stderr


def test_a_tag_on_a_key_is_refused_like_one_on_a_value() -> None:
    write("a.yaml", "members: {!!python/object/apply:os.system a@example.com: user}\n")
    result = roster("validate", "a.yaml")
    assert result.stderr == (
        "Error: a.yaml:1:11: YAML tag !!python/object/apply:os.system is not allowed in a"
        " roster file\n"
    )


def test_unusable_entries_of_a_directory_are_each_told_with_the_files_problems() -> None:
    write("d/a.yaml", "members:\n  a@example.com: wizard\n")
    Path("d/notes.txt").symlink_to("nowhere")
    Path("d/z.yaml").symlink_to("nowhere-either")
    result = roster("validate", "d")
    assert result.stderr == (
        "Error: d/a.yaml:2:18: members.a@example.com: 'wizard' is not a valid role; valid roles:"
        " admin, billing, claude_code_user, developer, user\n"
        "Error: d/notes.txt: a symbolic link to nowhere, which does not exist\n"
        "Error: d/z.yaml: a symbolic link to nowhere-either, which does not exist\n"
        "3 problems in 3 files.\n"
    )


def test_json_redacts_a_key_in_a_file_name_and_escapes_what_a_terminal_would_run() -> None:
    key_named = "sk-ant-admin01-" + "A" * 24
    write(f"k/{key_named}.yaml", "members:\n  a@example.com: user\n  a@example.com: user\n")
    write("s.yaml", '"bad\\ud800\\u202ekey": 1\n')
    result = roster("validate", "--format", "json", "k", "s.yaml")
    assert key_named not in result.stdout
    assert "\u202e" not in result.stdout
    listed = json.loads(result.stdout)
    assert listed[0]["file"] == "k/sk-ant-…(redacted).yaml"
    assert listed[1]["message"].startswith("unknown key 'bad\ud800\u202ekey'")


def test_a_duplicate_line_does_not_silence_a_member_missing_in_another_file() -> None:
    write("a.yaml", "members:\n  alice@example.com: user\n  alice@example.com: user\n")
    write(
        "b.yaml",
        "members:\n  carol@example.com: user\n"
        "workspaces:\n  Eng:\n    members:\n      zed@example.com: workspace_user\n",
    )
    result = roster("validate", "a.yaml", "b.yaml")
    assert result.stderr == (
        "Error: a.yaml:3:3: duplicate key 'alice@example.com'; first at a.yaml:2\n"
        "Error: b.yaml:6:7: workspace 'Eng': zed@example.com is not in 'members'; workspace"
        " members must be organization members\n"
        "2 problems in 2 files.\n"
    )


def test_a_dropped_second_members_block_silences_what_it_may_have_listed() -> None:
    write(
        "a.yaml",
        "members:\n  alice@example.com: user\nmembers:\n  zed@example.com: user\n"
        "workspaces:\n  Eng:\n    members:\n      zed@example.com: workspace_user\n",
    )
    result = roster("validate", "a.yaml")
    assert result.stderr == "Error: a.yaml:3:1: duplicate key 'members'; first at a.yaml:1\n"


def test_the_column_of_a_byte_that_is_not_utf_8_counts_characters() -> None:
    before = '  x: "ééé'  # 9 characters, 12 bytes
    Path("a.yaml").write_bytes(b"members:\n  a@example.com: user\n" + before.encode() + b'\xff"\n')
    result = roster("validate", "a.yaml")
    assert result.stderr == (
        "Error: a.yaml:3:10: not UTF-8: byte 0xff at offset 43 cannot be decoded\n"
    )
