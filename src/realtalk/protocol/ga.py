"""The GA dialect (no `OpenAI-Beta` header): the shapes of `openai.types.realtime`.

GA nests the audio settings (`audio.input.format {type: "audio/pcm", rate: 24000}`, `audio.output.voice`),
renames a few fields (`output_modalities`, `max_output_tokens`) and events (`response.output_text.*`,
`response.output_audio.*`, `conversation.item.added` / `.done`) and types assistant content
`output_text` / `output_audio`. Decoding maps GA onto the session's one vocabulary (the beta field
names); encoding renders that vocabulary back. Events whose shape is the same in both dialects are
rendered by the beta codec. A GA field realtalk cannot honour is refused, naming it, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field

from realtalk.protocol import beta, ids
from realtalk.protocol import client_events as ce
from realtalk.protocol import events as ev
from realtalk.protocol.errors import ProtocolError, validated
from realtalk.protocol.items import Content, Item
from realtalk.protocol.session_config import (
    AudioFormatName,
    NamedFunction,
    SecretLifetime,
    SessionConfig,
    StrictModel,
    merge_session,
)

_FORMATS: dict[str, AudioFormatName] = {"audio/pcm": "pcm16", "audio/pcmu": "g711_ulaw", "audio/pcma": "g711_alaw"}
_FORMAT_OBJECTS: dict[str, dict[str, Any]] = {
    "pcm16": {"type": "audio/pcm", "rate": 24000},
    "g711_ulaw": {"type": "audio/pcmu"},
    "g711_alaw": {"type": "audio/pcma"},
}
_WHY: dict[str, str] = {
    "mcp": "MCP tools are not supported: realtalk calls only the functions a client declares",
    "prompt": "stored prompts live on OpenAI's platform; send the instructions themselves",
    "reasoning": "realtalk's models do not reason in a separate budget",
    "voice_id": "custom voices are not supported; use one of the ten named voices",
    "image": "image input is not supported: realtalk's models do not see",
    "output_audio": "assistant audio cannot be created by a client",
    "strength": "noise reduction has no adjustable strength in realtalk; give only its type",
    "transcription_extras": "only model, language and prompt are supported for transcription",
}


# Where each session setting lives in GA, for naming it in errors (the session validates in its own names).
_GA_PATHS = {
    "modalities": "output_modalities",
    "max_response_output_tokens": "max_output_tokens",
    "input_audio_format": "audio.input.format",
    "input_audio_noise_reduction": "audio.input.noise_reduction",
    "input_audio_transcription": "audio.input.transcription",
    "turn_detection": "audio.input.turn_detection",
    "output_audio_format": "audio.output.format",
    "voice": "audio.output.voice",
    "speed": "audio.output.speed",
}


def ga_error(exc: ProtocolError) -> ProtocolError:
    """The same error with `param` (and the message quoting it) in GA's names."""
    param = exc.param
    if param is None:
        return exc
    head, _, rest = param.partition(".")
    if head not in ("session", "response") or not rest:
        return exc
    field, _, tail = rest.replace("[", ".[").partition(".")
    if field not in _GA_PATHS:
        return exc
    renamed = f"{head}.{_GA_PATHS[field]}" + (("." + tail).replace(".[", "[") if tail else "")
    return ProtocolError(exc.message.replace(f"'{param}'", f"'{renamed}'"), code=exc.code, param=renamed, type=exc.type)


def refuse(param: str, reason: str) -> ProtocolError:
    return ProtocolError(f"'{param}' is not supported: {_WHY[reason]}.", code="unsupported_parameter", param=param)


def _unknown(param: str) -> ProtocolError:
    return ProtocolError(f"Unknown parameter: '{param}'.", code="unknown_parameter", param=param)


