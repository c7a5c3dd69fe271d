"""`create_app`: the FastAPI application with every route realtalk serves."""

from __future__ import annotations

import logging
from typing import Any, Literal

import orjson
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from realtalk import __version__
from realtalk.clock import Clock, SystemClock
from realtalk.config import Settings
from realtalk.engines.registry import Engines, build_engines
from realtalk.protocol import ids
from realtalk.protocol.beta import BetaDialect, session_fields
from realtalk.protocol.errors import ProtocolError, validated
from realtalk.protocol.session_config import (
    SessionConfig,
    SessionCreateRequest,
    TranscriptionSessionConfig,
    TranscriptionSessionCreateRequest,
    TurnDetection,
)
from realtalk.protocol.wire import Dialect
from realtalk.server.auth import Authenticator, AuthError, Principal, bearer_token, subprotocol_token
from realtalk.server.errors import error_response, protocol_error_response
from realtalk.server.secrets import InMemorySecretStore, SecretStore, StoredSecret
from realtalk.server.sessions import SessionRegistry
from realtalk.session.response import Emit
from realtalk.session.session import RealtimeSession, SessionLimits
from realtalk.transports.websocket import WebSocketTransport

log = logging.getLogger(__name__)


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

    async def mint(
        kind: Literal["realtime", "transcription"], seconds: int, config: dict[str, Any], shown: dict[str, Any]
    ) -> JSONResponse:
        """Store a secret that opens a session of `kind` with `config`; answer with `shown` and the secret."""
        secret = ids.ephemeral_key()
        expires_at = int(clock.now()) + seconds
        await auth.secrets.put(secret, StoredSecret(expires_at, kind, config))
        obj = "realtime.session" if kind == "realtime" else "realtime.transcription_session"
        return JSONResponse(
            {
                "id": ids.session_id(),
                "object": obj,
                "expires_at": expires_at,
                **shown,
                "client_secret": {"value": secret, "expires_at": expires_at},
            }
        )

    @app.post("/v1/realtime/sessions")
    async def create_session(request: Request) -> Response:
        auth.require_api_key(bearer_token(request.headers))
        minted = validated(SessionCreateRequest, _with_defaults(await _json_body(request), settings))
        config = minted.session_config()
        return await mint(
            "realtime",
            minted.client_secret.expires_after.seconds,
            config.model_dump(mode="json"),
            session_fields(config),
        )

    @app.post("/v1/realtime/transcription_sessions")
    async def create_transcription_session(request: Request) -> Response:
        auth.require_api_key(bearer_token(request.headers))
        minted = validated(TranscriptionSessionCreateRequest, await _json_body(request))
        config = minted.session_config().model_dump(mode="json")
        return await mint("transcription", minted.client_secret.expires_at.seconds, config, config)

    @app.websocket("/v1/realtime")
    async def realtime(websocket: WebSocket) -> None:
        offered = list(websocket.scope.get("subprotocols", []))
        token = bearer_token(websocket.headers) or subprotocol_token(offered)
        try:
            principal = await auth.for_session(token)
            config = _initial_config(principal, websocket.query_params.get("model"), settings)
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


def select_dialect(headers: Any, subprotocols: list[str]) -> Dialect:
    """Beta for every connection until the GA dialect exists (`OpenAI-Beta: realtime=v1` also means beta)."""
    return BetaDialect()


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
    """The server's configured model and instructions apply where the client names none."""
    defaults: dict[str, Any] = {"model": settings.default_model}
    if settings.instructions is not None:
        defaults["instructions"] = settings.instructions
    return {**defaults, **body}


def _initial_config(principal: Principal, model: str | None, settings: Settings) -> SessionConfig:
    """A minted secret's configuration, or the server defaults with the model the URL names."""
    record = principal.secret
    if record is None:
        body = _with_defaults({"model": model} if model else {}, settings)
        return validated(SessionConfig, body)
    if record.kind == "realtime":
        return SessionConfig.model_validate(record.config)
    return _transcription_as_realtime(TranscriptionSessionConfig.model_validate(record.config), settings)


def _transcription_as_realtime(config: TranscriptionSessionConfig, settings: Settings) -> SessionConfig:
    """A transcription secret opens a session that transcribes each turn and never responds."""
    td = config.turn_detection
    turn_detection = (
        None if td is None else TurnDetection(**td.model_dump(), create_response=False, interrupt_response=False)
    )
    return SessionConfig.model_validate(
        {
            "model": settings.default_model,
            "modalities": ["text"],
            "input_audio_format": config.input_audio_format,
            "input_audio_transcription": config.input_audio_transcription.model_dump(),
            "input_audio_noise_reduction": (
                config.input_audio_noise_reduction.model_dump() if config.input_audio_noise_reduction else None
            ),
            "turn_detection": turn_detection.model_dump() if turn_detection else None,
        }
    )


async def _deny(websocket: WebSocket, exc: ProtocolError, status: int) -> None:
    """Refuse before the upgrade with an HTTP status and OpenAI's error body (or a close, if unsupported)."""
    try:
        await websocket.send_denial_response(protocol_error_response(exc, status))
    except RuntimeError:
        await websocket.close(code=1008, reason=exc.message[:120])
