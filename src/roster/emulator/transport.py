"""In-process access to the emulator through httpx, as if over the network.

A connection the emulator drops on purpose surfaces as ``httpx.RemoteProtocolError``, which is
what an httpx client sees when a real server closes the connection mid-response.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.types import ASGIApp

from roster.emulator.gate import ConnectionDropped

DEFAULT_BASE_URL = "https://api.anthropic.com"


class InProcessTransport(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` over the emulator app, with network-shaped failures."""

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app, client=("127.0.0.1", 49152))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped as exc:
            message = "peer closed connection without sending complete message body"
            raise httpx.RemoteProtocolError(message, request=request) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


def client_for(app: ASGIApp, base_url: str = DEFAULT_BASE_URL, **kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose requests go straight into ``app``."""
    return httpx.AsyncClient(transport=InProcessTransport(app), base_url=base_url, **kwargs)
