"""Calls held by one worker, reached from any other: the sideband and hangup across processes.

    worker B (the sideband's socket)                 worker A (holds the call)
    GET realtalk:call:<id> → {worker: A, opener}     registered when the call starts, renewed meanwhile
    join ─────────── realtalk:worker:A ────────────▶ WebSocketTransport.join over a RelaySocket
    client frames, pings, leave ───────────────────▶   (the very code a local sideband runs)
    ◀──────────── realtalk:worker:B ─────────────── every encoded server event, then close

Each worker subscribes to its own channel only; every message names the link (one remote sideband)
or the call it is for. The holder encodes in the sideband's dialect, so worker B forwards text as is.
A holder that is gone is noticed when a publish reaches no one (no subscriber on its channel); a
sideband's worker that is gone is noticed when its pings stop (`LINK_SILENCE_SECONDS`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from realtalk.protocol import events as ev
from realtalk.protocol.beta import BetaDialect
from realtalk.protocol.ga import GADialect
from realtalk.protocol.wire import Dialect
from realtalk.server.errors import NotFound
from realtalk.server.secrets import digest
from realtalk.server.shared.redis_client import PREFIX, best_effort, required
from realtalk.session.session import RealtimeSession
from realtalk.transports.event_rate import EventRateLimit
from realtalk.transports.websocket import SEND_QUEUE_EVENTS, WebSocketTransport

log = logging.getLogger(__name__)
ROUTE_SECONDS = 30.0  # a call's registration lives this long unless its holder renews it (every third)
JOIN_SECONDS = 3.0  # for the holder's first answer to a join
PING_SECONDS = 5.0  # the sideband's worker says it is still there
LINK_SILENCE_SECONDS = 3 * PING_SECONDS  # the holder drops a link that said nothing this long
DIALECTS: dict[str, Callable[[], Dialect]] = {"ga": GADialect, "beta": BetaDialect}
Envelope = dict[str, Any]


class HeldCall(Protocol):
    """What a remote sideband or hangup needs of a call this worker holds."""

    session: RealtimeSession
    ended: asyncio.Event

    def end(self, reason: str) -> None: ...

    def listen_in(self, listener: ev.Emit) -> Callable[[], None]: ...


def call_key(call_id: str) -> str:
    return f"{PREFIX}call:{call_id}"


def worker_channel(worker: str) -> str:
    return f"{PREFIX}worker:{worker}"


class RedisCallRoutes:
    """This worker's side of the relay: it registers the calls it holds and serves links both ways."""

    def __init__(self, redis: Redis, max_event_bytes: int, event_rate: EventRateLimit) -> None:
        self.redis = redis
        self.worker = uuid.uuid4().hex
        self._max_event_bytes = max_event_bytes
        self._event_rate = event_rate
        self._held: dict[str, str | None] = {}  # call id → digest of the ephemeral key that opened it
        self._links: dict[str, asyncio.Queue[Envelope]] = {}  # link id → its inbox, on either side
        self._holding: set[asyncio.Task[None]] = set()  # remote sidebands of calls held here

    # --- the directory ------------------------------------------------------------------------------

    async def register(self, call_id: str, opener: str | None) -> None:
        """This worker holds `call_id` (`opener`: the ephemeral key that opened it, which may hang it up)."""
        self._held[call_id] = digest(opener) if opener is not None else None
        async with best_effort(f"registering call {call_id}"):
            await self._publish_route(call_id, self._held[call_id])

    async def unregister(self, call_id: str) -> None:
        self._held.pop(call_id, None)
        async with best_effort(f"unregistering call {call_id}"):
            await self.redis.delete(call_key(call_id))

    async def find(self, call_id: str) -> RemoteCall | None:
        """The call, if another worker holds it (raises `SharedStateUnavailable` if Redis does not answer)."""
        async with required():
            value = await self.redis.get(call_key(call_id))
        if value is None:
            return None
        route = orjson.loads(value)
        if route["worker"] == self.worker:
            return None  # ours, and gone since: as unknown as any other
        return RemoteCall(self, call_id, route["worker"], route["opener"])

    async def _publish_route(self, call_id: str, opener: str | None) -> None:
        route = orjson.dumps({"worker": self.worker, "opener": opener})
        await self.redis.set(call_key(call_id), route, ex=int(ROUTE_SECONDS))

    # --- messages -----------------------------------------------------------------------------------

    async def publish(self, worker: str, message: Envelope) -> int:
        """To `worker`'s channel; how many subscribers got it (0: that worker is gone)."""
        return int(await self.redis.publish(worker_channel(worker), orjson.dumps(message)))

    def open_link(self) -> tuple[str, asyncio.Queue[Envelope]]:
        link = uuid.uuid4().hex
        self._links[link] = asyncio.Queue()
        return link, self._links[link]

    def close_link(self, link: str) -> None:
        self._links.pop(link, None)

    def _dispatch(self, message: Envelope, find_local: Callable[[str], HeldCall | None]) -> None:
        op = message.get("op")
        if op == "join":
            self._hold(message, find_local(message["call"]))
        elif op == "hangup":
            call = find_local(message["call"])
            if call is not None:
                call.end("hung up")
        elif (inbox := self._links.get(message.get("link", ""))) is not None:
            if inbox.qsize() >= SEND_QUEUE_EVENTS:  # its reader stopped reading: end the link
                self.close_link(message["link"])
                message = {"op": "close", "code": 1008, "reason": "the sideband fell too far behind"}
            inbox.put_nowait(message)

    def _receive(self, data: bytes, find_local: Callable[[str], HeldCall | None]) -> None:
        try:
            self._dispatch(orjson.loads(data), find_local)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # not one of ours: the relay goes on
            log.warning("the call relay ignored a malformed message (%s: %s)", type(exc).__name__, exc)

    def _hold(self, join: Envelope, call: HeldCall | None) -> None:
        link, reply = join["link"], join["reply"]
        if call is None:
            task = asyncio.create_task(self._answer_gone(reply, link))
        else:
            self._links[link] = asyncio.Queue()
            socket = RelaySocket(self, link, reply, self._links[link])
            transport = WebSocketTransport(socket, DIALECTS[join["dialect"]](), self._max_event_bytes, self._event_rate)
            task = asyncio.create_task(self._serve_link(link, transport, call), name=f"relayed sideband {link}")
        self._holding.add(task)
        task.add_done_callback(self._holding.discard)

    async def _answer_gone(self, reply: str, link: str) -> None:
        async with best_effort(f"answering a join for a call no longer here ({link})"):
            await self.publish(reply, {"op": "gone", "link": link})

    async def _serve_link(self, link: str, transport: WebSocketTransport, call: HeldCall) -> None:
        try:
            await transport.join(call.session, call.listen_in, call.ended)
        finally:
            self.close_link(link)

    # --- upkeep -------------------------------------------------------------------------------------

    async def listen(self, find_local: Callable[[str], HeldCall | None]) -> None:
        """Serve this worker's channel until cancelled (the lifespan), subscribing again after an outage."""
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(worker_channel(self.worker))
                    while True:
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if message is not None:
                            self._receive(message["data"], find_local)
            except RedisError as exc:
                log.warning("the call relay lost the shared state store (%s); listening again in 1 s", exc)
                await asyncio.sleep(1.0)

    async def keep(self) -> None:
        """Renew this worker's calls' routes every third of their life, until cancelled (the lifespan)."""
        while True:
            await asyncio.sleep(ROUTE_SECONDS / 3)
            async with best_effort("renewing the calls' routes"):
                for call_id, opener in list(self._held.items()):
                    await self._publish_route(call_id, opener)

    async def close(self) -> None:
        """Stop every relayed sideband (server shutdown)."""
        for task in list(self._holding):
            task.cancel()
        await asyncio.gather(*self._holding, return_exceptions=True)


