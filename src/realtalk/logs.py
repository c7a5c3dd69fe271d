"""How realtalk writes its log: text lines, or one JSON object per line for a log collector.

Every line logged while a session or a call is being served carries its id (`session_id`, `call_id`):
the transports set them in context variables when a session or call starts, and each task the
session starts inherits them, so a line from a response's task is tagged like one from its reader.
The handler redacts secrets (`log_redaction`) before either formatter sees a record.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

import orjson

from realtalk.server.log_redaction import redact_server_logs

SESSION_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("session_id", default=None)
CALL_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("call_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
LogFormat = Literal["text", "json"]
DENIAL_NOISE = "ASGI callable returned without completing handshake."


class LogContext(logging.Filter):
    """Stamps each record with the session and call it was logged in (None outside any)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.session_id = SESSION_ID.get()
        record.call_id = CALL_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and the ids where known."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("session_id", "call_id"):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


class _DenialNoiseFilter(logging.Filter):
    """Drops the line uvicorn's sans-I/O WebSocket protocol logs after a refusal the app completed with an
    HTTP response: every refused WebSocket would otherwise log it, as if the refusal were a fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DENIAL_NOISE


class _ServerLog(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` installs (and replaces, if called again)."""


_DENIAL_NOISE_FILTER = _DenialNoiseFilter()


def configure_logging(level: str, log_format: LogFormat, keys: Iterable[str] = ()) -> None:
    """One handler on the root logger, for realtalk's lines and uvicorn's alike (uvicorn is told to add none).
    `realtalk serve` calls it, and so does each worker of `--workers N`: whatever it sets holds in both."""
    handler = _ServerLog(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(LogContext())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ServerLog)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.error").addFilter(_DENIAL_NOISE_FILTER)  # once: a logger keeps one of each filter
    redact_server_logs(keys, [handler])
