"""Keeps a state file in step with the store: flushes at most every half second when the
store changed, and once more at shutdown. Serializing happens on the event loop (a consistent
snapshot); encoding and writing happen in a thread so requests keep flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from roster.emulator.store import Store, write_atomic

FLUSH_INTERVAL = 0.5


class StateSaver:
    def __init__(self, store: Store, path: Path, interval: float = FLUSH_INTERVAL) -> None:
        self.store = store
        self.path = path
        self.interval = interval
        self.saved_version = store.version if path.exists() else -1
        self._task: asyncio.Task[None] | None = None

    async def flush(self) -> None:
        if self.store.version == self.saved_version:
            return
        version, snapshot = self.store.version, self.store.to_json()
        await asyncio.to_thread(_write, self.path, snapshot)
        self.saved_version = version

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()

    async def start(self) -> None:
        await self.flush()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()


def _write(path: Path, snapshot: dict[str, object]) -> None:
    write_atomic(path, json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False) + "\n")
