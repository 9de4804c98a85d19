"""A person's whole life in the organization, through the CLI, over real HTTP.

Invited; the invite is accepted (the emulator's control endpoint plays the person); the next
apply adds them to their workspace; later they leave, and the apply that removes them also
turns off the API key they created.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result

from roster.cli import main
from roster.emulator.app import create_app
from roster.emulator.records import ApiKey
from roster.emulator.server import running_server
from roster.emulator.store import Store
from tests.support import make_store

KEY = "sk-ant-admin01-lifecycle-Hd72kq0Z"


class Org:
    def __init__(self, base: str, store: Store, folder: Path) -> None:
        self.base = base
        self.store = store
        self.file = folder / "roster.yaml"

    def roster(self, *args: str) -> Result:
        env = {"ANTHROPIC_ADMIN_KEY": KEY}
        result = CliRunner().invoke(main, [*args, "--api-url", self.base], env=env)
        assert KEY not in result.stdout + result.stderr
        return result

    def apply(self, desired: dict[str, Any]) -> Result:
        self.file.write_text(yaml.safe_dump(desired))
        return self.roster("apply", "--yes", str(self.file))

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.base}/_emulator/{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Org]:
    store = make_store(
        {"lead@acme.io": "developer"}, {}, {"Research": {}}, {"lead-key": "lead@acme.io"}
    )
    with running_server(create_app(store)) as base:
        yield Org(base, store, tmp_path)


POLICY = {"unmanaged": "remove", "api_keys_of_removed_members": "deactivate"}


def desired(*members: str) -> dict[str, Any]:
    return {
        "policy": POLICY,
        "members": dict.fromkeys(("lead@acme.io", *members), "developer")
        | {"admin@example.com": "admin"},
        "workspaces": {"Research": {"members": dict.fromkeys(members, "workspace_developer")}},
    }


def test_invite_accept_join_leave(org: Org) -> None:
    first = org.apply(desired("dana@acme.io"))
    assert first.exit_code == 0, first.stderr
    assert "+ invite dana@acme.io as developer" in first.stdout
    assert "… dana@acme.io joins Research as workspace_developer" in first.stdout

    invite = org.store.pending_invite_for("dana@acme.io")
    assert invite is not None
    dana = org.control("POST", f"invites/{invite.id}/accept", {"name": "Dana Scully"})

    joined = org.apply(desired("dana@acme.io"))
    assert joined.exit_code == 0, joined.stderr
    assert "+ add dana@acme.io to workspace Research as workspace_developer" in joined.stdout
    research = next(
        org.store.get_workspace(i)
        for i in org.store.workspace_ids()
        if org.store.get_workspace(i).name == "Research"
    )
    assert org.store.get_member(research.id, dana["id"]).workspace_role == "workspace_developer"

    # Dana creates a key; then leaves.
    org.store.insert_api_key(
        ApiKey(
            id=org.store.new_id("apikey_"),
            name="dana-notebook",
            workspace_id=research.id,
            created_by=dana["id"],
            created_at=org.store.now_text(),
            status="active",
            partial_key_hint="sk-ant-api03-Dan...aaaa",
        )
    )
    left = org.apply(desired())
    assert left.exit_code == 0, left.stderr
    # Leaving the organization, she leaves its workspaces: one request, not one for each.
    assert "- remove dana@acme.io (developer) (leaving workspace Research too)" in left.stdout
    assert "from workspace Research" not in left.stdout
    assert "- deactivate API key 'dana-notebook'" in left.stdout
    assert org.store.user_by_email("dana@acme.io") is None
    statuses = {k.name: k.status for k in org.store.api_keys()}
    assert statuses == {"lead-key": "active", "dana-notebook": "inactive"}

    settled = org.roster("plan", "--detailed-exitcode", str(org.file))
    assert settled.exit_code == 0, settled.stdout
