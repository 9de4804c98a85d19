"""Fixtures shared by every test module.

Every emulator the tests create runs in strict mode, and a test fails if it leaves contract
violations behind in any of them: requests that break admin-api.md, from roster's client or
from the tests themselves, are found here rather than against the real API.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from roster.emulator.control import watch_controls
from roster.emulator.strict import STRICT_ENV

os.environ.setdefault(STRICT_ENV, "1")
# Progress on stderr is tested in test_progress.py; elsewhere stderr holds only the warnings and
# errors the tests assert exactly, and a terminal shows only what the tests compare.
os.environ.setdefault("ROSTER_QUIET", "1")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def obeys_the_api_contract() -> Iterator[None]:
    """Fails the test if an emulator created during it recorded a contract violation."""
    with watch_controls() as controls:
        yield
    violations = [v.to_json() for control in controls for v in control.violations]
    if violations:
        shown = "\n".join(json.dumps(v) for v in violations)
        pytest.fail(f"requests broke the API contract (admin-api.md):\n{shown}", pytrace=False)
