"""WebRTC calls over HTTP: `POST /v1/realtime/calls` (an SDP offer in, the answer out) and call control.

A browser posts its offer with an ephemeral key (the key's session config applies) or an API key; a
server posts a `multipart/form-data` form with the offer and a GA `session` object, with an API key.
The call then lives on its own (`WebRTCCall.run`) until hangup, the peer leaving, or session expiry.
A sideband WebSocket (`/v1/realtime?call_id=…`, `CallRegistry.get`) can listen in and act on it. With
Redis, each call is registered as held by this worker, and a sideband or hangup for it that reaches
another worker is relayed here (`shared/call_relay.py`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from realtalk.config import Settings
from realtalk.protocol import ids
from realtalk.protocol.beta import BetaDialect
from realtalk.protocol.config import SessionConfig
from realtalk.protocol.errors import ProtocolError
from realtalk.protocol.ga import GADialect
from realtalk.protocol.ga import rest as ga_rest
from realtalk.protocol.wire import Dialect
from realtalk.server.auth import Authenticator, AuthError, bearer_token
from realtalk.server.errors import (
    NotFound,
    ServerBusy,
    SharedStateUnavailable,
    error_response,
    protocol_error_response,
)
from realtalk.server.session_defaults import initial_config, session_defaults
from realtalk.server.sessions import SessionFactory, SessionRegistry
from realtalk.server.shared.call_relay import RedisCallRoutes, RemoteCall, RemoteSideband
from realtalk.server.shared.rate_limit import KeyRateLimit
from realtalk.transports.live_call import LiveCall
from realtalk.transports.webrtc.call import WebRTCCall
from realtalk.transports.webrtc.ice import IceSettings
from realtalk.transports.webrtc.sdp import Offer

log = logging.getLogger(__name__)
SIP_ONLY = "accept", "reject", "refer"


Call = LiveCall[Any]  # what the registry, hangup and the sideband hold, whatever carries it (WebRTC, a phone line)


@dataclass
class _Live:
    call: Call
    task: asyncio.Task[None]
    token: str | None  # the ephemeral key that opened it: it may also hang it up


class CallRegistry:
    """The calls this process is serving, by id; each runs in its own task until it ends.

    With `routes` (Redis), each call is also registered for the other workers while it lives.
    """

    def __init__(self, routes: RedisCallRoutes | None = None) -> None:
        self._calls: dict[str, _Live] = {}
        self.routes = routes

    def __len__(self) -> int:
        return len(self._calls)

    def get(self, call_id: str) -> Call | None:
        live = self._calls.get(call_id)
        return live.call if live is not None else None

    def live(self) -> list[Call]:
        return [live.call for live in self._calls.values()]

    def opened_by(self, call_id: str, token: str | None) -> bool:
        live = self._calls.get(call_id)
        return (
            live is not None and token is not None and live.token is not None and hmac.compare_digest(live.token, token)
        )

    async def locate(self, call_id: str) -> Call | RemoteCall:
        """A live call, here or (with Redis) on another worker; `NotFound` otherwise."""
        call: Call | RemoteCall | None = self.get(call_id)
        if call is None and self.routes is not None:
            call = await self.routes.find(call_id)
        if call is None:
            raise NotFound(f"No live call with id '{call_id[:64]}'.", code="call_not_found")
        return call

    async def sideband_to(self, call_id: str, dialect: Dialect) -> Call | RemoteSideband:
        """What a sideband in `dialect` joins: a call held here, or a link to the worker holding it."""
        call = await self.locate(call_id)
        return await call.join(dialect) if isinstance(call, RemoteCall) else call

    async def start(self, call: Call, token: str | None, sessions: SessionRegistry) -> asyncio.Task[None]:
        """Run `call` in its own task (returned) until it ends.

        Its session was counted in `sessions` by the caller (who could still refuse it): it is removed
        from there when the call ends.
        """

        async def serve() -> None:
            try:
                await call.run()
            finally:
                self._calls.pop(call.id, None)
                await sessions.remove(call.session)
                if self.routes is not None:
                    await self.routes.unregister(call.id)

        if self.routes is not None:  # before the call is announced, so any worker finds it at once
            await self.routes.register(call.id, token)
        task = asyncio.create_task(serve(), name=f"call {call.id}")
        self._calls[call.id] = _Live(call, task, token)
        return task

    async def close(self) -> None:
        """Hang up every call and wait until each has freed what it held (server shutdown)."""
        lives = list(self._calls.values())
        for live in lives:
            live.call.end("the server is shutting down")
        await asyncio.gather(*(live.task for live in lives), return_exceptions=True)


def add_call_routes(
    app: FastAPI,
    *,
    settings: Settings,
    new_session: SessionFactory,
    auth: Authenticator,
    sessions: SessionRegistry,
    calls: CallRegistry,
    rate: KeyRateLimit,
    ice: IceSettings,
) -> None:
    async def open_call(config: SessionConfig, offer: Offer, token: str | None, dialect: Dialect) -> Response:
        """Answer the offer with a new call on a new session; 201, the SDP answer and the call's URL."""
        if sessions.full():
            raise ServerBusy()
        owner = (await auth.for_session(token)).key_id  # the key the call counts against (checked already)
        await rate.charge(owner)
        session = new_session(config, "webrtc", dialect.name)
        await sessions.add(session, owner)
        call = WebRTCCall(
            ids.rtc_call_id(), session, dialect, ice, settings.max_event_bytes, time.monotonic, settings.event_rate
        )
        try:
            answer = await call.answer(offer)
        except Exception as exc:
            call.end("the offer was refused" if isinstance(exc, ProtocolError) else f"the answer failed: {exc}")
            await call.run()  # frees the peer connection and the session at once
            await sessions.remove(session)
            if isinstance(exc, ProtocolError):
                raise
            log.exception("call %s: no answer to its offer", call.id)
            return error_response(
                500, f"The server could not answer the offer: {type(exc).__name__}.", type="server_error"
            )
        await calls.start(call, token if token and token.startswith("ek_") else None, sessions)
        location = f"/v1/realtime/calls/{call.id}"
        return Response(answer, status_code=201, media_type="application/sdp", headers={"Location": location})

    @app.post("/v1/realtime/calls")
    async def create_call(request: Request) -> Response:
        token = bearer_token(request.headers)
        try:
            config, offer = await _call_request(request, token, auth, settings)
        except (AuthError, SharedStateUnavailable):
            raise
        except ProtocolError as exc:  # a field of the `session` part is named as GA names it
            return protocol_error_response(exc, 400, name=ga_rest.param)
        return await open_call(config, offer, token, GADialect())

    @app.post("/v1/realtime")
    async def create_beta_call(request: Request) -> Response:
        """Beta-era WebRTC: the offer posted to `/v1/realtime?model=…`; events in the beta dialect."""
        token = bearer_token(request.headers)
        _require_sdp(request)
        principal = await auth.for_session(token)
        config = initial_config(principal, request.query_params, settings)
        return await open_call(config, Offer.parse(await request.body()), token, BetaDialect())

    @app.post("/v1/realtime/calls/{call_id}/hangup")
    async def hangup(call_id: str, request: Request) -> Response:
        call = await calls.locate(call_id)
        token = bearer_token(request.headers)
        opened_by = call.opened_by(token) if isinstance(call, RemoteCall) else calls.opened_by(call_id, token)
        if not opened_by:
            auth.require_api_key(token)
        if isinstance(call, RemoteCall):
            await call.hang_up()
        else:
            call.end("hung up")
        return Response(status_code=200)

    for action in SIP_ONLY:

        async def sip_only(call_id: str, request: Request, action: str = action) -> Response:
            auth.require_api_key(bearer_token(request.headers))
            await calls.locate(call_id)
            return error_response(
                400,
                f"'{action}' applies to incoming SIP calls, and realtalk has no SIP telephony yet. A WebRTC call "
                "is answered when it is created and ends with /hangup.",
                code="unsupported_call_action",
            )

        app.post(f"/v1/realtime/calls/{{call_id}}/{action}")(sip_only)


