"""``--sandbox``: roster against the built-in emulator, in-process, with state in a local file.

On first use the state is the sample organization of ``roster.emulator.sample``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from roster.api.http import API_VERSION
from roster.credentials import Secret
from roster.errors import RosterError

if TYPE_CHECKING:
    from roster.emulator.store import Store

SANDBOX_FILE = Path(".roster-sandbox.json")
# Not a secret: the in-process emulator takes any admin-shaped key; nothing leaves the machine.
SANDBOX_KEY = Secret("sk-ant-admin01-sandbox-0000000000")
SANDBOX_URL = "https://sandbox.roster.invalid"


@asynccontextmanager
async def sandbox_http(path: Path = SANDBOX_FILE) -> AsyncIterator[httpx.AsyncClient]:
    """An http client whose transport is the emulator; state is saved back when it changed."""
    # Imported here, not at the top: every command without --sandbox starts faster without
    # the emulator and Starlette.
    from roster.emulator.app import create_app  # noqa: PLC0415
    from roster.emulator.transport import InProcessTransport  # noqa: PLC0415

    store = load_sandbox(path)
    version = store.version
    transport = InProcessTransport(create_app(store))
    try:
        async with httpx.AsyncClient(
            base_url=SANDBOX_URL, transport=transport, headers=_headers()
        ) as http:
            yield http
    finally:
        # Saved even after a failure: the file must match what the emulator did.
        if store.version != version or not path.exists():
            store.save(path)


def _headers() -> dict[str, str]:
    return {"x-api-key": SANDBOX_KEY.reveal(), "anthropic-version": API_VERSION}


def load_sandbox(path: Path = SANDBOX_FILE) -> Store:
    """The sandbox's organization: from its file, or the sample on first use."""
    from roster.emulator.sample import sample_store  # noqa: PLC0415  (as in sandbox_http)
    from roster.emulator.store import Store  # noqa: PLC0415

    if not path.exists():
        return sample_store()
    try:
        return Store.load(path)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RosterError(
            f"{path}: the sandbox state cannot be read ({type(error).__name__});"
            " delete it to start over from the sample organization"
        ) from None


def sandbox_now(path: Path = SANDBOX_FILE) -> datetime:
    """The sandbox's emulated time (its clock stands still between runs)."""
    return load_sandbox(path).clock.now()
