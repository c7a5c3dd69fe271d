"""What the GA and beta wires spell alike, written once for both codecs.

Both `protocol.ga` and `protocol.beta` import this module and never each other. A shape lives here when it
is identical on both wires (the audio-buffer, item-id and cancel envelopes; errors, rate limits, VAD,
transcription, truncation and argument-delta events), or when it is one idea that differs only by names a
dialect passes in (items by their content-type names, streams by their event names). It also holds the
tools both decoders use: walking a wire object by a table of its known fields into core changes, and
wire-named errors for what is not a core field at all.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypeVar, cast

from pydantic import BaseModel, Field

from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev
from realtalk.protocol import ids
from realtalk.protocol.client_events import ResponseOverrides
from realtalk.protocol.config import SessionConfig, SessionPatch, SessionType, StrictModel, TurnDetection
from realtalk.protocol.errors import PARAM, FieldPath, ProtocolError, path_name, short_repr, validated
from realtalk.protocol.items import Content, ContentType, Item, ItemParam, decode_base64

M = TypeVar("M", bound=BaseModel)
MAX_APPEND_BYTES = 15 * 1024 * 1024  # OpenAI's documented limit for one input_audio_buffer.append

# --- errors in wire names ----------------------------------------------------------------------------
#
# A codec names a problem by a core path (`path`) when the field is one the core has: the dialect's
# `param()` then spells it. Structural keys the core has no field for (an unknown key, `session.prompt`)
# are named as they stand on the wire (`param`).


def unknown(*, param: str | None = None, path: FieldPath | None = None) -> ProtocolError:
    return ProtocolError(f"Unknown parameter: {PARAM}.", code="unknown_parameter", param=param, path=path)


def refused(why: str, *, param: str | None = None, path: FieldPath | None = None) -> ProtocolError:
    """A field realtalk understands but cannot honour: refused by name, never silently dropped."""
    return ProtocolError(f"{PARAM} is not supported: {why}.", code="unsupported_parameter", param=param, path=path)


def not_one_of(
    value: Any, choices: Iterable[Any], *, param: str | None = None, path: FieldPath | None = None
) -> ProtocolError:
    supported = ", ".join(short_repr(choice) for choice in choices)
    return ProtocolError(
        f"Invalid value for {PARAM}: {short_repr(value)}. Supported values are: {supported}.",
        code="invalid_value",
        param=param,
        path=path,
    )


def renamed(path: FieldPath, renames: Mapping[FieldPath, FieldPath]) -> FieldPath:
    """`path` with its longest prefix found in `renames` replaced: a core path in a dialect's structure."""
    for size in range(len(path), 0, -1):
        wire = renames.get(path[:size])
        if wire is not None:
            return (*wire, *path[size:])
    return path


def expect_object(value: Any, where: FieldPath) -> dict[str, Any]:
    if not isinstance(value, dict):
        param = path_name(where)
        raise ProtocolError(f"Invalid type for {PARAM}: expected an object.", code="invalid_type", param=param)
    return value


def wire_validated(model: type[M], data: Any, where: FieldPath = ()) -> M:
    """Validate a shape that exists only on the wire (an envelope, a secret's lifetime), naming its fields as given.

    Its field paths are wire paths, not core ones, so they are rendered now rather than by a dialect's `param()`.
    """
    try:
        return validated(model, data, where)
    except ProtocolError as exc:
        message, param = exc.rendered()
        raise ProtocolError(message, code=exc.code, param=param, type=exc.type) from None


def session_type(session: Mapping[str, Any], where: FieldPath, default: SessionType | None = None) -> SessionType:
    """`session.type`: required in GA (no default), optional in beta."""
    kind = session.get("type", default)
    param = path_name((*where, "type"))
    if kind is None:
        raise ProtocolError(f"Missing required parameter: {PARAM}.", code="missing_required_parameter", param=param)
    if kind in ("realtime", "transcription"):
        return cast(SessionType, kind)
    raise not_one_of(kind, ("realtime", "transcription"), param=param)


# --- wire objects → core changes ---------------------------------------------------------------------

Convert = Callable[[Any, FieldPath], Any]
"""Turns a wire value into the core's; gets the core path it lands on, to name any problem by it."""


