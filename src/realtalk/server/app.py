"""`create_app`: the FastAPI application with every route realtalk serves."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from realtalk import __version__
from realtalk.clock import Clock, SystemClock
from realtalk.config import Settings
from realtalk.engines.registry import Engines, build_engines
from realtalk.protocol import beta, ga, ids
from realtalk.protocol import events as ev
from realtalk.protocol.beta import BetaDialect
from realtalk.protocol.errors import ProtocolError, validated
from realtalk.protocol.ga import ClientSecretCreateRequest, GADialect
from realtalk.protocol.session_config import (
    SessionConfig,
    SessionCreateRequest,
    TranscriptionSessionConfig,
    TranscriptionSessionCreateRequest,
)
from realtalk.protocol.wire import Dialect
from realtalk.server.auth import Authenticator, AuthError, Principal, bearer_token, subprotocol_token
from realtalk.server.errors import error_response, protocol_error_response
from realtalk.server.openai_api import add_openai_routes
from realtalk.server.secrets import InMemorySecretStore, SecretStore, StoredSecret
from realtalk.server.sessions import SessionRegistry
from realtalk.session.response import Emit
from realtalk.session.session import RealtimeSession, SessionLimits
from realtalk.transports.websocket import WebSocketTransport

log = logging.getLogger(__name__)
BETA_SUBPROTOCOL = "openai-beta.realtime-v1"


def create_app(
    settings: Settings,
    *,
    engines: Engines | None = None,
    clock: Clock | None = None,
    secrets: SecretStore | None = None,
) -> FastAPI:
    clock = clock or SystemClock()
    engines = engines or build_engines(settings.engine_choice())
    auth = Authenticator(settings.api_key, secrets or InMemorySecretStore(clock))
    registry = SessionRegistry(settings.max_connections)
    limits = SessionLimits(max_session_seconds=settings.max_session_minutes * 60)
    app = FastAPI(title="realtalk", version=__version__, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engines = engines
    app.state.sessions = registry
    app.state.auth = auth

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
        return error_response(exc.status_code, str(exc.detail), code=code)

    @app.exception_handler(ProtocolError)
    async def _protocol_error(request: Request, exc: ProtocolError) -> JSONResponse:
        return protocol_error_response(exc, 401 if isinstance(exc, AuthError) else 400)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "sessions": len(registry)}

    async def mint(seconds: int, config: SessionConfig) -> tuple[str, ev.SessionInfo]:
        """Store a secret that opens sessions starting from `config`; the session as minted is returned too."""
        secret = ids.ephemeral_key()
        expires_at = int(clock.now()) + seconds
        await auth.secrets.put(secret, StoredSecret(expires_at, config.model_dump(mode="json")))
        return secret, ev.SessionInfo(ids.session_id(), expires_at, config)

    @app.post("/v1/realtime/sessions")
    async def create_session(request: Request) -> Response:
        auth.require_api_key(bearer_token(request.headers))
        minted = validated(SessionCreateRequest, _with_defaults(await _json_body(request), settings))
        secret, info = await mint(minted.client_secret.expires_after.seconds, minted.session_config())
        return JSONResponse(
            {**beta.session_object(info), "client_secret": {"value": secret, "expires_at": info.expires_at}}
        )

    @app.post("/v1/realtime/transcription_sessions")
    async def create_transcription_session(request: Request) -> Response:
        auth.require_api_key(bearer_token(request.headers))
        minted = validated(TranscriptionSessionCreateRequest, await _json_body(request))
        settings_shown = minted.session_config()
        secret, info = await mint(
            minted.client_secret.expires_at.seconds, settings_shown.as_session(settings.default_model)
        )
        return JSONResponse(
            {
                "id": info.id,
                "object": "realtime.transcription_session",
                "expires_at": info.expires_at,
                **settings_shown.model_dump(mode="json"),
                "client_secret": {"value": secret, "expires_at": info.expires_at},
            }
        )

    @app.post("/v1/realtime/client_secrets")
    async def create_client_secret(request: Request) -> Response:
        auth.require_api_key(bearer_token(request.headers))
        minted = validated(ClientSecretCreateRequest, await _json_body(request))
        config = ga.session_config(minted.session, defaults=_defaults(settings))
        secret, info = await mint(minted.expires_after.seconds, config)
        return JSONResponse({"value": secret, "expires_at": info.expires_at, "session": ga.session_object(info)})

    add_openai_routes(app, engines, auth, settings)

    @app.websocket("/v1/realtime")
    async def realtime(websocket: WebSocket) -> None:
        offered = list(websocket.scope.get("subprotocols", []))
        token = bearer_token(websocket.headers) or subprotocol_token(offered)
        try:
            principal = await auth.for_session(token)
            config = _initial_config(principal, websocket.query_params, settings)
        except ProtocolError as exc:
            await _deny(websocket, exc, 401 if isinstance(exc, AuthError) else 400)
            return
        if registry.full():
            await _deny(
                websocket,
                ProtocolError(
                    "The server is at its session capacity; try again later.", code="server_busy", type="server_error"
                ),
                503,
            )
            return
        dialect = select_dialect(websocket.headers, offered)
        await websocket.accept(subprotocol="realtime" if "realtime" in offered else None)
        transport = WebSocketTransport(websocket, dialect, settings.max_event_bytes)

        served: list[RealtimeSession] = []

        def make_session(emit: Emit) -> RealtimeSession:
            session = RealtimeSession(config=config, engines=engines, emit=emit, clock=clock, limits=limits)
            registry.add(session)
            served.append(session)
            return session

        try:
            await transport.serve(make_session)
        finally:
            for session in served:
                registry.remove(session)

    return app


def select_dialect(headers: Mapping[str, str], subprotocols: list[str]) -> Dialect:
    """Beta when the client asks for it (header or subprotocol), as beta clients do; GA otherwise."""
    if "realtime=v1" in headers.get("openai-beta", "") or BETA_SUBPROTOCOL in subprotocols:
        return BetaDialect()
    return GADialect()


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"The request body is not valid JSON: {exc}.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ProtocolError("The request body must be a JSON object.", code="invalid_type")
    return data


def _with_defaults(body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return {**_defaults(settings), **body}


def _defaults(settings: Settings) -> dict[str, Any]:
    """The server's configured model and instructions, for whatever the client leaves out."""
    defaults: dict[str, Any] = {"model": settings.default_model}
    if settings.instructions is not None:
        defaults["instructions"] = settings.instructions
    return defaults


def _initial_config(principal: Principal, query: Mapping[str, str], settings: Settings) -> SessionConfig:
    """A minted secret's configuration, else the server defaults for the kind of session the URL asks for."""
    if principal.secret is not None:
        return SessionConfig.model_validate(principal.secret.config)
    intent = query.get("intent")
    if intent == "transcription":
        return TranscriptionSessionConfig().as_session(settings.default_model)
    if intent is not None:
        raise ProtocolError(
            f"Invalid value: '{intent[:40]}'. The only intent is 'transcription'.", code="invalid_value", param="intent"
        )
    model = query.get("model")
    return validated(SessionConfig, {**_defaults(settings), **({"model": model} if model else {})})


async def _deny(websocket: WebSocket, exc: ProtocolError, status: int) -> None:
    """Refuse before the upgrade with an HTTP status and OpenAI's error body (or a close, if unsupported)."""
    try:
        await websocket.send_denial_response(protocol_error_response(exc, status))
    except RuntimeError:
        await websocket.close(code=1008, reason=exc.message[:120])