async def _call_request(
    request: Request, token: str | None, auth: Authenticator, settings: Settings
) -> tuple[SessionConfig, Offer]:
    """The session and offer of either form OpenAI accepts; refusals raise in its error shape."""
    if _content_type(request) == "multipart/form-data":
        auth.require_api_key(token)
        return await _form_request(request, settings)
    _require_sdp(request, " or a multipart/form-data form with the parts 'sdp' and 'session'")
    principal = await auth.for_session(token)
    return initial_config(principal, request.query_params, settings), Offer.parse(await request.body())


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _require_sdp(request: Request, alternative: str = "") -> None:
    kind = _content_type(request)
    if kind != "application/sdp":
        raise ProtocolError(
            f"Unsupported Content-Type '{kind[:60]}': post the SDP offer as application/sdp{alternative}.",
            code="unsupported_content_type",
        )


async def _form_request(request: Request, settings: Settings) -> tuple[SessionConfig, Offer]:
    async with request.form(max_files=2, max_fields=2) as form:
        unknown = sorted(set(form.keys()) - {"sdp", "session"})
        if unknown:
            raise ProtocolError(
                f"Unknown form part '{unknown[0][:40]}': a call takes 'sdp' and 'session'.",
                code="unknown_parameter",
                param=unknown[0][:40],
            )
        sdp = await _part(form.get("sdp"))
        if sdp is None:
            raise ProtocolError("Missing required parameter: 'sdp'.", code="missing_required_parameter", param="sdp")
        session = await _part(form.get("session"))
    defaults = session_defaults(settings)
    if session is None:
        return defaults, Offer.parse(sdp)
    try:
        body: Any = orjson.loads(session)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(
            f"The 'session' part is not valid JSON: {exc}.", code="invalid_json", param="session"
        ) from None
    return ga_rest.call_session(body, defaults), Offer.parse(sdp)


async def _part(value: UploadFile | str | None) -> bytes | str | None:
    if isinstance(value, UploadFile):
        return await value.read()
    return value