def _object(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProtocolError(f"Invalid type for '{param}': expected an object.", code="invalid_type", param=param)
    return value


# --- GA → the session's vocabulary ------------------------------------------------------------------


def session_patch(session: Any, param: str = "session") -> dict[str, Any]:
    """A GA `session` object as a patch of `SessionConfig` fields (only what it names)."""
    session = _object(session, param)
    kind = session.get("type")
    if kind not in ("realtime", "transcription"):
        if kind is None:
            raise ProtocolError(
                f"Missing required parameter: '{param}.type'.", code="missing_required_parameter", param=f"{param}.type"
            )
        raise ProtocolError(
            f"Invalid value for '{param}.type': expected 'realtime' or 'transcription'.",
            code="invalid_value",
            param=f"{param}.type",
        )
    allowed = _REALTIME_KEYS if kind == "realtime" else _TRANSCRIPTION_KEYS
    patch: dict[str, Any] = {"type": kind}
    for key, value in session.items():
        where = f"{param}.{key}"
        if key not in allowed:
            raise _unknown(where)
        if key in ("prompt", "reasoning"):
            if value is not None:
                raise refuse(where, key)
        elif key == "audio":
            patch.update(_audio_patch(value, where))
        elif key in _RENAMED:
            patch[_RENAMED[key]] = _CONVERT.get(key, _same)(value, where)
        elif key != "type":
            patch[key] = value
    return patch


def _same(value: Any, param: str) -> Any:
    return value


def _modalities(value: Any, param: str) -> Any:
    """GA `["audio"]` is speech with its transcript, which the session calls `["text", "audio"]`."""
    if value == ["audio"]:
        return ["text", "audio"]
    if value == ["text"]:
        return ["text"]
    raise ProtocolError(
        f"Invalid value for '{param}': expected ['audio'] or ['text'].", code="invalid_value", param=param
    )


def _tool_choice(value: Any, param: str) -> Any:
    if isinstance(value, dict) and value.get("type") == "mcp":
        raise refuse(param, "mcp")
    return value


def _tools(value: Any, param: str) -> Any:
    if isinstance(value, list):
        for index, tool in enumerate(value):
            if isinstance(tool, dict) and tool.get("type") == "mcp":
                raise refuse(f"{param}[{index}].type", "mcp")
    return value


def _audio_format(value: Any, param: str) -> Any:
    if isinstance(value, str):  # the GA guide also shows the beta names here
        return value
    fmt = _object(value, param)
    name = _FORMATS.get(fmt.get("type", ""))
    if name is None or set(fmt) - {"type", "rate"} or (name == "pcm16" and fmt.get("rate", 24000) != 24000):
        raise ProtocolError(
            f"Invalid value for '{param}': expected {{type: 'audio/pcm', rate: 24000}}, "
            "{type: 'audio/pcmu'} or {type: 'audio/pcma'}.",
            code="invalid_value",
            param=param,
        )
    return name


def _noise_reduction(value: Any, param: str) -> Any:
    if isinstance(value, dict) and value.get("strength") is not None:
        raise refuse(f"{param}.strength", "strength")
    return None if value is None else {k: v for k, v in _object(value, param).items() if k != "strength"}


def _transcription(value: Any, param: str) -> Any:
    if isinstance(value, dict):
        for extra in ("delay", "keywords", "languages"):
            if value.get(extra) is not None:
                raise refuse(f"{param}.{extra}", "transcription_extras")
        return {k: v for k, v in value.items() if k not in ("delay", "keywords", "languages")}
    return value


def _voice(value: Any, param: str) -> Any:
    if isinstance(value, dict):
        raise refuse(param, "voice_id")
    return value


_AUDIO_INPUT: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "format": ("input_audio_format", _audio_format),
    "noise_reduction": ("input_audio_noise_reduction", _noise_reduction),
    "transcription": ("input_audio_transcription", _transcription),
    "turn_detection": ("turn_detection", _same),
}
_AUDIO_OUTPUT: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "format": ("output_audio_format", _audio_format),
    "voice": ("voice", _voice),
    "speed": ("speed", _same),
}