class RelaySocket:
    """On the holder: what `WebSocketTransport.join` reads and writes, carried to the sideband's worker."""

    def __init__(self, routes: RedisCallRoutes, link: str, reply: str, inbox: asyncio.Queue[Envelope]) -> None:
        self._routes = routes
        self._link = link
        self._reply = reply
        self._inbox = inbox

    async def receive(self) -> Message:
        while True:
            try:
                message = await asyncio.wait_for(self._inbox.get(), LINK_SILENCE_SECONDS)
            except TimeoutError:
                log.info("relayed sideband %s: its worker went silent", self._link)
                return {"type": "websocket.disconnect", "code": 1006}
            if message["op"] == "frame":
                if "bytes" in message:
                    return {"type": "websocket.receive", "bytes": base64.b64decode(message["bytes"])}
                return {"type": "websocket.receive", "text": message["text"]}
            if message["op"] in ("leave", "close"):
                return {"type": "websocket.disconnect", "code": 1000}

    async def send_text(self, data: str) -> None:
        await self._send({"op": "send", "link": self._link, "text": data})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        await self._send({"op": "close", "link": self._link, "code": code, "reason": reason or ""})

    async def _send(self, message: Envelope) -> None:
        try:
            await self._routes.publish(self._reply, message)
        except RedisError as exc:  # the transport's writer stops on a socket error: this is one
            raise ConnectionError(f"the shared state store is unreachable: {exc}") from exc


