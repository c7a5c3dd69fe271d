"""`create_app`: the FastAPI application with every route realtalk serves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from opentelemetry.trace import TracerProvider
from starlette.exceptions import HTTPException

from realtalk import __version__
from realtalk.clock import Clock, SystemClock
from realtalk.config import Settings
from realtalk.engines.registry import Engines, build_engines
from realtalk.observability.app_observability import AppObservability
from realtalk.observability.metrics import Transport
from realtalk.protocol import events as ev
from realtalk.protocol import ids
from realtalk.protocol.beta import BetaDialect
from realtalk.protocol.beta import rest as beta_rest
from realtalk.protocol.config import SessionConfig
from realtalk.protocol.errors import FieldPath, ProtocolError
from realtalk.protocol.ga import GADialect
from realtalk.protocol.ga import rest as ga_rest
from realtalk.protocol.wire import Dialect
from realtalk.server.auth import Authenticator, bearer_token, subprotocol_token
from realtalk.server.body_limits import BodyLimits
from realtalk.server.call_webhook import CallWebhook
from realtalk.server.calls import CallRegistry, add_call_routes
from realtalk.server.drain import Drain, DrainGate
from realtalk.server.errors import InternalErrors, ServerBusy, error_response, protocol_error_response, refusal_status
from realtalk.server.errors import deny_websocket as _deny
from realtalk.server.json_body import json_object
from realtalk.server.openai_api import add_openai_routes
from realtalk.server.phone_profiles import PhoneProfiles
from realtalk.server.playground import add_playground_routes
from realtalk.server.readiness import ReadinessCheck, readiness
from realtalk.server.secrets import SecretStore, StoredSecret
from realtalk.server.session_defaults import initial_config, session_defaults
from realtalk.server.sessions import SessionRegistry
from realtalk.server.shared.call_relay import RemoteSideband
from realtalk.server.shared.state import shared_state
from realtalk.server.telephony import add_telephony_routes
from realtalk.session.session import RealtimeSession, SessionLimits
from realtalk.session.speculation import SpeculationStats
from realtalk.transports.webrtc.ice import IceSettings, offer_host_addresses
from realtalk.transports.websocket import WebSocketTransport

log = logging.getLogger(__name__)
BETA_SUBPROTOCOL = "openai-beta.realtime-v1"


def create_app(
    settings: Settings,
    *,
    engines: Engines | None = None,
    clock: Clock | None = None,
    secrets: SecretStore | None = None,
    tracer_provider: TracerProvider | None = None,
    engines_warm: bool = False,
) -> FastAPI:
    """The app; `tracer_provider` receives the sessions' traces (default: the OTLP endpoint's, if one is set);
    `engines_warm` says whoever built the app ran the engines once already (`realtalk serve` and each
    worker warm them before listening). It is fixed for the app's life: `/readyz` reports it, never waits
    for it, so an app built without it is never ready."""
    clock = clock or SystemClock()
    observability = AppObservability.create(settings, tracer_provider)
    engines = observability.engines(engines or build_engines(settings.engine_choice()))
    shared = shared_state(settings, clock)  # in memory, or in Redis with --redis-url
    auth = Authenticator(settings.api_key, observability.secrets(secrets or shared.secrets))
    registry = SessionRegistry(settings.max_connections, settings.max_sessions_per_key, shared.leases)
    speculation = SpeculationStats() if settings.speculate else None
    limits = SessionLimits(
        max_session_seconds=settings.max_session_minutes * 60,
        max_conversation_items=settings.max_conversation_items,
        max_audio_bytes=settings.max_session_audio_bytes,
    )
    calls = CallRegistry(shared.routes)
    ice = IceSettings(settings.ice_servers, settings.ice_username, settings.ice_credential, settings.webrtc_host_ip)
    offer_host_addresses(ice.host_addresses)
    profiles = PhoneProfiles(settings)  # a bad profile file stops the server here, not on a caller's line
    webhook = CallWebhook(settings.call_webhook)
    drain = Drain(settings.drain_seconds, registry, calls)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        shared.start(calls.get)
        drain.on_signals()
        yield
        await drain.stop()
        await calls.close()
        await webhook.close()
        await shared.close()
        observability.shutdown()

    app = FastAPI(title="realtalk", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan)
    # inside CORS (added first = innermost), so a browser app can read a 500, 413 or 408 too
    app.add_middleware(InternalErrors)
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout)
    app.add_middleware(DrainGate, drain=drain)
    app.add_middleware(
        CORSMiddleware,  # browser apps on their own origin call /calls and /client_secrets as they call OpenAI
        allow_origins=settings.cors_origin,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["Location"],  # the call id, which a WebRTC client reads from the 201
    )
    observability.install(app)
    app.state.settings = settings
    app.state.engines = engines
    app.state.sessions = registry
    app.state.calls = calls
    app.state.auth = auth
    app.state.shared = shared
    app.state.drain = drain

    async def engines_ready() -> str | None:
        return None if engines_warm else "engines: not warmed up yet"

    async def not_draining() -> str | None:
        return "draining: the server is shutting down" if drain.draining else None

    async def shared_state_reachable() -> str | None:
        return None if await shared.reachable() else "shared state: Redis is unreachable"

    app.state.readiness = [engines_ready, not_draining, shared_state_reachable]  # one async callable each

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return error_response(exc.status_code, str(exc.detail), code=code)

    @app.exception_handler(ProtocolError)
    async def _protocol_error(request: Request, exc: ProtocolError) -> JSONResponse:
        return protocol_error_response(exc, refusal_status(exc))

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        stats = {"speculation": speculation.as_dict()} if speculation is not None else {}
        return {
            "status": "ok",
            "version": __version__,
            "pid": os.getpid(),  # which worker answered, under `--workers`
            "sessions": len(registry),
            "calls": len(calls),
            "tasks": len(asyncio.all_tasks()),  # every task of the event loop: one left per closed session is a leak
            **stats,
        }

    @app.get("/readyz")
    async def readyz() -> Response:
        checks: list[ReadinessCheck] = app.state.readiness
        return await readiness(checks)

    async def mint(
        request: Request,
        decode: Callable[[dict[str, Any], SessionConfig], tuple[SessionConfig, int]],
        render: Callable[[ev.SessionInfo, str], dict[str, Any]],
        name: Callable[[FieldPath], str],
    ) -> Response:
        """Store a secret that opens sessions as the body asks (in its dialect); answer in that dialect."""
        principal = auth.require_api_key(bearer_token(request.headers))
        body = await json_object(request)
        try:
            config, seconds = decode(body, session_defaults(settings))
        except ProtocolError as exc:
            return protocol_error_response(exc, 400, name=name)
        await shared.rate.charge(principal.key_id)
        secret = ids.ephemeral_key()
        expires_at = int(clock.now()) + seconds
        await auth.secrets.put(secret, StoredSecret(expires_at, config.model_dump(mode="json"), principal.key_id))
        return JSONResponse(render(ev.SessionInfo(ids.session_id(), expires_at, config), secret))

    @app.post("/v1/realtime/sessions")
    async def create_session(request: Request) -> Response:
        return await mint(request, beta_rest.session_request, beta_rest.session_response, beta_rest.body_param)

    @app.post("/v1/realtime/transcription_sessions")
    async def create_transcription_session(request: Request) -> Response:
        return await mint(
            request, beta_rest.transcription_request, beta_rest.transcription_response, beta_rest.body_param
        )

    @app.post("/v1/realtime/client_secrets")
    async def create_client_secret(request: Request) -> Response:
        return await mint(request, ga_rest.client_secret_request, ga_rest.client_secret_response, ga_rest.param)

    def new_session(config: SessionConfig, transport: Transport, dialect: str) -> RealtimeSession:
        return RealtimeSession(
            config=config,
            engines=engines,
            clock=clock,
            limits=limits,
            speculation=speculation,
            observer=observability.observer(transport, dialect),
        )

    add_openai_routes(app, engines, auth, settings)
    add_playground_routes(app, settings)
    add_call_routes(
        app,
        settings=settings,
        new_session=new_session,
        auth=auth,
        sessions=registry,
        calls=calls,
        rate=shared.rate,
        ice=ice,
    )
    add_telephony_routes(
        app,
        settings=settings,
        new_session=new_session,
        sessions=registry,
        calls=calls,
        profiles=profiles,
        webhook=webhook,
    )

    @app.websocket("/v1/realtime")
    async def realtime(websocket: WebSocket) -> None:
        offered = list(websocket.scope.get("subprotocols", []))
        token = bearer_token(websocket.headers) or subprotocol_token(offered)
        if "call_id" in websocket.query_params:
            await sideband(websocket, websocket.query_params["call_id"], token, offered)
            return
        try:
            principal = await auth.for_session(token)
            config = initial_config(principal, websocket.query_params, settings)
            if registry.full():
                raise ServerBusy()
        except ProtocolError as exc:
            await _deny(websocket, exc, refusal_status(exc))
            return
        dialect = select_dialect(websocket.headers, offered)
        session = new_session(config, "websocket", dialect.name)
        try:
            await shared.rate.charge(principal.key_id)
            await registry.add(session, principal.key_id)
        except ProtocolError as exc:
            await _deny(websocket, exc, refusal_status(exc))
            return
        try:
            await websocket.accept(subprotocol="realtime" if "realtime" in offered else None)
            transport = WebSocketTransport(websocket, dialect, settings.max_event_bytes, settings.event_rate)
            await transport.serve(session, drain.until_closing(session))
        finally:
            await registry.remove(session)

    async def sideband(websocket: WebSocket, call_id: str, token: str | None, offered: list[str]) -> None:
        """A server's WebSocket into a live call: it sees the call's events and may act on its session.

        A call another worker holds is joined through Redis (`shared/call_relay.py`), to the same effect.
        """
        dialect = select_dialect(websocket.headers, offered)
        try:
            auth.require_api_key(token)
            call = await calls.sideband_to(call_id, dialect)
        except ProtocolError as exc:
            await _deny(websocket, exc, refusal_status(exc, 404))
            return
        subprotocol = "realtime" if "realtime" in offered else None
        if isinstance(call, RemoteSideband):
            await call.serve(websocket, subprotocol)
            return
        await websocket.accept(subprotocol=subprotocol)
        transport = WebSocketTransport(websocket, dialect, settings.max_event_bytes, settings.event_rate)
        await transport.join(call.session, call.listen_in, call.ended)

    return app


def select_dialect(headers: Mapping[str, str], subprotocols: list[str]) -> Dialect:
    """Beta when the client asks for it (header or subprotocol), as beta clients do; GA otherwise."""
    if "realtime=v1" in headers.get("openai-beta", "") or BETA_SUBPROTOCOL in subprotocols:
        return BetaDialect()
    return GADialect()
