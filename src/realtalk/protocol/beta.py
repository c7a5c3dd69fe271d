"""The beta dialect (`OpenAI-Beta: realtime=v1`): event names and shapes of `openai.types.beta.realtime`."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field

from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev
from realtalk.protocol import ids
from realtalk.protocol.errors import ProtocolError, validated
from realtalk.protocol.items import Content, Item, ItemParam, decode_base64
from realtalk.protocol.session_config import NamedFunction, SessionConfig, StrictModel, transcription_view


class _Envelope(StrictModel):
    event_id: str | None = Field(None, max_length=512)


class _SessionUpdate(_Envelope):
    type: Literal["session.update"]
    session: dict[str, Any]


class _TranscriptionSessionUpdate(_Envelope):
    type: Literal["transcription_session.update"]
    session: dict[str, Any]


class _Append(_Envelope):
    type: Literal["input_audio_buffer.append"]
    audio: str


class _Bare(_Envelope):
    type: Literal["input_audio_buffer.commit", "input_audio_buffer.clear", "output_audio_buffer.clear"]


class _ItemCreate(_Envelope):
    type: Literal["conversation.item.create"]
    previous_item_id: str | None = None
    item: ItemParam


class _ItemById(_Envelope):
    type: Literal["conversation.item.retrieve", "conversation.item.delete"]
    item_id: str


class _Truncate(_Envelope):
    type: Literal["conversation.item.truncate"]
    item_id: str
    content_index: int = Field(ge=0)
    audio_end_ms: int = Field(ge=0)


class _ResponseCreate(_Envelope):
    type: Literal["response.create"]
    response: ce.ResponseParams = Field(default_factory=ce.ResponseParams)


class _ResponseCancel(_Envelope):
    type: Literal["response.cancel"]
    response_id: str | None = None


_ENVELOPES: dict[str, type[_Envelope]] = {
    "session.update": _SessionUpdate,
    "transcription_session.update": _TranscriptionSessionUpdate,
    "input_audio_buffer.append": _Append,
    "input_audio_buffer.commit": _Bare,
    "input_audio_buffer.clear": _Bare,
    "output_audio_buffer.clear": _Bare,
    "conversation.item.create": _ItemCreate,
    "conversation.item.retrieve": _ItemById,
    "conversation.item.delete": _ItemById,
    "conversation.item.truncate": _Truncate,
    "response.create": _ResponseCreate,
    "response.cancel": _ResponseCancel,
}

MAX_APPEND_BYTES = 15 * 1024 * 1024


def _decode_envelope(env: _Envelope) -> ce.ClientEvent:
    eid = env.event_id
    match env:
        case _SessionUpdate():
            return ce.UpdateSession(eid, env.session)
        case _TranscriptionSessionUpdate():
            return ce.UpdateTranscriptionSession(eid, env.session)
        case _Append():
            audio = decode_base64(env.audio, "audio")
            if len(audio) > MAX_APPEND_BYTES:
                raise ProtocolError(
                    f"Audio of {len(audio)} bytes exceeds the limit of {MAX_APPEND_BYTES} bytes per append.",
                    code="audio_too_large",
                    param="audio",
                )
            return ce.AppendInputAudio(eid, audio)
        case _Bare(type="input_audio_buffer.commit"):
            return ce.CommitInputAudio(eid)
        case _Bare(type="input_audio_buffer.clear"):
            return ce.ClearInputAudio(eid)
        case _Bare():
            return ce.ClearOutputAudio(eid)
        case _ItemCreate():
            return ce.CreateItem(eid, env.item, env.previous_item_id)
        case _ItemById(type="conversation.item.retrieve"):
            return ce.RetrieveItem(eid, env.item_id)
        case _ItemById():
            return ce.DeleteItem(eid, env.item_id)
        case _Truncate():
            return ce.TruncateItem(eid, env.item_id, env.content_index, env.audio_end_ms)
        case _ResponseCreate():
            return ce.CreateResponse(eid, env.response)
        case _ResponseCancel():
            return ce.CancelResponse(eid, env.response_id)
    raise AssertionError(f"unhandled envelope {env!r}")


class BetaDialect:
    name = "beta"

    def decode(self, data: dict[str, Any]) -> ce.ClientEvent:
        kind = data.get("type")
        if kind is None:
            raise ProtocolError("The 'type' field is missing.", code="invalid_event", param="type")
        if not isinstance(kind, str):
            raise ProtocolError("The 'type' field must be a string.", code="invalid_type", param="type")
        envelope = _ENVELOPES.get(kind)
        if envelope is None:
            raise ProtocolError(
                f"Invalid value: '{kind[:100]}'. Supported values are: "
                + ", ".join(f"'{name}'" for name in _ENVELOPES)
                + ".",
                code="invalid_value",
                param="type",
            )
        return _decode_envelope(validated(envelope, data))

    def encode(self, event: ev.ServerEvent) -> list[dict[str, Any]]:
        body = ENCODERS[type(event)](event)
        return [] if body is None else [{"event_id": ids.event_id(), **body}]


# --- rendering of shared objects ----------------------------------------------------------------


def session_object(info: ev.SessionInfo) -> dict[str, Any]:
    """The beta `RealtimeSession` object (also the body of `POST /v1/realtime/sessions`)."""
    return {"id": info.id, "object": "realtime.session", "expires_at": info.expires_at, **session_fields(info.config)}


def transcription_session_object(config: SessionConfig) -> dict[str, Any]:
    """The beta transcription session; over a WebSocket `client_secret` is null, as OpenAI's example shows."""
    view = transcription_view(config)
    turn_detection = view["turn_detection"]
    return {
        "modalities": view["modalities"],
        "input_audio_format": view["input_audio_format"],
        "input_audio_transcription": view["input_audio_transcription"],
        "turn_detection": None
        if turn_detection is None
        else {k: v for k, v in turn_detection.items() if k != "eagerness"},
        "client_secret": None,
    }


