"""Opens an ``AdminClient`` from the user's settings: the real API, or the ``--sandbox``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

from roster.api import AdminClient, make_http_client
from roster.credentials import check_base_url, key_file_warning, key_warning, load_admin_key
from roster.progress import Observer, silent
from roster.sandbox import SANDBOX_FILE, sandbox_http, sandbox_now


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Where the API is, how hard roster may press it, and whether to show its progress."""

    api_url: str
    api_key_file: Path | None = None
    max_concurrency: int = 8
    max_rps: float | None = None
    sandbox: bool = False
    sandbox_file: Path = SANDBOX_FILE
    quiet: bool = False


@asynccontextmanager
async def open_client(
    settings: ApiSettings,
    *,
    warn: Callable[[str], None],
    transport: httpx.AsyncBaseTransport | None = None,
    observer: Observer = silent,
) -> AsyncIterator[AdminClient]:
    """An ``AdminClient`` for ``settings``; ``warn`` hears why the key may fail, ``observer``
    what the client does (``roster.progress``)."""
    if settings.sandbox:
        async with sandbox_http(settings.sandbox_file) as http:
            yield _client(http, settings, observer)
        return
    base_url = check_base_url(settings.api_url)
    key = load_admin_key(settings.api_key_file)
    for warning in _key_warnings(settings, key_warning(key)):
        warn(warning)
    async with make_http_client(base_url, key, transport=transport) as http:
        yield _client(http, settings, observer)


def _client(http: httpx.AsyncClient, settings: ApiSettings, observer: Observer) -> AdminClient:
    return AdminClient(
        http,
        max_concurrency=settings.max_concurrency,
        max_rps=settings.max_rps,
        observer=observer,
    )


def _key_warnings(settings: ApiSettings, shape_warning: str | None) -> list[str]:
    file_warning = key_file_warning(settings.api_key_file) if settings.api_key_file else None
    return [w for w in (shape_warning, file_warning) if w]


def api_now(settings: ApiSettings) -> datetime:
    """The API's now: the wall clock, or under --sandbox the sandbox's own emulated clock."""
    if not settings.sandbox:
        return datetime.now(timezone.utc)
    try:
        return sandbox_now(settings.sandbox_file)
    except (OSError, ValueError, KeyError, TypeError):
        return datetime.now(timezone.utc)  # opening the sandbox reports the broken file