def same(value: Any, at: FieldPath) -> Any:
    return value


@dataclass(frozen=True)
class To:
    """A wire field that sets one core field (`path`, relative to the object's root), converted on the way."""

    path: FieldPath
    convert: Convert = same


@dataclass(frozen=True)
class Refused:
    """A wire field realtalk cannot honour: null is accepted (and means nothing), anything else is refused."""

    why: str


Spec: TypeAlias = "To | Refused | Mapping[str, Spec]"
Fields: TypeAlias = Mapping[str, Spec]


def changes(obj: Any, fields: Fields, where: FieldPath, root: FieldPath) -> dict[FieldPath, Any]:
    """Core changes from a wire object whose known keys are `fields` (a nested table is a nested object).

    `where` is the object's wire path (for naming unknown keys); `root` the core path its fields hang from.
    """
    out: dict[FieldPath, Any] = {}
    for key, value in expect_object(obj, where).items():
        spec = fields.get(key)
        at = (*where, key)
        if spec is None:
            raise unknown(param=path_name(at))
        if isinstance(spec, To):
            out[spec.path] = spec.convert(value, (*root, *spec.path))
        elif isinstance(spec, Refused):
            if value is not None:
                raise refused(spec.why, param=path_name(at))
        else:
            out.update(changes(value, spec, at, root))
    return out


def without_type(session: dict[str, Any]) -> dict[str, Any]:
    """The session's settings, `type` aside (it chooses the table they are read by)."""
    return {key: value for key, value in session.items() if key != "type"}


def only_keys(allowed: Iterable[str]) -> Convert:
    """An object the wire passes whole to the core, but with fewer knobs than the core has."""
    known = frozenset(allowed)

    def check(value: Any, at: FieldPath) -> Any:
        for key in value if isinstance(value, dict) else ():
            if key not in known:
                raise unknown(path=(*at, key))
        return value

    return check


def _overrides(response: Any, fields: Fields) -> ResponseOverrides:
    """`response.create`'s `response` (absent or null: no overrides), judged by the core."""
    found = changes({} if response is None else response, fields, ("response",), ("response",))
    return validated(ResponseOverrides, {str(path[0]): value for path, value in found.items()}, ("response",))


def minted(defaults: SessionConfig, patch: SessionPatch) -> SessionConfig:
    """A new session of the patch's type (REST minting): the server's defaults, the client's settings over them."""
    return defaults.patched(SessionPatch(patch.type, {("type",): patch.type, **patch.changes}))


class SecretLifetime(StrictModel):
    """How long a minted client secret lives (`expires_after`, or beta transcription's `expires_at`)."""

    anchor: Literal["created_at"] = "created_at"
    seconds: int = Field(60, ge=10, le=7200)


# --- items in ----------------------------------------------------------------------------------------

ItemDecoder = Callable[[Any, FieldPath], ItemParam]


def item_param(value: Any, at: FieldPath, content_types: Mapping[str, ContentType]) -> ItemParam:
    """A wire item as the core's `ItemParam`: content types by `content_types` (wire → core), audio decoded.

    Inside an item both wires use the core's field names, so `at` names a problem in either dialect.
    """
    item = expect_object(value, at)
    content = item.get("content")
    if isinstance(content, list):
        parts = [_content_part(part, (*at, "content", index), content_types) for index, part in enumerate(content)]
        item = {**item, "content": parts}
    return validated(ItemParam, item, at)


def _content_part(part: Any, at: FieldPath, content_types: Mapping[str, ContentType]) -> Any:
    if not isinstance(part, dict):
        return part  # the core names the wrong type
    out = dict(part)
    kind = part.get("type")
    if isinstance(kind, str):  # anything else is the core's to name
        if kind not in content_types:
            raise not_one_of(kind, content_types, path=(*at, "type"))
        out["type"] = content_types[kind]
    if isinstance(part.get("audio"), str):
        out["audio"] = decode_base64(part["audio"], path_name((*at, "audio")))
    return out


def input_items(decode: ItemDecoder) -> Convert:
    """`response.create`'s `input`: each item decoded in its dialect (a non-list is left to the core)."""

    def convert(value: Any, at: FieldPath) -> Any:
        if not isinstance(value, list):
            return value
        return [decode(item, (*at, index)) for index, item in enumerate(value)]

    return convert


