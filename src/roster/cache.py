"""A five-minute cache of ``GET /v1/organizations/me``, in the user's cache directory.

An entry is named by a SHA-256 of (SHA-256 of the admin key, API URL): the key itself never
reaches the disk. A corrupt, unreadable or unwritable cache is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from roster.credentials import Secret

TTL = timedelta(minutes=5)
JSON = dict[str, Any]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/roster``, else ``~/.cache/roster``."""
    base = (os.environ if environ is None else environ).get("XDG_CACHE_HOME", "")
    return Path(base or Path.home() / ".cache") / "roster"


def entry_name(key: Secret, api_url: str) -> str:
    key_hash = hashlib.sha256(key.reveal().encode()).hexdigest()
    return hashlib.sha256(f"{key_hash}\n{api_url}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class MeCache:
    """The cached ``/me`` of one key and API URL."""

    path: Path
    api_url: str
    now: Callable[[], datetime] = utc_now
    ttl: timedelta = TTL

    @classmethod
    def for_key(cls, key: Secret, api_url: str, directory: Path | None = None) -> MeCache:
        folder = directory or cache_dir()
        return cls(folder / f"me-{entry_name(key, api_url)}.json", api_url)

    def get(self) -> JSON | None:
        """The organization if it was cached less than ``ttl`` ago."""
        try:
            entry = json.loads(self.path.read_text(encoding="utf-8"))
            fetched = datetime.fromisoformat(entry["fetched_at"])
            organization = entry["organization"]
            fresh = timedelta(0) <= self.now() - fetched < self.ttl
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return organization if fresh and isinstance(organization, dict) else None

    def put(self, organization: JSON) -> None:
        entry = {
            "api_url": self.api_url,
            "fetched_at": self.now().isoformat(),
            "organization": organization,
        }
        # A cache that cannot be written only costs a request next time.
        with contextlib.suppress(OSError):
            _write_atomic(self.path, json.dumps(entry, sort_keys=True))


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".me-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
