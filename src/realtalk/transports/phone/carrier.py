"""What a carrier's media stream says, in no carrier's words; `Carrier`, the codec of Twilio's model.

Twilio Media Streams set the model the others copy: one WebSocket per call, JSON text messages, a
`start` naming the stream and carrying the call's custom parameters, base64 μ-law `media` both ways,
`mark`s the carrier echoes once the audio before them has played, `clear` to drop what is queued, `dtmf`
and `stop`. One `Carrier` codec, configured with each carrier's `Names`, turns its messages into the
neutral ones below and renders the three the bridge sends; everything else (the call, the player, the
session) is one piece of code for every carrier.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SAMPLE_RATE = 8000  # narrowband telephony: μ-law at 8 kHz, one byte a sample


class BadMessage(ValueError):
    """A message the bridge cannot use; it is logged and ignored, and the call goes on."""


@dataclass(frozen=True)
class StreamStart:
    stream_id: str
    parameters: dict[str, str]  # the custom parameters the call was connected with (`profile`, …)
    headers: list[tuple[str, str]] = field(default_factory=list)  # the carrier's call ids, for the incoming notice


@dataclass(frozen=True)
class CallerAudio:
    ulaw: bytes


@dataclass(frozen=True)
class Digit:
    digit: str


@dataclass(frozen=True)
class MarkPlayed:
    name: str


@dataclass(frozen=True)
class StreamStop:
    pass


Inbound = StreamStart | CallerAudio | Digit | MarkPlayed | StreamStop | None  # None: nothing for the bridge


@dataclass(frozen=True)
class Names:
    """Where a carrier of Twilio's model keeps each thing, in its own spelling."""

    stream_id: str  # in `start` (Twilio `start.streamSid`) or at the top (Telnyx `stream_id`)
    stream_id_in_start: bool
    media_format: str
    sample_rate: str
    encoding: str  # μ-law, as the carrier names it
    custom_parameters: str
    stream_id_out: str | None  # the key naming the stream in what we send, if the carrier wants one


class Carrier:
    """The codec of one carrier of Twilio's model: its messages in, `media` / `mark` / `clear` out."""

    def __init__(self, name: str, names: Names, headers: Callable[[dict[str, Any]], list[tuple[str, str]]]) -> None:
        self.name = name
        self._names = names
        self._headers = headers  # the carrier's call ids (and caller, callee) from its `start`, for the notice

    def parse(self, data: dict[str, Any]) -> Inbound:
        """One decoded JSON message; raises `BadMessage` for one the bridge cannot use."""
        match data.get("event"):
            case "connected" | "error":  # Telnyx's `error` reports a refused command of ours; the call goes on
                return None
            case "start":
                return self._start(data)
            case "media":
                if member(data, "media").get("track", "inbound") != "inbound":
                    return None  # a both-tracks stream also carries what the caller hears
                return CallerAudio(payload(data, "media", "payload"))
            case "dtmf":
                return Digit(text(data, "dtmf", "digit"))
            case "mark":
                return MarkPlayed(text(data, "mark", "name"))
            case "stop":
                return StreamStop()
            case other:
                raise BadMessage(f"unknown event {str(other)[:40]!r}")

    def _start(self, data: dict[str, Any]) -> StreamStart:
        n = self._names
        start = member(data, "start")
        fmt = member(start, n.media_format)
        if fmt.get("encoding") != n.encoding or fmt.get(n.sample_rate) != SAMPLE_RATE:
            raise BadMessage(
                f"the stream carries {fmt.get('encoding')} at {fmt.get(n.sample_rate)} Hz; "
                f"realtalk takes {n.encoding} at {SAMPLE_RATE} Hz"
            )
        stream_id = text(start if n.stream_id_in_start else data, n.stream_id)
        parameters = start.get(n.custom_parameters, {})
        if not isinstance(parameters, dict) or not all(isinstance(v, str) for v in parameters.values()):
            raise BadMessage(f"'start.{n.custom_parameters}' is not an object of strings")
        return StreamStart(stream_id, dict(parameters), self._headers(start))

    def media(self, stream_id: str, ulaw: bytes) -> dict[str, Any]:
        return {"event": "media", **self._stream(stream_id), "media": {"payload": base64.b64encode(ulaw).decode()}}

    def mark(self, stream_id: str, name: str) -> dict[str, Any]:
        return {"event": "mark", **self._stream(stream_id), "mark": {"name": name}}

    def clear(self, stream_id: str) -> dict[str, Any]:
        return {"event": "clear", **self._stream(stream_id)}

    def _stream(self, stream_id: str) -> dict[str, str]:
        key = self._names.stream_id_out
        return {key: stream_id} if key is not None else {}


@dataclass(frozen=True)
class Line:
    """The carrier's end of one stream, as the player uses it: audio, marks and clears go out as messages."""

    carrier: Carrier
    stream_id: str
    send: Callable[[dict[str, Any]], None]

    def media(self, ulaw: bytes) -> None:
        self.send(self.carrier.media(self.stream_id, ulaw))

    def mark(self, name: str) -> None:
        self.send(self.carrier.mark(self.stream_id, name))

    def clear(self) -> None:
        self.send(self.carrier.clear(self.stream_id))


# --- reading carrier messages ----------------------------------------------------------------------------


def member(data: Any, *path: str) -> Any:
    """`data[path[0]][path[1]]…`, or `BadMessage` naming what is missing."""
    for name in path:
        if not isinstance(data, dict) or name not in data:
            raise BadMessage(f"no '{'.'.join(path)}'")
        data = data[name]
    return data


def text(data: Any, *path: str) -> str:
    value = member(data, *path)
    if not isinstance(value, str):
        raise BadMessage(f"'{'.'.join(path)}' is not a string")
    return value


def payload(data: Any, *path: str) -> bytes:
    """The base64 audio at `path`."""
    try:
        return base64.b64decode(text(data, *path), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadMessage(f"'{'.'.join(path)}' is not base64: {exc}") from None
