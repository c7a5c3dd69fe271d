"""`Drain`: how a server process stops (SIGTERM, SIGINT) without cutting answers off mid-sentence.

uvicorn's own shutdown closes every WebSocket at once with code 1012 and stops listening. realtalk
steps in before it: at the first SIGTERM or SIGINT the drain begins while uvicorn still serves.

- New work is refused: a WebSocket upgrade or REST request gets a 503 `server_draining` in OpenAI's
  error shape (`/healthz` still answers; `/readyz` says `draining`, so a load balancer moves on).
- A session with a response under way keeps it until its `response.done` is out; a session with
  nothing under way, and each session as soon as its response is done, gets an `error` event
  (`server_shutting_down`) and is closed with code 1012; a call (WebRTC, phone) is hung up likewise.
- After `seconds`, whatever is left is closed the same way, mid-response or not.
- Only then is the signal passed on to uvicorn, which stops listening and exits with nothing left open.

A SIGINT during the drain (a second Ctrl-C) passes on at once: uvicorn's immediate shutdown. A SIGTERM
during it is ignored: under `--workers` the supervisor sends one after the Ctrl-C its workers got too.
Signals can be caught only on the main thread: a server run elsewhere (the tests' in-thread server)
has no drain on signals, but `run()` drains it all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from fastapi import WebSocket
from starlette.types import ASGIApp, Receive, Scope, Send

from realtalk.protocol.errors import ProtocolError
from realtalk.server.calls import Call, CallRegistry
from realtalk.server.errors import deny_websocket, protocol_error_response
from realtalk.server.sessions import SessionRegistry
from realtalk.session.session import RealtimeSession

log = logging.getLogger(__name__)
DRAIN_SIGNALS = (signal.SIGTERM, signal.SIGINT)
LEFTOVER_SECONDS = 5  # past the deadline: for the sessions just told to close to finish closing
POLL_SECONDS = 0.05
PROBES = frozenset({"/healthz", "/readyz"})  # answered during a drain: liveness, and readiness saying why not

SignalHandler = Callable[[int, FrameType | None], Any] | int | None


class Drain:
    def __init__(self, seconds: float, sessions: SessionRegistry, calls: CallRegistry) -> None:
        self.seconds = seconds
        self._sessions = sessions
        self._calls = calls
        self._began = asyncio.Event()
        self._overdue = asyncio.Event()
        self._requests = 0  # REST requests in flight: the drain waits for them too
        self._task: asyncio.Task[None] | None = None

    @property
    def draining(self) -> bool:
        return self._began.is_set()

    @staticmethod
    def refusal() -> ProtocolError:
        return ProtocolError(
            "The server is shutting down and takes no new sessions or requests; retry, and another instance "
            "will answer.",
            code="server_draining",
            type="server_error",
        )

    async def until_closing(self, session: RealtimeSession) -> None:
        """Return when `session` is to be closed: the drain began and no response of it is running, or the
        drain's time is up."""
        await self._began.wait()
        idle = asyncio.create_task(session.responder.until_idle())
        overdue = asyncio.create_task(self._overdue.wait())
        try:
            await asyncio.wait({idle, overdue}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (idle, overdue):
                waiter.cancel()
            await asyncio.gather(idle, overdue, return_exceptions=True)

    async def run(self) -> None:
        """Refuse new work, let what is under way finish for up to `seconds`, then close what is left."""
        self._began.set()
        log.info(
            "draining: %d session(s) and %d request(s) open; each closes once its response is done (at most %g s)",
            len(self._sessions),
            self._requests,
            self.seconds,
        )
        hangups = [asyncio.create_task(self._hang_up(call)) for call in self._calls.live()]
        if not await self._until_idle(self.seconds):
            log.warning("drain: %g s are up; closing %d session(s) now", self.seconds, len(self._sessions))
            self._overdue.set()
            await self._until_idle(LEFTOVER_SECONDS)
        await asyncio.gather(*hangups, return_exceptions=True)
        log.info("drained")

    async def _until_idle(self, seconds: float) -> bool:
        """Until no session is open and no request in flight (True), or `seconds` have passed (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while len(self._sessions) or self._requests:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(POLL_SECONDS)
        return True

    async def _hang_up(self, call: Call) -> None:
        await self.until_closing(call.session)
        await call.restart()

    # --- signals -------------------------------------------------------------------------------------

    def on_signals(self) -> None:
        """From now on SIGTERM and SIGINT start the drain and reach the server's own handler only after it."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for sig in DRAIN_SIGNALS:
            server_handler: SignalHandler = signal.getsignal(sig)

            def handle(signum: int, frame: FrameType | None, server_handler: SignalHandler = server_handler) -> None:
                loop.call_soon_threadsafe(self._signalled, signum, server_handler)

            signal.signal(sig, handle)

    def _signalled(self, signum: int, server_handler: SignalHandler) -> None:
        name = signal.Signals(signum).name
        if self._task is None:
            log.info("%s: draining before shutdown", name)
            self._task = asyncio.create_task(self._drain_then(signum, server_handler), name="drain")
        elif signum == signal.SIGINT:
            log.warning("SIGINT during the drain: stopping now")
            _pass_on(signum, server_handler)

    async def _drain_then(self, signum: int, server_handler: SignalHandler) -> None:
        await self.run()
        _pass_on(signum, server_handler)

    async def stop(self) -> None:
        """At the app's shutdown: a drain still running (the server was forced to stop) ends here."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    @contextlib.contextmanager
    def serving_request(self) -> Iterator[None]:
        self._requests += 1
        try:
            yield
        finally:
            self._requests -= 1


class DrainGate:
    """ASGI middleware: refuses new work while the server drains, and counts the REST requests in flight."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in PROBES:
            await self.app(scope, receive, send)
        elif self.drain.draining:
            await _refuse(scope, receive, send, self.drain.refusal())
        elif scope["type"] == "websocket":
            await self.app(scope, receive, send)
        else:
            with self.drain.serving_request():
                await self.app(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, refusal: ProtocolError) -> None:
    if scope["type"] == "websocket":
        await deny_websocket(WebSocket(scope, receive, send), refusal, 503)
    else:
        await protocol_error_response(refusal, 503)(scope, receive, send)


def _pass_on(signum: int, handler: SignalHandler) -> None:
    """Hand the signal to the handler it had before the drain took it (uvicorn's, which stops the server)."""
    if callable(handler):
        handler(signum, None)
    else:
        signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        signal.raise_signal(signum)