def _audio_patch(value: Any, param: str, output_only: bool = False) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    sides = {"output": _AUDIO_OUTPUT} if output_only else {"input": _AUDIO_INPUT, "output": _AUDIO_OUTPUT}
    for side, settings in _object(value, param).items():
        if side not in sides:
            raise _unknown(f"{param}.{side}")
        for key, setting in _object(settings, f"{param}.{side}").items():
            if key not in sides[side]:
                raise _unknown(f"{param}.{side}.{key}")
            name, convert = sides[side][key]
            patch[name] = convert(setting, f"{param}.{side}.{key}")
    return patch


_RENAMED = {
    "output_modalities": "modalities",
    "max_output_tokens": "max_response_output_tokens",
    "tool_choice": "tool_choice",
    "tools": "tools",
}
_CONVERT: dict[str, Callable[[Any, str], Any]] = {
    "output_modalities": _modalities,
    "tool_choice": _tool_choice,
    "tools": _tools,
}
_REALTIME_KEYS = {
    "type",
    "model",
    "instructions",
    "output_modalities",
    "max_output_tokens",
    "tool_choice",
    "tools",
    "tracing",
    "include",
    "truncation",
    "parallel_tool_calls",
    "audio",
    "prompt",
    "reasoning",
}
_TRANSCRIPTION_KEYS = {"type", "audio", "include"}


def session_config(session: Any, defaults: dict[str, Any]) -> SessionConfig:
    """A whole GA session (as minted by `client_secrets`), with the server's defaults under it."""
    patch = session_patch(session)
    base = SessionConfig.model_validate({**defaults, "type": patch["type"]})
    if patch["type"] == "transcription":
        base = merge_session(
            base,
            {
                "modalities": ["text"],
                "input_audio_transcription": {"model": "whisper-1"},
                "turn_detection": {"create_response": False, "interrupt_response": False},
            },
        )
    return validated_merge(base, patch, "session")


def validated_merge(base: SessionConfig, patch: dict[str, Any], param: str) -> SessionConfig:
    merged = {**base.model_dump(round_trip=True), **patch}
    try:
        return validated(SessionConfig, merged, param)
    except ProtocolError as exc:
        raise ga_error(exc) from None


def item_param(item: Any, param: str) -> Any:
    """A GA item in the session's item vocabulary (`output_text` is the assistant's `text`)."""
    if not isinstance(item, dict):
        return item
    if str(item.get("type", "")).startswith("mcp_"):
        raise refuse(f"{param}.type", "mcp")
    content = item.get("content")
    if not isinstance(content, list):
        return item
    parts = []
    for index, part in enumerate(content):
        if isinstance(part, dict):
            kind = part.get("type")
            if kind == "input_image":
                raise refuse(f"{param}.content[{index}].type", "image")
            if kind == "output_audio":
                raise refuse(f"{param}.content[{index}].type", "output_audio")
            if kind == "output_text":
                part = {**part, "type": "text"}
        parts.append(part)
    return {**item, "content": parts}


def response_params(response: Any) -> dict[str, Any]:
    """GA `response.create.response` as the session's per-response overrides."""
    out: dict[str, Any] = {}
    for key, value in _object(response, "response").items():
        where = f"response.{key}"
        if key in ("prompt", "reasoning"):
            if value is not None:
                raise refuse(where, key)
        elif key == "audio":
            out.update(_audio_patch(value, where, output_only=True))
        elif key in _RENAMED:
            out[_RENAMED[key]] = _CONVERT.get(key, _same)(value, where)
        elif key == "input" and isinstance(value, list):
            out["input"] = [item_param(item, f"{where}[{i}]") for i, item in enumerate(value)]
        else:
            out[key] = value
    return out


