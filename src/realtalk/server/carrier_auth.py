"""Who may open a phone call: requests a carrier signed, or (for local testing only) anyone.

Twilio signs each webhook and the stream's WebSocket upgrade with `X-Twilio-Signature`: base64 of the
HMAC-SHA1, keyed with the account's auth token, of the full URL Twilio requested followed by each POST
parameter's name and value, sorted by name (a WebSocket upgrade has none). Telnyx presents its streaming
auth token in the `x-telnyx-streaming-auth-token` header. A server with no secret for a carrier refuses
its requests unless `--allow-unsigned-phone-streams` says to take them unsigned.

Behind a TLS proxy or tunnel the URL Twilio signed is the public one: `--public-url` says what it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from starlette.datastructures import URL

from realtalk.config import Settings
from realtalk.protocol.errors import ProtocolError

UNSIGNED_HINT = "or start realtalk with --allow-unsigned-phone-streams, for local testing only"


class Unsigned(ProtocolError):
    """A phone request no carrier signed: answered 403."""


def public_url(settings: Settings, url: URL, websocket: bool = False) -> str:
    """`url` as the carrier reached it: on `--public-url` when set (behind a proxy), else as it arrived."""
    base = f"{url.scheme}://{url.netloc}" if settings.public_url is None else settings.public_url.rstrip("/")
    if websocket:
        base = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return base + url.path + (f"?{url.query}" if url.query else "")


def twilio_signature(token: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def require_twilio(settings: Settings, url: str, params: Iterable[tuple[str, str]], signature: str | None) -> None:
    """Raise `Unsigned` unless Twilio signed this request (or unsigned requests are allowed)."""
    token = settings.twilio_auth_token
    if token is None:
        if not settings.allow_unsigned_phone_streams:
            raise Unsigned(
                f"Twilio requests are refused: set --twilio-auth-token to check their signatures, {UNSIGNED_HINT}.",
                code="phone_not_configured",
            )
        return
    if signature is None:
        raise Unsigned("Missing X-Twilio-Signature.", code="missing_signature")
    if not hmac.compare_digest(twilio_signature(token, url, params).encode(), signature.encode()):
        raise Unsigned(
            f"X-Twilio-Signature does not match {url[:120]}; behind a proxy, --public-url must be the URL "
            "Twilio calls.",
            code="invalid_signature",
        )


def require_telnyx(settings: Settings, presented: str | None) -> None:
    """Raise `Unsigned` unless the stream presents the Telnyx streaming auth token (or unsigned is allowed)."""
    token = settings.telnyx_stream_token
    if token is None:
        if not settings.allow_unsigned_phone_streams:
            raise Unsigned(
                f"Telnyx streams are refused: set --telnyx-stream-token to the streaming auth token, {UNSIGNED_HINT}.",
                code="phone_not_configured",
            )
        return
    if presented is None or not hmac.compare_digest(token.encode(), presented.encode()):
        raise Unsigned("Missing or wrong x-telnyx-streaming-auth-token.", code="invalid_signature")