# --- client events -----------------------------------------------------------------------------------

Decoder = Callable[[dict[str, Any]], ce.ClientEvent]


class _Envelope(StrictModel):
    type: str
    event_id: str | None = Field(None, max_length=512)


class _Append(_Envelope):
    audio: str


class _ItemId(_Envelope):
    item_id: str


class _Truncate(_ItemId):
    content_index: int = Field(ge=0)
    audio_end_ms: int = Field(ge=0)


class _Cancel(_Envelope):
    response_id: str | None = None


class _SessionUpdate(_Envelope):
    session: Any


class _ItemCreate(_Envelope):
    item: Any
    previous_item_id: str | None = None


class _ResponseCreate(_Envelope):
    response: Any = None


def _append(data: dict[str, Any]) -> ce.AppendInputAudio:
    event = wire_validated(_Append, data)
    audio = decode_base64(event.audio, "audio")
    if len(audio) > MAX_APPEND_BYTES:
        raise ProtocolError(
            f"Audio of {len(audio)} bytes exceeds the limit of {MAX_APPEND_BYTES} bytes per append.",
            code="audio_too_large",
            param="audio",
        )
    return ce.AppendInputAudio(event.event_id, audio)


def _truncate(data: dict[str, Any]) -> ce.TruncateItem:
    event = wire_validated(_Truncate, data)
    return ce.TruncateItem(event.event_id, event.item_id, event.content_index, event.audio_end_ms)


def _event_id(data: dict[str, Any]) -> str | None:
    return wire_validated(_Envelope, data).event_id


def _item_id(data: dict[str, Any]) -> tuple[str | None, str]:
    event = wire_validated(_ItemId, data)
    return event.event_id, event.item_id


def _cancel(data: dict[str, Any]) -> ce.CancelResponse:
    event = wire_validated(_Cancel, data)
    return ce.CancelResponse(event.event_id, event.response_id)


SHARED_DECODERS: dict[str, Decoder] = {
    "input_audio_buffer.append": _append,
    "input_audio_buffer.commit": lambda data: ce.CommitInputAudio(_event_id(data)),
    "input_audio_buffer.clear": lambda data: ce.ClearInputAudio(_event_id(data)),
    "output_audio_buffer.clear": lambda data: ce.ClearOutputAudio(_event_id(data)),
    "conversation.item.retrieve": lambda data: ce.RetrieveItem(*_item_id(data)),
    "conversation.item.delete": lambda data: ce.DeleteItem(*_item_id(data)),
    "conversation.item.truncate": _truncate,
    "response.cancel": _cancel,
}


def client_decoders(session: Callable[[Any], SessionPatch], item: ItemDecoder, response: Fields) -> dict[str, Decoder]:
    """A dialect's decoders: its session, items and `response.create` fields inside the envelopes both share."""
    return {
        "session.update": session_update(session),
        "conversation.item.create": _item_create(item),
        "response.create": _response_create(response),
        **SHARED_DECODERS,
    }


def session_update(decode: Callable[[Any], SessionPatch]) -> Decoder:
    """`session.update` (and beta's `transcription_session.update`): the envelope here, the session in a dialect."""

    def decoder(data: dict[str, Any]) -> ce.UpdateSession:
        event = wire_validated(_SessionUpdate, data)
        return ce.UpdateSession(event.event_id, decode(event.session))

    return decoder


def _item_create(decode: ItemDecoder) -> Decoder:
    def decoder(data: dict[str, Any]) -> ce.CreateItem:
        event = wire_validated(_ItemCreate, data)
        return ce.CreateItem(event.event_id, decode(event.item, ("item",)), event.previous_item_id)

    return decoder


def _response_create(fields: Fields) -> Decoder:
    def decoder(data: dict[str, Any]) -> ce.CreateResponse:
        event = wire_validated(_ResponseCreate, data)
        return ce.CreateResponse(event.event_id, _overrides(event.response, fields))

    return decoder