class GADialect:
    name = "ga"

    def decode(self, data: dict[str, Any]) -> ce.ClientEvent:
        kind = data.get("type")
        if kind == "transcription_session.update":  # beta only: GA updates any session with session.update
            raise ProtocolError(
                "Invalid value: 'transcription_session.update'. In the GA API, use session.update "
                "with session.type 'transcription'.",
                code="invalid_value",
                param="type",
            )
        if kind == "session.update":
            envelope = validated(_SessionUpdate, data)
            return ce.UpdateSession(envelope.event_id, session_patch(envelope.session))
        if kind == "conversation.item.create" and "item" in data:
            data = {**data, "item": item_param(data["item"], "item")}
        if kind == "response.create" and isinstance(data.get("response"), dict):
            data = {**data, "response": response_params(data["response"])}
        return beta.BetaDialect().decode(data)

    def encode(self, event: ev.ServerEvent) -> list[dict[str, Any]]:
        encoder = _ENCODERS.get(type(event))
        bodies = encoder(event) if encoder else [b for b in [beta.ENCODERS[type(event)](event)] if b]
        return [{"event_id": ids.event_id(), **body} for body in bodies]


class _SessionUpdate(StrictModel):
    type: str
    event_id: str | None = Field(None, max_length=512)
    session: Any


class GASecretLifetime(SecretLifetime):
    seconds: int = Field(600, ge=10, le=7200)


class ClientSecretCreateRequest(StrictModel):
    """`POST /v1/realtime/client_secrets`."""

    expires_after: GASecretLifetime = Field(default_factory=GASecretLifetime)
    session: dict[str, Any] = Field(default_factory=lambda: {"type": "realtime"})


# --- the session's vocabulary → GA ------------------------------------------------------------------


def session_object(info: ev.SessionInfo) -> dict[str, Any]:
    """A GA session object (`realtime.session` or `realtime.transcription_session`)."""
    config = info.config
    audio_input = {
        "format": _FORMAT_OBJECTS[config.input_audio_format],
        "transcription": config.input_audio_transcription.model_dump() if config.input_audio_transcription else None,
        "noise_reduction": (
            config.input_audio_noise_reduction.model_dump() if config.input_audio_noise_reduction else None
        ),
        "turn_detection": _turn_detection(config),
    }
    common = {"id": info.id, "expires_at": info.expires_at, "include": list(config.include) or None}
    if config.type == "transcription":
        return {
            "type": "transcription",
            "object": "realtime.transcription_session",
            **common,
            "audio": {"input": audio_input},
        }
    return {
        "type": "realtime",
        "object": "realtime.session",
        **common,
        "model": config.model,
        "output_modalities": ["audio"] if "audio" in config.modalities else ["text"],
        "instructions": config.instructions,
        "tools": [tool.model_dump() for tool in config.tools],
        "tool_choice": _tool_choice_object(config.tool_choice),
        "max_output_tokens": config.max_response_output_tokens,
        "tracing": beta.session_fields(config)["tracing"],
        "truncation": config.truncation,
        "prompt": None,
        "audio": {
            "input": audio_input,
            "output": {
                "format": _FORMAT_OBJECTS[config.output_audio_format],
                "voice": config.voice,
                "speed": config.speed,
            },
        },
    }


def _turn_detection(config: SessionConfig) -> dict[str, Any] | None:
    td = config.turn_detection
    if td is None:
        return None
    if td.type == "server_vad":
        return td.model_dump(exclude={"eagerness"})
    return td.model_dump(include={"type", "eagerness", "create_response", "interrupt_response"})


def _tool_choice_object(choice: str | NamedFunction) -> Any:
    return choice.model_dump() if isinstance(choice, NamedFunction) else choice


def _content(part: Content, with_audio: bool) -> dict[str, Any]:
    data = beta.content_object(part, with_audio=with_audio)
    if part.type in ("text", "audio"):
        data["type"] = "output_" + part.type
    return data


