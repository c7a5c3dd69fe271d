"""A real realtalk server on a loopback port, run by uvicorn in a thread of the test process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI

from realtalk.config import Settings
from realtalk.server.log_redaction import redact_server_logs
from realtalk.server.serving import uvicorn_options


class LiveServer:
    """Served as `realtalk serve` serves: the app's own settings decide uvicorn's caps and timeouts."""

    def __init__(self, app: FastAPI, log_level: str = "warning") -> None:
        self.app = app
        settings = getattr(app.state, "settings", None) or Settings()  # a stand-in backend has none
        redact_server_logs(settings.api_key)  # as `realtalk serve` does
        self.loop = asyncio.new_event_loop()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level=log_level, lifespan="on", **uvicorn_options(settings)
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve())
        finally:
            self.loop.close()

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self._thread.join(10)

    @property
    def port(self) -> int:
        sockets = self.server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/realtime"

    def call(self, fn: Any) -> Any:
        """Run `fn()` on the server's event loop and return its result (to inspect live state)."""

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(5)


@contextlib.contextmanager
def uvicorn_log() -> Iterator[list[logging.LogRecord]]:
    """What uvicorn logs meanwhile (its request lines and errors), as its own handlers would receive it."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    loggers = [logging.getLogger(name) for name in ("uvicorn.access", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
