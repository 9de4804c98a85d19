"""Running the emulator over real HTTP with uvicorn: in the foreground (``roster emulator
serve``) or in a background thread for tests (``running_server``).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from roster.emulator.gate import ConnectionDropped


class _HideDroppedConnections(logging.Filter):
    """uvicorn logs every app exception; a deliberate drop is not an error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDropped)


def _quiet_drops() -> None:
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDroppedConnections) for f in error_log.filters):
        error_log.addFilter(_HideDroppedConnections())


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only for sockets
    # created with it, and without it each response on a kept-alive connection waits ~40 ms
    # for the client's delayed acknowledgement.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def base_url(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _server(app: ASGIApp, log_level: str) -> uvicorn.Server:
    _quiet_drops()
    # The app sends its own Date, by the emulated clock.
    config = uvicorn.Config(
        app, log_level=log_level, lifespan="on", log_config=None, date_header=False
    )
    return uvicorn.Server(config)


def serve(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 8787,
    on_listening: Callable[[str], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve ``app`` until interrupted; ``on_listening`` gets the base URL once bound."""
    sock = bind(host, port)
    if on_listening is not None:
        on_listening(base_url(sock, host))
    try:
        _server(app, log_level).run(sockets=[sock])
    finally:
        sock.close()


@contextmanager
def running_server(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` from a background thread; yields the base URL, stops on exit."""
    sock = bind(host, port)
    server = _server(app, "warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_until_started(server, thread)
        yield base_url(sock, host)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the emulator server did not start")
        time.sleep(0.01)