def item_object(item: Item, *, with_audio: bool = False) -> dict[str, Any]:
    data = beta.item_object(item, with_audio=with_audio)
    if item.type == "message":
        data["content"] = [_content(part, with_audio) for part in item.content]
    return data


def response_object(response: ev.Response) -> dict[str, Any]:
    data = beta.response_object(response)
    for key in ("modalities", "voice", "output_audio_format", "temperature"):
        del data[key]
    data["output"] = [item_object(item) for item in response.output]
    data["output_modalities"] = ["audio"] if "audio" in response.modalities else ["text"]
    data["audio"] = {"output": {"format": _FORMAT_OBJECTS[response.output_audio_format], "voice": response.voice}}
    return data


_DELTA = {
    "text": "response.output_text.delta",
    "transcript": "response.output_audio_transcript.delta",
    "audio": "response.output_audio.delta",
}
_DONE = {
    "text": "response.output_text.done",
    "transcript": "response.output_audio_transcript.done",
    "audio": "response.output_audio.done",
}


def _renamed(event_type: dict[str, str]) -> Callable[[Any], list[dict[str, Any]]]:
    def render(e: ev.ContentDelta | ev.ContentDone) -> list[dict[str, Any]]:
        body = beta.ENCODERS[type(e)](e)
        assert body is not None
        return [{**body, "type": event_type[e.kind]}]

    return render


def _item_created(e: ev.ItemCreated) -> list[dict[str, Any]]:
    """A finished item is added and done at once; one the model is still writing is only added."""
    added = {"type": "conversation.item.added", "previous_item_id": e.previous_item_id, "item": item_object(e.item)}
    if e.item.status == "in_progress":
        return [added]
    return [added, {**added, "type": "conversation.item.done"}]


def _error(e: ev.Error) -> list[dict[str, Any]]:
    renamed = ga_error(ProtocolError(e.message, code=e.code or "", param=e.param, type=e.type))
    return [
        {
            "type": "error",
            "error": {
                "type": e.type,
                "code": e.code,
                "message": renamed.message,
                "param": renamed.param,
                "event_id": e.event_id,
            },
        }
    ]


_ENCODERS: dict[type[Any], Callable[[Any], list[dict[str, Any]]]] = {
    ev.Error: _error,
    ev.SessionCreated: lambda e: [{"type": "session.created", "session": session_object(e.session)}],
    ev.SessionUpdated: lambda e: [{"type": "session.updated", "session": session_object(e.session)}],
    ev.ItemCreated: _item_created,
    ev.ItemDone: lambda e: [
        {"type": "conversation.item.done", "previous_item_id": e.previous_item_id, "item": item_object(e.item)}
    ],
    ev.ItemRetrieved: lambda e: [{"type": "conversation.item.retrieved", "item": item_object(e.item, with_audio=True)}],
    ev.IdleTimeout: lambda e: [
        {
            "type": "input_audio_buffer.timeout_triggered",
            "audio_start_ms": e.audio_start_ms,
            "audio_end_ms": e.audio_end_ms,
            "item_id": e.item_id,
        }
    ],
    ev.ResponseCreated: lambda e: [{"type": "response.created", "response": response_object(e.response)}],
    ev.ResponseDone: lambda e: [{"type": "response.done", "response": response_object(e.response)}],
    ev.OutputItemAdded: lambda e: [
        {
            "type": "response.output_item.added",
            "response_id": e.response_id,
            "output_index": e.output_index,
            "item": item_object(e.item),
        }
    ],
    ev.OutputItemDone: lambda e: [
        {
            "type": "response.output_item.done",
            "response_id": e.response_id,
            "output_index": e.output_index,
            "item": item_object(e.item),
        }
    ],
    ev.ContentDelta: _renamed(_DELTA),
    ev.ContentDone: _renamed(_DONE),
    ev.FunctionArgumentsDone: lambda e: [{**(beta.ENCODERS[ev.FunctionArgumentsDone](e) or {}), "name": e.name}],
}