def _session_event(name: str, info: ev.SessionInfo) -> dict[str, Any]:
    if info.config.type == "transcription":
        return {"type": f"transcription_session.{name}", "session": transcription_session_object(info.config)}
    return {"type": f"session.{name}", "session": session_object(info)}


def session_fields(config: SessionConfig) -> dict[str, Any]:
    td = config.turn_detection
    turn_detection: dict[str, Any] | None = None
    if td is not None and td.type == "server_vad":
        turn_detection = td.model_dump(exclude={"eagerness", "idle_timeout_ms"})
    elif td is not None:
        turn_detection = td.model_dump(include={"type", "eagerness", "create_response", "interrupt_response"})
    tracing = config.tracing
    return {
        "model": config.model,
        "modalities": list(config.modalities),
        "instructions": config.instructions,
        "voice": config.voice,
        "input_audio_format": config.input_audio_format,
        "output_audio_format": config.output_audio_format,
        "input_audio_transcription": (
            config.input_audio_transcription.model_dump() if config.input_audio_transcription else None
        ),
        "input_audio_noise_reduction": (
            config.input_audio_noise_reduction.model_dump() if config.input_audio_noise_reduction else None
        ),
        "turn_detection": turn_detection,
        "tools": [tool.model_dump() for tool in config.tools],
        "tool_choice": tool_choice(config.tool_choice),
        "temperature": config.temperature,
        "max_response_output_tokens": config.max_response_output_tokens,
        "speed": config.speed,
        "tracing": tracing.model_dump() if isinstance(tracing, StrictModel) else tracing,
    }


def tool_choice(choice: str | NamedFunction) -> str:
    return choice.name if isinstance(choice, NamedFunction) else choice


