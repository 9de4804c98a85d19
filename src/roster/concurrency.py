"""Running requests side by side: the first failure cancels the rest, as a task group does.

``asyncio.gather`` leaves the siblings of a failed awaitable running; here they are cancelled and
awaited before the failure propagates, so nothing is left talking to a closing client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def gather_or_cancel(*awaitables: Awaitable[Any]) -> list[Any]:
    """The results in order; on the first exception, cancel the others and re-raise it."""
    tasks = [asyncio.ensure_future(awaitable) for awaitable in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