def decode_event(data: dict[str, Any], decoders: Mapping[str, Decoder]) -> ce.ClientEvent:
    """Dispatch a client event by its `type` to the dialect's decoder for it."""
    kind = data.get("type")
    if kind is None:
        raise ProtocolError("The 'type' field is missing.", code="invalid_event", param="type")
    if not isinstance(kind, str):
        raise ProtocolError("The 'type' field must be a string.", code="invalid_type", param="type")
    decoder = decoders.get(kind)
    if decoder is None:
        raise not_one_of(kind[:100], decoders, param="type")
    return decoder(data)


# --- server events -----------------------------------------------------------------------------------

Body = dict[str, Any] | list[dict[str, Any]] | None
"""What one server event renders as: one JSON object, several, or none (an event this wire lacks)."""
Render = Callable[[Any], Body]
ContentNames = Mapping[ContentType, str]
"""Core content types a wire spells differently (beta's `text` / `audio`); the rest keep the core's name."""
StreamNames = Mapping[ev.StreamKind, str]
"""Each stream's event name before `.delta` / `.done` (`response.output_text`, beta `response.text`)."""


UNSTAMPED = {"input_audio_buffer.dtmf_event_received"}  # a SIP-era event OpenAI sends with no `event_id`


def stamped(body: Body) -> list[dict[str, Any]]:
    """The rendered objects, each with a fresh `event_id` (but those OpenAI sends without one)."""
    bodies = [] if body is None else body if isinstance(body, list) else [body]
    return [each if each["type"] in UNSTAMPED else {"event_id": ids.event_id(), **each} for each in bodies]


def plain(value: Any) -> Any:
    """A core model as JSON-ready data; a plain value (or None) as it is."""
    return value.model_dump() if isinstance(value, BaseModel) else value


_SEMANTIC_KNOBS = {"type", "eagerness", "create_response", "interrupt_response"}


def turn_detection_object(td: TurnDetection | None, *, idle_timeout: bool) -> dict[str, Any] | None:
    """Turn detection as a realtime session shows it; only GA has `idle_timeout_ms`."""
    if td is None:
        return None
    if td.type == "semantic_vad":
        return td.model_dump(include=_SEMANTIC_KNOBS)
    return td.model_dump(exclude={"eagerness"} if idle_timeout else {"eagerness", "idle_timeout_ms"})


def item_object(item: Item, names: ContentNames, *, with_audio: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "object": "realtime.item", "type": item.type, "status": item.status}
    if item.type == "message":
        out["role"] = item.role
        out["content"] = [_content_object(part, names, with_audio) for part in item.content]
    elif item.type == "function_call":
        out.update(name=item.name, call_id=item.call_id, arguments=item.arguments)
    else:
        out.update(call_id=item.call_id, output=item.output)
    return out


