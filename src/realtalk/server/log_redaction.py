"""No secret reaches a log: query parameters that carry keys are redacted before a line is written.

Browsers cannot set headers, so some clients put a key in the URL (`/v1/realtime?api_key=sk-…`,
`?client_secret=ek_…`). realtalk refuses those, but uvicorn logs every request's path and query
string (HTTP in `uvicorn.access`, WebSocket handshakes in `uvicorn.error`) before anyone can refuse it.
`SecretRedactor` rewrites such lines: a parameter whose name says it is secret, or whose value looks
like a key (`sk-…`, `ek_…`, or one of the server's own API keys), keeps its name and loses its value.
Request header lines that carry credentials (logged by the WebSocket library at debug level) lose their
value, and its frame lines keep only their kind and size: a frame's payload may be audio, or a key.
The server's own keys are also redacted wherever else they appear in a line (those of 8 characters or
more: a shorter one would take ordinary words with it).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import unquote_plus

from websockets.frames import Frame

REDACTED = "[REDACTED]"
_SECRET_NAME = re.compile(r"key|secret|token|passw|auth|credential|signature", re.IGNORECASE)
_SECRET_VALUE = re.compile(r"^(?:sk-|ek_|rk_|bearer\s)", re.IGNORECASE)
_KEY_ANYWHERE = re.compile(r"\b(?:sk-|ek_)[A-Za-z0-9_-]{8,}")
_SECRET_HEADER = re.compile(
    r"authorization|proxy-authorization|cookie|sec-websocket-protocol|x-twilio-signature|telnyx-signature-ed25519",
    re.IGNORECASE,
)
_HEADER_LINES = ("< %s: %s", "> %s: %s")  # how the WebSocket library logs each handshake header
_QUERY = re.compile(r"\?([^\s\"']+)")
_MIN_KEY_ANYWHERE = 8
_LOGGERS = ("uvicorn.access", "uvicorn.error")  # uvicorn's request lines and its WebSocket handshake lines


def redact(text: str, keys: frozenset[str] = frozenset()) -> str:
    """`text` with the secret values of every query string in it, and any key-shaped word, replaced."""
    text = _QUERY.sub(lambda match: "?" + _redact_query(match.group(1), keys), text)
    for key in keys:
        if len(key) >= _MIN_KEY_ANYWHERE:
            text = text.replace(key, REDACTED)
    return _KEY_ANYWHERE.sub(REDACTED, text)


def _redact_query(query: str, keys: frozenset[str]) -> str:
    pairs = []
    for pair in query.split("&"):
        name, has_value, value = pair.partition("=")
        if not has_value:  # `?sk-…`: a bare value
            name, value = "", name
        plain = unquote_plus(value)
        if _SECRET_NAME.search(unquote_plus(name)) or _SECRET_VALUE.match(plain) or plain in keys:
            value = REDACTED
        pairs.append(f"{name}={value}" if has_value else value)
    return "&".join(pairs)


class SecretRedactor(logging.Filter):
    """Rewrites a record's message and string arguments; never drops a record."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        super().__init__()
        self.keys = frozenset(key for key in keys if key)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg, self.keys)
        if isinstance(record.args, tuple):
            if record.msg in _HEADER_LINES and _SECRET_HEADER.fullmatch(str(record.args[0])):
                record.args = (record.args[0], REDACTED)
            record.args = tuple(self._redacted(arg) for arg in record.args)
        return True

    def _redacted(self, arg: object) -> object:
        if isinstance(arg, Frame):
            return f"{arg.opcode.name} [{len(arg.data)} bytes]"
        return redact(arg, self.keys) if isinstance(arg, str) else arg


def redact_server_logs(keys: Iterable[str] = (), handlers: Iterable[logging.Handler] = ()) -> None:
    """Install a `SecretRedactor` on uvicorn's loggers and on `handlers` (once each)."""
    redactor = SecretRedactor(keys)
    for target in [*(logging.getLogger(name) for name in _LOGGERS), *handlers]:
        for old in [f for f in target.filters if isinstance(f, SecretRedactor)]:
            target.removeFilter(old)
        target.addFilter(redactor)
