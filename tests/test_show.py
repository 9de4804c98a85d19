"""``roster show``: a saved plan read back without the API, with what it is for and how it is
sealed; and the hint ``plan --out`` gives, which must target the API the plan was made against.
Exact stdout, stderr and exit code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from roster.emulator.app import create_app
from roster.emulator.sample import sample_store
from roster.emulator.server import running_server
from roster.saved_plan import fingerprint
from tests.support import run_cli

ADMIN_KEY = "sk-ant-admin01-show-tests-Pq7wEr6t"
PLAN_KEY = "a-plan-signing-key-of-forty-characters-x"
EXAMPLE = Path(__file__).parent.parent / "examples" / "startup" / "roster.yaml"
TINYCO = "Organization: Tinyco (7b0c3f0e-5a1d-4c2e-9f3b-1d2e3f4a5b6c)"


def roster(*args: object, **env: str) -> Result:
    return run_cli(args, env={"ROSTER_PLAN_KEY": "", **env}, secrets=[ADMIN_KEY, PLAN_KEY])


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ANTHROPIC_ADMIN_KEY", "ROSTER_API_URL", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def saved_plan(**env: str) -> Result:
    result = roster("plan", "--sandbox", "--out", "plan.json", EXAMPLE, **env)
    assert result.exit_code == 0
    return result


def test_the_hint_after_a_sandbox_plan_keeps_sandbox() -> None:
    result = saved_plan()
    assert result.stderr == (
        f"Saved the plan to plan.json; apply it with: roster apply --sandbox plan.json {EXAMPLE}\n"
    )
    # The hint, followed, applies the plan against the sandbox it was made against.
    hinted = result.stderr.split("apply it with: roster ")[1].split()
    applied = roster(*hinted, "--yes")
    assert applied.exit_code == 0
    assert "Apply complete: 13 of 13 changes made." in applied.stdout


def test_show_renders_the_saved_plan_as_plan_did_with_its_provenance() -> None:
    planned = saved_plan()
    document = json.loads(Path("plan.json").read_text())
    shown = roster("show", "plan.json")
    assert (shown.exit_code, shown.stderr) == (0, "")
    assert shown.stdout == (
        "Saved plan: plan.json\n"
        f"Made: {document['created_at']} by roster {document['roster_version']}\n"
        f"Digest: {document['digest']}\n"
        "Signature: not signed\n"
        "\n" + planned.stdout
    )
    assert planned.stdout.startswith(TINYCO)


def test_show_sends_no_request() -> None:
    saved_plan()
    Path(".roster-sandbox.json").unlink()  # no sandbox to read, and no API: only the file
    shown = roster("show", "plan.json", ROSTER_API_URL="http://127.0.0.1:9")
    assert shown.exit_code == 0
    assert not Path(".roster-sandbox.json").exists()


def test_show_json_is_the_plan_json_with_the_saved_plan_described() -> None:
    saved_plan()
    planned = json.loads(roster("plan", "--sandbox", "--format", "json", EXAMPLE).stdout)
    document = json.loads(Path("plan.json").read_text())
    shown = json.loads(roster("show", "--format", "json", "plan.json").stdout)
    about = shown.pop("saved_plan")
    assert shown == planned
    assert about == {
        "file": "plan.json",
        "created_at": document["created_at"],
        "roster_version": document["roster_version"],
        "digest": document["digest"],
        "signature": "none",
    }


def test_show_markdown_is_the_comment_with_a_footer() -> None:
    saved_plan()
    comment = roster("plan", "--sandbox", "--format", "markdown", EXAMPLE).stdout
    document = json.loads(Path("plan.json").read_text())
    shown = roster("show", "--format", "markdown", "plan.json").stdout
    assert shown == (
        f"{comment}\n_Saved plan plan.json, made {document['created_at']} by roster"
        f" {document['roster_version']}; digest `{document['digest']}`; not signed._\n"
    )


def test_a_signed_plan_shows_without_the_key_and_is_checked_with_it() -> None:
    saved_plan(ROSTER_PLAN_KEY=PLAN_KEY)
    unchecked = roster("show", "plan.json")
    assert unchecked.exit_code == 0
    assert "Signature: signed, not checked (ROSTER_PLAN_KEY is not set)\n" in unchecked.stdout
    checked = roster("show", "plan.json", ROSTER_PLAN_KEY=PLAN_KEY)
    assert "Signature: signed, checked with ROSTER_PLAN_KEY\n" in checked.stdout
    wrong = roster("show", "plan.json", ROSTER_PLAN_KEY="another-signing-key-of-forty-characters")
    assert (wrong.exit_code, wrong.stdout) == (1, "")
    assert wrong.stderr.startswith("Error: plan.json: the plan's signature does not match")


def test_a_modified_plan_is_refused() -> None:
    saved_plan()
    text = Path("plan.json").read_text().replace("ada@tinyco.io", "eve@tinyco.io")
    Path("plan.json").write_text(text)
    shown = roster("show", "plan.json")
    assert (shown.exit_code, shown.stdout, shown.stderr) == (
        1,
        "",
        "Error: plan.json: the plan file was modified after roster wrote it; plan again\n",
    )


def test_a_missing_plan_file_is_one_line() -> None:
    shown = roster("show", "nothing.json")
    assert (shown.exit_code, shown.stdout) == (1, "")
    assert shown.stderr == "Error: nothing.json: no such file or directory\n"


def test_schema_writes_the_shipped_schema_with_its_id() -> None:
    shipped = (Path(__file__).parent.parent / "schemas" / "roster.schema.json").read_text()
    printed = roster("schema")
    assert (printed.exit_code, printed.stdout, printed.stderr) == (0, shipped, "")
    assert json.loads(printed.stdout)["$id"] == "urn:roster:schema:roster-file:1"
    written = roster("schema", "-o", "roster/roster.schema.json")
    assert (written.exit_code, written.stdout) == (1, "")  # no such directory yet
    Path("roster").mkdir()
    written = roster("schema", "-o", "roster/roster.schema.json")
    assert (written.exit_code, written.stdout, written.stderr) == (
        0,
        "",
        "Wrote roster/roster.schema.json.\n",
    )
    assert Path("roster/roster.schema.json").read_text() == shipped


def test_an_exported_file_names_the_schema_beside_it() -> None:
    Path("roster").mkdir()
    assert roster("export", "--sandbox", "-o", "roster/org.yaml").exit_code == 0
    assert roster("schema", "-o", "roster/roster.schema.json").exit_code == 0
    first = Path("roster/org.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=roster.schema.json"
    target = Path("roster") / first.split("$schema=")[1]
    assert json.loads(target.read_text())["title"] == "roster file"
    # The schema file beside the roster files is not read as one: they are *.yaml.
    assert roster("validate", "roster").stdout.startswith("Valid: 1 file,")


def test_a_plan_is_saved_only_under_a_json_name() -> None:
    Path("roster.yaml").write_text(EXAMPLE.read_text())
    result = roster("plan", "--sandbox", "--out", "roster.yaml", "roster.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: Invalid value for '--out' (env var: 'ROSTER_PLAN_OUT'): a saved plan is a .json"
        " file (apply tells it from the roster files by that name)\n"
    )
    assert Path("roster.yaml").read_text() == EXAMPLE.read_text()


def test_the_hint_names_the_url_when_it_is_not_the_one_the_environment_gives() -> None:
    with running_server(create_app(sample_store())) as base:
        result = roster(
            "plan",
            "--api-url",
            base,
            "--out",
            "plan.json",
            EXAMPLE,
            ANTHROPIC_ADMIN_KEY=ADMIN_KEY,
            ROSTER_API_URL="http://127.0.0.1:9",
        )
    assert result.stderr.endswith(
        f"apply it with: roster apply --api-url {base} plan.json {EXAMPLE}\n"
    )


def test_show_markdown_keeps_its_bound_whatever_the_fields_hold() -> None:
    saved_plan()
    document = json.loads(Path("plan.json").read_text())
    document["created_at"] = "2026-12-02T00:00:00Z" + "x" * 70_000
    body = {k: v for k, v in document.items() if k != "digest"}
    Path("plan.json").write_text(json.dumps({**body, "digest": fingerprint(body)}))
    shown = roster("show", "--format", "markdown", "plan.json")
    assert shown.exit_code == 0
    assert len(shown.stdout) <= 65_000
    assert "x" * 300 not in shown.stdout