def _content_object(part: Content, names: ContentNames, with_audio: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": names.get(part.type, part.type)}
    if part.type in ("input_text", "output_text"):
        out["text"] = part.text
        return out
    if with_audio and part.audio is not None:
        out["audio"] = base64.b64encode(part.audio).decode()
    out["transcript"] = part.transcript
    return out


def _usage_object(usage: ev.Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "input_token_details": {
            "cached_tokens": 0,
            "text_tokens": usage.input_text_tokens,
            "audio_tokens": usage.input_audio_tokens,
        },
        "output_token_details": {"text_tokens": usage.output_text_tokens, "audio_tokens": usage.output_audio_tokens},
    }


def _status_details(details: ev.StatusDetails | None) -> dict[str, Any] | None:
    if details is None:
        return None
    shown = (("type", details.type), ("reason", details.reason), ("error", details.error))
    return {key: value for key, value in shown if value is not None}


def response_fields(response: ev.Response, names: ContentNames) -> dict[str, Any]:
    """The fields of a response object both wires share; each adds how it names modality, voice and format."""
    return {
        "id": response.id,
        "object": "realtime.response",
        "status": response.status,
        "status_details": _status_details(response.status_details),
        "output": [item_object(item, names) for item in response.output],
        "conversation_id": response.conversation_id,
        "max_output_tokens": response.max_output_tokens,
        "metadata": response.metadata,
        "usage": _usage_object(response.usage),
    }


def _error_event(e: ev.Error, name: Callable[[FieldPath], str]) -> dict[str, Any]:
    """An `error` event, its parameter named once, by the dialect's `name` for a core path."""
    message, param = e.problem().rendered(name)
    return {
        "type": "error",
        "error": {"type": e.type, "code": e.code, "message": message, "param": param, "event_id": e.event_id},
    }


def _logprobs(logprobs: ev.Logprobs | None) -> dict[str, Any]:
    """`include: ["item.input_audio_transcription.logprobs"]`: each token with its UTF-8 bytes."""
    if logprobs is None:
        return {}
    return {"logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in logprobs]}


def _where(e: ev.ContentDelta | ev.ContentDone | ev.ContentPartAdded | ev.ContentPartDone) -> dict[str, Any]:
    return {
        "response_id": e.response_id,
        "item_id": e.item_id,
        "output_index": e.output_index,
        "content_index": e.content_index,
    }


def _part(kind: str, text: str) -> dict[str, Any]:
    return {"type": "text", "text": text} if kind == "text" else {"type": "audio", "transcript": text}


def arguments_done(e: ev.FunctionArgumentsDone) -> dict[str, Any]:
    """`response.function_call_arguments.done` as beta has it (GA adds the function's `name`)."""
    return {
        "type": "response.function_call_arguments.done",
        "response_id": e.response_id,
        "item_id": e.item_id,
        "output_index": e.output_index,
        "call_id": e.call_id,
        "arguments": e.arguments,
    }


SHARED_ENCODERS: dict[type[Any], Render] = {
    ev.ConversationCreated: lambda e: {
        "type": "conversation.created",
        "conversation": {"id": e.conversation_id, "object": "realtime.conversation"},
    },
    ev.ItemTruncated: lambda e: {
        "type": "conversation.item.truncated",
        "item_id": e.item_id,
        "content_index": e.content_index,
        "audio_end_ms": e.audio_end_ms,
    },
    ev.ItemDeleted: lambda e: {"type": "conversation.item.deleted", "item_id": e.item_id},
    ev.OutputAudioBuffer: lambda e: {"type": f"output_audio_buffer.{e.state}", "response_id": e.response_id},
    ev.InputAudioCommitted: lambda e: {
        "type": "input_audio_buffer.committed",
        "previous_item_id": e.previous_item_id,
        "item_id": e.item_id,
    },
    ev.InputAudioCleared: lambda e: {"type": "input_audio_buffer.cleared"},
    ev.SpeechStarted: lambda e: {
        "type": "input_audio_buffer.speech_started",
        "audio_start_ms": e.audio_start_ms,
        "item_id": e.item_id,
    },
    ev.SpeechStopped: lambda e: {
        "type": "input_audio_buffer.speech_stopped",
        "audio_end_ms": e.audio_end_ms,
        "item_id": e.item_id,
    },
    ev.TranscriptionDelta: lambda e: {
        "type": "conversation.item.input_audio_transcription.delta",
        "item_id": e.item_id,
        "content_index": e.content_index,
        "delta": e.delta,
        **_logprobs(e.logprobs),
    },
    ev.TranscriptionCompleted: lambda e: {
        "type": "conversation.item.input_audio_transcription.completed",
        "item_id": e.item_id,
        "content_index": e.content_index,
        "transcript": e.transcript,
        "usage": {"type": "duration", "seconds": e.audio_seconds},
        **_logprobs(e.logprobs),
    },
    ev.TranscriptionFailed: lambda e: {
        "type": "conversation.item.input_audio_transcription.failed",
        "item_id": e.item_id,
        "content_index": e.content_index,
        "error": {"type": "transcription_error", "code": e.code, "message": e.message, "param": None},
    },
    ev.RateLimitsUpdated: lambda e: {
        "type": "rate_limits.updated",
        "rate_limits": [
            {"name": r.name, "limit": r.limit, "remaining": r.remaining, "reset_seconds": r.reset_seconds}
            for r in e.rate_limits
        ],
    },
    ev.ContentPartAdded: lambda e: {"type": "response.content_part.added", **_where(e), "part": _part(e.part_type, "")},
    ev.ContentPartDone: lambda e: {
        "type": "response.content_part.done",
        **_where(e),
        "part": _part(e.part_type, e.text),
    },
    ev.FunctionArgumentsDelta: lambda e: {
        "type": "response.function_call_arguments.delta",
        "response_id": e.response_id,
        "item_id": e.item_id,
        "output_index": e.output_index,
        "call_id": e.call_id,
        "delta": e.delta,
    },
}


def _object_encoders(
    names: ContentNames, response_object: Callable[[ev.Response], dict[str, Any]]
) -> dict[type[Any], Render]:
    """The events that carry an item or a response, in a wire's content names and response shape."""
    return {
        ev.ItemRetrieved: lambda e: {
            "type": "conversation.item.retrieved",
            "item": item_object(e.item, names, with_audio=True),
        },
        ev.OutputItemAdded: lambda e: {
            "type": "response.output_item.added",
            "response_id": e.response_id,
            "output_index": e.output_index,
            "item": item_object(e.item, names),
        },
        ev.OutputItemDone: lambda e: {
            "type": "response.output_item.done",
            "response_id": e.response_id,
            "output_index": e.output_index,
            "item": item_object(e.item, names),
        },
        ev.ResponseCreated: lambda e: {"type": "response.created", "response": response_object(e.response)},
        ev.ResponseDone: lambda e: {"type": "response.done", "response": response_object(e.response)},
    }


def _stream_encoders(streams: StreamNames) -> dict[type[Any], Render]:
    """Streamed text, transcript and audio: the same bodies under each wire's event names."""

    def delta(e: ev.ContentDelta) -> dict[str, Any]:
        chunk = base64.b64encode(e.delta).decode() if isinstance(e.delta, bytes) else e.delta
        return {"type": f"{streams[e.kind]}.delta", **_where(e), "delta": chunk}

    def done(e: ev.ContentDone) -> dict[str, Any]:
        out = {"type": f"{streams[e.kind]}.done", **_where(e)}
        if e.kind != "audio":
            out["text" if e.kind == "text" else "transcript"] = e.text
        return out

    return {ev.ContentDelta: delta, ev.ContentDone: done}


SessionShown = Callable[[ev.SessionInfo], tuple[str, dict[str, Any]]]
"""A session as a wire shows it: the prefix of its events (`session`, beta's `transcription_session`) and object."""


def server_encoders(
    *,
    content: ContentNames,
    streams: StreamNames,
    session: SessionShown,
    response_object: Callable[[ev.Response], dict[str, Any]],
    own: Mapping[type[Any], Render],
) -> dict[type[Any], Render]:
    """A dialect's renderings: the shared events, those in its names and shapes, and its `own` (an `Error` aside)."""

    def session_event(name: str) -> Render:
        def render(e: ev.SessionCreated | ev.SessionUpdated) -> dict[str, Any]:
            prefix, shown = session(e.session)
            return {"type": f"{prefix}.{name}", "session": shown}

        return render

    return {
        **SHARED_ENCODERS,
        **_object_encoders(content, response_object),
        **_stream_encoders(streams),
        ev.SessionCreated: session_event("created"),
        ev.SessionUpdated: session_event("updated"),
        **own,
    }


class Codec:
    """One dialect's `Dialect`, made of its parts; GA and beta subclass it, each with its own parts.

    An `error` is rendered here for every dialect, its parameter named once, by the dialect's `param`.
    """

    def __init__(
        self,
        name: str,
        decoders: Mapping[str, Decoder],
        encoders: Mapping[type[Any], Render],
        param: Callable[[FieldPath], str],
        session_object: Callable[[ev.SessionInfo], dict[str, Any]],
    ) -> None:
        self.name = name
        self._decoders = decoders
        self._encoders = encoders
        self._param = param
        self._session_object = session_object

    def decode(self, data: dict[str, Any]) -> ce.ClientEvent:
        return decode_event(data, self._decoders)

    def encode(self, event: ev.ServerEvent) -> list[dict[str, Any]]:
        if isinstance(event, ev.Error):
            return stamped(_error_event(event, self._param))
        return stamped(self._encoders[type(event)](event))

    def param(self, path: FieldPath) -> str:
        return self._param(path)

    def session_object(self, info: ev.SessionInfo) -> dict[str, Any]:
        return self._session_object(info)