def content_object(part: Content, *, with_audio: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": part.type}
    if part.type in ("input_text", "text"):
        out["text"] = part.text
    elif part.type in ("input_audio", "audio"):
        if with_audio and part.audio is not None:
            out["audio"] = base64.b64encode(part.audio).decode()
        out["transcript"] = part.transcript
    else:
        out["id"] = part.id
    return out


def item_object(item: Item, *, with_audio: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "object": "realtime.item", "type": item.type, "status": item.status}
    if item.type == "message":
        out["role"] = item.role
        out["content"] = [content_object(part, with_audio=with_audio) for part in item.content]
    elif item.type == "function_call":
        out.update(name=item.name, call_id=item.call_id, arguments=item.arguments)
    else:
        out.update(call_id=item.call_id, output=item.output)
    return out


def usage_object(usage: ev.Usage | None) -> dict[str, Any] | None:
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


def response_object(response: ev.Response) -> dict[str, Any]:
    details = response.status_details
    return {
        "id": response.id,
        "object": "realtime.response",
        "status": response.status,
        "status_details": None
        if details is None
        else {
            k: v
            for k, v in (("type", details.type), ("reason", details.reason), ("error", details.error))
            if v is not None
        },
        "output": [item_object(item) for item in response.output],
        "conversation_id": response.conversation_id,
        "modalities": list(response.modalities),
        "voice": response.voice,
        "output_audio_format": response.output_audio_format,
        "temperature": response.temperature,
        "max_output_tokens": response.max_output_tokens,
        "metadata": response.metadata,
        "usage": usage_object(response.usage),
    }


# --- events -------------------------------------------------------------------------------------

_DELTA_TYPES = {
    "text": "response.text.delta",
    "transcript": "response.audio_transcript.delta",
    "audio": "response.audio.delta",
}
_DONE_TYPES = {
    "text": "response.text.done",
    "transcript": "response.audio_transcript.done",
    "audio": "response.audio.done",
}


def _where(e: ev.ContentDelta | ev.ContentDone | ev.ContentPartAdded | ev.ContentPartDone) -> dict[str, Any]:
    return {
        "response_id": e.response_id,
        "item_id": e.item_id,
        "output_index": e.output_index,
        "content_index": e.content_index,
    }


def _part(kind: str, text: str) -> dict[str, Any]:
    return {"type": "text", "text": text} if kind == "text" else {"type": "audio", "transcript": text}


def _delta(e: ev.ContentDelta) -> dict[str, Any]:
    delta = base64.b64encode(e.delta).decode() if isinstance(e.delta, bytes) else e.delta
    return {"type": _DELTA_TYPES[e.kind], **_where(e), "delta": delta}


def _done(e: ev.ContentDone) -> dict[str, Any]:
    out = {"type": _DONE_TYPES[e.kind], **_where(e)}
    if e.kind == "text":
        out["text"] = e.text
    elif e.kind == "transcript":
        out["transcript"] = e.text
    return out


def _logprobs(logprobs: ev.Logprobs | None) -> dict[str, Any]:
    """`include: ["item.input_audio_transcription.logprobs"]`: each token with its UTF-8 bytes."""
    if logprobs is None:
        return {}
    return {"logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in logprobs]}


def _error(e: ev.Error) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": e.type, "code": e.code, "message": e.message, "param": e.param, "event_id": e.event_id},
    }


ENCODERS: dict[type[Any], Callable[[Any], dict[str, Any] | None]] = {
    ev.Error: _error,
    ev.SessionCreated: lambda e: _session_event("created", e.session),
    ev.SessionUpdated: lambda e: _session_event("updated", e.session),
    ev.ConversationCreated: lambda e: {
        "type": "conversation.created",
        "conversation": {"id": e.conversation_id, "object": "realtime.conversation"},
    },
    ev.ItemCreated: lambda e: {
        "type": "conversation.item.created",
        "previous_item_id": e.previous_item_id,
        "item": item_object(e.item),
    },
    ev.ItemDone: lambda e: None,
    ev.IdleTimeout: lambda e: None,
    ev.ItemRetrieved: lambda e: {"type": "conversation.item.retrieved", "item": item_object(e.item, with_audio=True)},
    ev.ItemTruncated: lambda e: {
        "type": "conversation.item.truncated",
        "item_id": e.item_id,
        "content_index": e.content_index,
        "audio_end_ms": e.audio_end_ms,
    },
    ev.ItemDeleted: lambda e: {"type": "conversation.item.deleted", "item_id": e.item_id},
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
    ev.ResponseCreated: lambda e: {"type": "response.created", "response": response_object(e.response)},
    ev.ResponseDone: lambda e: {"type": "response.done", "response": response_object(e.response)},
    ev.OutputItemAdded: lambda e: {
        "type": "response.output_item.added",
        "response_id": e.response_id,
        "output_index": e.output_index,
        "item": item_object(e.item),
    },
    ev.OutputItemDone: lambda e: {
        "type": "response.output_item.done",
        "response_id": e.response_id,
        "output_index": e.output_index,
        "item": item_object(e.item),
    },
    ev.ContentPartAdded: lambda e: {"type": "response.content_part.added", **_where(e), "part": _part(e.part_type, "")},
    ev.ContentPartDone: lambda e: {
        "type": "response.content_part.done",
        **_where(e),
        "part": _part(e.part_type, e.text),
    },
    ev.ContentDelta: _delta,
    ev.ContentDone: _done,
    ev.FunctionArgumentsDelta: lambda e: {
        "type": "response.function_call_arguments.delta",
        "response_id": e.response_id,
        "item_id": e.item_id,
        "output_index": e.output_index,
        "call_id": e.call_id,
        "delta": e.delta,
    },
    ev.FunctionArgumentsDone: lambda e: {
        "type": "response.function_call_arguments.done",
        "response_id": e.response_id,
        "item_id": e.item_id,
        "output_index": e.output_index,
        "call_id": e.call_id,
        "arguments": e.arguments,
    },
}
