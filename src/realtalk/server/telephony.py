"""Phone calls over HTTP: the carriers' webhooks and media streams, each stream bridged to a session.

    POST /telephony/twilio/voice    Twilio's voice webhook → TwiML `<Connect><Stream>` to the stream below,
                                    the webhook's query (`?profile=…`) and the caller (From, To) passed
                                    through as the stream's custom parameters
    WS   /telephony/twilio/stream   Twilio Media Streams
    WS   /telephony/telnyx/stream   Telnyx media streaming (its `stream_url`, bidirectional rtp, PCMU)

A stream is refused before the upgrade unless its carrier signed it (`carrier_auth.py`). After the
upgrade the carrier's `start` names the profile (`phone_profiles.py`); the call then runs as every call
does (`CallRegistry`, hangup, the sideband), the application is told of it (`call_webhook.py`), and
this handler holds the socket open until the call is over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from xml.sax.saxutils import quoteattr

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import Response
from starlette.websockets import WebSocketDisconnect

from realtalk.config import Settings
from realtalk.protocol import ids
from realtalk.protocol.errors import ProtocolError
from realtalk.server.call_webhook import CallWebhook
from realtalk.server.calls import CallRegistry
from realtalk.server.carrier_auth import Unsigned, public_url, require_telnyx, require_twilio
from realtalk.server.errors import ServerBusy, deny_websocket, error_response, protocol_error_response, refusal_status
from realtalk.server.phone_profiles import PhoneProfiles, UnknownProfile
from realtalk.server.sessions import SessionFactory, SessionRegistry
from realtalk.transports.phone.call import PhoneCall, read_start
from realtalk.transports.phone.carrier import BadMessage, Carrier
from realtalk.transports.phone.telnyx import TELNYX
from realtalk.transports.phone.twilio import TWILIO

log = logging.getLogger(__name__)
START_SECONDS = 10.0  # from the upgrade until the carrier's `start`
TWILIO_STREAM = "/telephony/twilio/stream"


def twiml(stream_url: str, parameters: dict[str, str]) -> str:
    """`<Connect><Stream>`: Twilio connects the call to the stream (bidirectional) until the socket closes."""
    tags = "".join(f"<Parameter name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in parameters.items())
    stream = f"<Stream url={quoteattr(stream_url)}>{tags}</Stream>"
    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Connect>{stream}</Connect></Response>'


def add_telephony_routes(
    app: FastAPI,
    *,
    settings: Settings,
    new_session: SessionFactory,
    sessions: SessionRegistry,
    calls: CallRegistry,
    profiles: PhoneProfiles,
    webhook: CallWebhook,
) -> None:
    @app.post("/telephony/twilio/voice")
    async def twilio_voice(request: Request) -> Response:
        async with request.form(max_files=0, max_fields=200) as form:
            params = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
        url = public_url(settings, request.url)
        try:
            require_twilio(settings, url, params, request.headers.get("x-twilio-signature"))
        except Unsigned as exc:
            log.warning("Twilio webhook refused: %s", exc.message)
            return protocol_error_response(exc, 403)
        custom = dict(request.query_params)
        profile = custom.get("profile")
        if profile is not None and profile not in profiles:
            return error_response(400, f"No phone profile named {profile[:60]!r}.", code="unknown_profile")
        caller = {name: value for name, value in params if name in ("From", "To")}
        stream = public_url(settings, request.url.replace(path=TWILIO_STREAM, query=""), websocket=True)
        return Response(twiml(stream, {**custom, **caller}), media_type="application/xml")

    @app.websocket(TWILIO_STREAM)
    async def twilio_stream(websocket: WebSocket) -> None:
        url = public_url(settings, websocket.url, websocket=True)
        signature = websocket.headers.get("x-twilio-signature")
        await serve_stream(websocket, TWILIO, lambda: require_twilio(settings, url, (), signature))

    @app.websocket("/telephony/telnyx/stream")
    async def telnyx_stream(websocket: WebSocket) -> None:
        token = websocket.headers.get("x-telnyx-streaming-auth-token")
        await serve_stream(websocket, TELNYX, lambda: require_telnyx(settings, token))

    async def serve_stream(websocket: WebSocket, carrier: Carrier, check: Callable[[], None]) -> None:
        try:
            check()
            if sessions.full():
                raise ServerBusy()
        except ProtocolError as exc:
            log.warning("%s stream refused: %s", carrier.name, exc.message)
            await deny_websocket(websocket, exc, 403 if isinstance(exc, Unsigned) else refusal_status(exc))
            return
        await websocket.accept()
        try:
            start = await asyncio.wait_for(read_start(websocket, carrier), START_SECONDS)
            config = profiles.config(start.parameters.get("profile"))
        except WebSocketDisconnect:
            return
        except (TimeoutError, BadMessage, UnknownProfile) as exc:
            reason = str(exc) or f"no 'start' within {START_SECONDS:g} s"
            log.warning("%s stream refused: %s", carrier.name, reason)
            await websocket.close(code=1008, reason=reason[:120])
            return
        session = new_session(config, "phone", "ga")  # a phone line speaks no dialect; its profiles are GA
        await sessions.add(session)  # a carrier's stream has no API key: counted, never refused by a key's cap
        call = PhoneCall(ids.rtc_call_id(), session, websocket, carrier, start, time.monotonic)
        task = await calls.start(call, None, sessions)
        log.info("call %s: a %s stream (%s)", call.id, carrier.name, ", ".join(f"{k}={v}" for k, v in start.headers))
        webhook.incoming(call.id, [*start.headers, *start.parameters.items()])
        await task