class RemoteCall:
    """On the sideband's worker: a call another worker holds."""

    def __init__(self, routes: RedisCallRoutes, call_id: str, worker: str, opener: str | None) -> None:
        self._routes = routes
        self.id = call_id
        self.worker = worker
        self._opener = opener

    def opened_by(self, token: str | None) -> bool:
        return token is not None and self._opener is not None and hmac.compare_digest(digest(token), self._opener)

    def _gone(self) -> NotFound:
        return NotFound(f"No live call with id '{self.id[:64]}'.", code="call_not_found")

    async def hang_up(self) -> None:
        async with required():
            reached = await self._routes.publish(self.worker, {"op": "hangup", "call": self.id})
        if not reached:
            raise self._gone()

    async def join(self, dialect: Dialect) -> RemoteSideband:
        """Ask the holder for a link; raises `NotFound` if the call is gone (before the socket is accepted)."""
        link, inbox = self._routes.open_link()
        join = {"op": "join", "call": self.id, "link": link, "reply": self._routes.worker, "dialect": dialect.name}
        first: Envelope | None = None
        try:
            async with required():
                reached = await self._routes.publish(self.worker, join)
            if reached:
                with contextlib.suppress(TimeoutError):
                    first = await asyncio.wait_for(inbox.get(), JOIN_SECONDS)
        finally:
            if first is None or first["op"] == "gone":
                self._routes.close_link(link)
        if first is None or first["op"] == "gone":
            raise self._gone()
        return RemoteSideband(self._routes, self.worker, link, first, inbox)


class RemoteSideband:
    """Pumps one sideband socket to and from the holder until either side ends."""

    def __init__(
        self, routes: RedisCallRoutes, holder: str, link: str, first: Envelope, inbox: asyncio.Queue[Envelope]
    ) -> None:
        self._routes = routes
        self._holder = holder
        self._link = link
        self._first = first
        self._inbox = inbox
        self._close: tuple[int, str] = (1000, "")

    async def serve(self, websocket: WebSocket, subprotocol: str | None) -> None:
        """Accept the socket and relay until the client, the call or the holder ends; leave no task behind."""
        try:
            await websocket.accept(subprotocol=subprotocol)
        except BaseException:
            self._routes.close_link(self._link)
            await self._leave()
            raise
        up = asyncio.create_task(self._up(websocket), name=f"sideband up {self._link}")
        down = asyncio.create_task(self._down(websocket), name=f"sideband down {self._link}")
        alive = asyncio.create_task(self._ping(), name=f"sideband pings {self._link}")
        try:
            await asyncio.wait({up, down, alive}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down, alive):
                task.cancel()
            await asyncio.gather(up, down, alive, return_exceptions=True)
            self._routes.close_link(self._link)
            # the holder lets go; if it closed the link itself (not this worker's synthetic close of an
            # inbox that overflowed), the leave matches no link of its own and it ignores it
            await self._leave()
            with contextlib.suppress(Exception):
                await websocket.close(*self._close)

    async def _leave(self) -> None:
        async with best_effort(f"closing relayed sideband {self._link}"):
            await self._routes.publish(self._holder, {"op": "leave", "link": self._link})

    async def _up(self, websocket: WebSocket) -> None:
        """Client frames to the holder, in order."""
        while True:
            try:
                message = await websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            frame: Envelope = {"op": "frame", "link": self._link}
            if message.get("text") is not None:
                frame["text"] = message["text"]
            else:
                frame["bytes"] = base64.b64encode(message.get("bytes") or b"").decode()
            if not await self._reach(frame):
                return

    async def _down(self, websocket: WebSocket) -> None:
        """The holder's events to the client, until the holder closes the link."""
        message = self._first  # `session.created`, the holder's answer to the join
        while message["op"] == "send":
            await websocket.send_text(message["text"])
            message = await self._inbox.get()
        self._close = (int(message.get("code", 1000)), str(message.get("reason", "")))

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            if not await self._reach({"op": "ping", "link": self._link}):
                return

    async def _reach(self, message: Envelope) -> bool:
        """Publish to the holder; False (and the close code set) once the holder or Redis is gone."""
        try:
            if await self._routes.publish(self._holder, message):
                return True
            self._close = (1011, "the worker holding the call is gone")
        except RedisError:
            self._close = (1011, "the shared state store is unreachable")
        return False
