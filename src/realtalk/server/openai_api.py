"""The rest of the OpenAI audio surface, served by realtalk's own engines.

`/v1/audio/transcriptions`, `/v1/audio/speech`, `/v1/chat/completions` and `/v1/models` speak the same
protocol the remote engines speak, so one realtalk can be another's backend.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import Field, model_validator
from starlette.datastructures import UploadFile

from realtalk.audio.files import OUTPUT_FORMATS, AudioFileError, StreamingEncoder, decode
from realtalk.config import Settings
from realtalk.engines.base import (
    ChatMessage,
    Completion,
    FunctionSpec,
    LLMRequest,
    Segment,
    TextDelta,
    ToolCall,
    ToolCallArgumentsDelta,
    ToolCallStart,
    ToolChoiceSpec,
    TranscriptFinal,
    UnsupportedLanguage,
)
from realtalk.engines.registry import Engines
from realtalk.engines.speech_text import SentenceChunker
from realtalk.protocol import ids
from realtalk.protocol.config import StrictModel, Voice, check_function_parameters
from realtalk.protocol.errors import ProtocolError, validated
from realtalk.server.auth import Authenticator, bearer_token
from realtalk.server.json_body import json_object
from realtalk.text.language_names import language_name

log = logging.getLogger(__name__)
MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # OpenAI's limit for an audio file
TranscriptFormat = Literal["json", "text", "verbose_json", "srt", "vtt"]
ToolChoiceMode = Literal["auto", "none", "required"]
_EMPTY = np.zeros(0, dtype=np.int16)


class SpeechRequest(StrictModel):
    model: str = Field(min_length=1)
    input: str = Field(min_length=1, max_length=4096)
    voice: Voice
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio"] = "audio"


class FunctionDefinition(StrictModel):
    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


class ChatTool(StrictModel):
    type: Literal["function"]
    function: FunctionDefinition


class ChatFunctionName(StrictModel):
    name: str


class ChatNamedToolChoice(StrictModel):
    """`{"type": "function", "function": {"name": …}}`: the model must call that tool."""

    type: Literal["function"]
    function: ChatFunctionName


class ChatFunctionCall(StrictModel):
    name: str
    arguments: str


class ChatToolCall(StrictModel):
    id: str
    type: Literal["function"] = "function"
    function: ChatFunctionCall


class ChatTextPart(StrictModel):
    type: Literal["text"]
    text: str


class ChatMessageParam(StrictModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ChatTextPart] | None = None
    name: str | None = None
    tool_calls: list[ChatToolCall] | None = None
    tool_call_id: str | None = None

    def to_message(self) -> ChatMessage:
        content = self.content if isinstance(self.content, str) else "".join(p.text for p in self.content or [])
        calls = tuple(ToolCall(c.id, c.function.name, c.function.arguments) for c in self.tool_calls or [])
        role = "system" if self.role == "developer" else self.role
        return ChatMessage(role, content, calls, self.tool_call_id)


class StreamOptions(StrictModel):
    include_usage: bool = False


class ChatRequest(StrictModel):
    model: str
    messages: list[ChatMessageParam] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    tools: list[ChatTool] | None = None
    tool_choice: ToolChoiceMode | ChatNamedToolChoice | None = None
    temperature: float = Field(0.8, ge=0.0, le=2.0)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    n: Literal[1] = 1
    user: str | None = None
    parallel_tool_calls: bool | None = None

    @model_validator(mode="after")
    def _check_tool_schemas(self) -> ChatRequest:
        """The engines walk each schema (to prompt, to constrain decoding): it must be one."""
        for index, tool in enumerate(self.tools or []):
            check_function_parameters(tool.function.parameters, ("tools", index, "function", "parameters"))
        return self

    def llm_request(self) -> LLMRequest:
        tools = [FunctionSpec(t.function.name, t.function.description, t.function.parameters) for t in self.tools or []]
        return LLMRequest(
            messages=[m.to_message() for m in self.messages],
            tools=tools,
            tool_choice=_tool_choice(self.tool_choice, tools),
            temperature=self.temperature,
            max_output_tokens=self.max_completion_tokens or self.max_tokens,
        )


def _tool_choice(value: ToolChoiceMode | ChatNamedToolChoice | None, tools: list[FunctionSpec]) -> ToolChoiceSpec:
    if value is None:
        return ToolChoiceSpec("auto" if tools else "none")
    if isinstance(value, str):
        return ToolChoiceSpec(value)
    if value.function.name in {t.name for t in tools}:
        return ToolChoiceSpec("function", value.function.name)
    raise ProtocolError(
        f"Invalid value for 'tool_choice.function.name': '{value.function.name[:64]}' is not one of the tools.",
        code="invalid_value",
        param="tool_choice.function.name",
    )


def add_openai_routes(app: FastAPI, engines: Engines, auth: Authenticator, settings: Settings) -> None:
    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        auth.require_api_key(bearer_token(request.headers))
        choice = settings.engine_choice()
        names = [settings.default_model, choice.llm, choice.stt, choice.tts]
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"id": name, "object": "model", "created": 0, "owned_by": "realtalk"}
                    for name in dict.fromkeys(names)
                ],
            }
        )

    @app.post("/v1/audio/transcriptions")
    async def transcriptions(request: Request) -> Response:
        auth.require_api_key(bearer_token(request.headers))
        form = await request.form(max_part_size=MAX_UPLOAD_BYTES + 1)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ProtocolError("Missing required parameter: 'file'.", code="missing_required_parameter", param="file")
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise ProtocolError("The audio file is larger than 25 MB.", code="file_too_large", param="file")
        response_format = str(form.get("response_format") or "json")
        if response_format not in ("json", "text", "verbose_json", "srt", "vtt"):
            raise ProtocolError(
                f"Invalid value for 'response_format': '{response_format[:40]}'.",
                code="invalid_value",
                param="response_format",
            )
        stt = engines.stt
        try:
            samples = await asyncio.to_thread(decode, data, stt.sample_rate)
        except AudioFileError as exc:
            raise ProtocolError(f"Invalid file: {exc}.", code="invalid_value", param="file") from None
        language = str(form["language"]) if form.get("language") else None
        prompt = str(form["prompt"]) if form.get("prompt") else None
        final = TranscriptFinal("")
        try:
            async for event in stt.transcribe(samples, language=language, prompt=prompt):
                if isinstance(event, TranscriptFinal):
                    final = event
        except UnsupportedLanguage as exc:
            raise ProtocolError(
                f"Invalid value for 'language': {exc.reason}.", code="invalid_value", param="language"
            ) from None
        duration = len(samples) / stt.sample_rate
        reported = _reported_language(final, language)
        return _transcript_response(final, duration, reported, response_format)  # type: ignore[arg-type]

    @app.post("/v1/audio/speech")
    async def speech(request: Request) -> Response:
        auth.require_api_key(bearer_token(request.headers))
        asked = validated(SpeechRequest, await json_object(request))
        fmt = OUTPUT_FORMATS[asked.response_format]
        return StreamingResponse(_speak(engines, asked), media_type=fmt.media_type)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        auth.require_api_key(bearer_token(request.headers))
        asked = validated(ChatRequest, await json_object(request))
        llm_request = asked.llm_request()
        if asked.stream:
            include_usage = bool(asked.stream_options and asked.stream_options.include_usage)
            return StreamingResponse(
                _chat_chunks(engines, llm_request, asked.model, include_usage), media_type="text/event-stream"
            )
        return JSONResponse(await _chat_completion(engines, llm_request, asked.model))


# --- transcription formats --------------------------------------------------------------------------


def _reported_language(final: TranscriptFinal, asked: str | None) -> str:
    """`verbose_json`'s `language`: the language's lowercase English name, as OpenAI's service gives it
    ("english", "french"; the OpenAPI spec and the SDK's `TranscriptionVerbose` only say it is a string).

    It names the language the engine heard; failing that, the one the client asked for; failing both
    (an engine that cannot say, such as the scripted one), English, the default model's only language.
    """
    return language_name(final.language or asked or "en")


def _segments(final: TranscriptFinal, duration: float) -> list[Segment]:
    return list(final.segments) or ([Segment(0.0, duration, final.text)] if final.text else [])


def _transcript_response(final: TranscriptFinal, duration: float, language: str, fmt: TranscriptFormat) -> Response:
    if fmt == "json":
        return JSONResponse({"text": final.text})
    if fmt == "text":
        return PlainTextResponse(final.text)
    segments = _segments(final, duration)
    if fmt == "verbose_json":
        return JSONResponse(
            {
                "task": "transcribe",
                "language": language,
                "duration": round(duration, 3),
                "text": final.text,
                "segments": [
                    {
                        "id": i,
                        "seek": 0,
                        "start": s.start,
                        "end": s.end,
                        "text": s.text,
                        "tokens": [],
                        "temperature": 0.0,
                        "avg_logprob": 0.0,
                        "compression_ratio": 1.0,
                        "no_speech_prob": 0.0,
                    }
                    for i, s in enumerate(segments)
                ],
            }
        )
    if fmt == "srt":
        return PlainTextResponse(
            "\n".join(
                f"{i}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{s.text}\n" for i, s in enumerate(segments, 1)
            )
        )
    cues = "\n".join(f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{s.text}\n" for s in segments)
    return PlainTextResponse("WEBVTT\n\n" + cues, media_type="text/vtt")


def _stamp(seconds: float, separator: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{separator}{ms % 1000:03d}"


# --- speech -----------------------------------------------------------------------------------------


async def _speak(engines: Engines, asked: SpeechRequest) -> AsyncIterator[bytes]:
    """Clause by clause, so the first bytes leave while the rest is still being synthesized."""
    tts = engines.tts
    encoder = StreamingEncoder(OUTPUT_FORMATS[asked.response_format], tts.sample_rate)
    chunker = SentenceChunker()
    clauses = [*chunker.push(asked.input), chunker.flush()]
    for clause in (c.strip() for c in clauses):
        if clause:
            async for samples in tts.synthesize(clause, voice=asked.voice, speed=asked.speed):
                if data := encoder.encode(samples):
                    yield data
    yield encoder.encode(_EMPTY, last=True)


# --- chat -------------------------------------------------------------------------------------------


def _chunk(completion_id: str, model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode()


async def _chat_chunks(engines: Engines, request: LLMRequest, model: str, include_usage: bool) -> AsyncIterator[bytes]:
    completion_id = "chatcmpl-" + ids.new_id("c")[2:]
    yield _sse(_chunk(completion_id, model, {"role": "assistant", "content": ""}))
    call_index = -1
    try:
        async for event in engines.llm.stream(request):
            match event:
                case TextDelta(text=text):
                    yield _sse(_chunk(completion_id, model, {"content": text}))
                case ToolCallStart(call_id=call_id, name=name):
                    call_index += 1
                    yield _sse(
                        _chunk(
                            completion_id,
                            model,
                            {
                                "tool_calls": [
                                    {
                                        "index": call_index,
                                        "id": call_id or ids.call_id(),
                                        "type": "function",
                                        "function": {"name": name, "arguments": ""},
                                    }
                                ]
                            },
                        )
                    )
                case ToolCallArgumentsDelta(delta=delta):
                    yield _sse(
                        _chunk(
                            completion_id,
                            model,
                            {"tool_calls": [{"index": call_index, "function": {"arguments": delta}}]},
                        )
                    )
                case Completion():
                    yield _sse(_chunk(completion_id, model, {}, event.finish_reason))
                    if include_usage:
                        yield _sse({**_chunk(completion_id, model, {}), "choices": [], "usage": _usage(event)})
    except Exception:  # the status line is sent: the error travels in the stream, its details in our log
        log.exception("the LLM failed while streaming a chat completion")
        yield _sse(
            {
                "error": {
                    "message": "The model failed while answering; the details are in the server's log.",
                    "type": "server_error",
                    "code": "engine_error",
                    "param": None,
                }
            }
        )
    yield b"data: [DONE]\n\n"


async def _chat_completion(engines: Engines, request: LLMRequest, model: str) -> dict[str, Any]:
    text, completion = "", Completion("stop", 0, 0)
    calls: list[dict[str, Any]] = []
    async for event in engines.llm.stream(request):
        match event:
            case TextDelta(text=piece):
                text += piece
            case ToolCallStart(call_id=call_id, name=name):
                calls.append(
                    {"id": call_id or ids.call_id(), "type": "function", "function": {"name": name, "arguments": ""}}
                )
            case ToolCallArgumentsDelta(delta=delta) if calls:
                calls[-1]["function"]["arguments"] += delta
            case Completion():
                completion = event
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-" + ids.new_id("c")[2:],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": completion.finish_reason}],
        "usage": _usage(completion),
    }


def _usage(completion: Completion) -> dict[str, int]:
    return {
        "prompt_tokens": completion.input_tokens,
        "completion_tokens": completion.output_tokens,
        "total_tokens": completion.input_tokens + completion.output_tokens,
    }
