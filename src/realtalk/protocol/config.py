"""The session configuration in the core's own vocabulary: neither GA's shape nor beta's.

One validated model serves REST, WebSocket and both dialects, so every value rule (ranges, enums,
cross-field checks) lives here once. Its layout follows what the settings are about: `input` (audio
in: format, transcription, noise reduction, turn detection), `output` (audio out: format, voice,
speed), and what the model does. Leaf objects whose JSON is the same in both dialects (tools, turn
detection, transcription, noise reduction, tracing, truncation) keep OpenAI's field names, so codecs
render them with `model_dump()`. Codecs turn their wire shapes into a `SessionPatch` (field paths of
this model → raw values) and the session merges it; a bad value is reported by its path here and each
codec names that path in its own dialect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import orjson
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from realtalk.protocol.errors import PARAM, FieldPath, ProtocolError, validated

Modality = Literal["text", "audio"]  # what a response is made of: text, or speech with its transcript
AudioFormatName = Literal["pcm16", "g711_ulaw", "g711_alaw"]
Voice = Literal["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"]
SessionType = Literal["realtime", "transcription"]
TranscriptionModel = Literal["gpt-4o-transcribe", "gpt-4o-mini-transcribe", "whisper-1"]
LogprobsInclude = Literal["item.input_audio_transcription.logprobs"]
LOGPROBS: LogprobsInclude = "item.input_audio_transcription.logprobs"

DEFAULT_INSTRUCTIONS = (
    "You are a helpful, friendly voice assistant. Answer briefly and clearly, in plain spoken sentences."
)
_FUNCTION_NAME = r"^[A-Za-z0-9_-]{1,64}$"
# Free-form JSON a client gives (a tool's parameters, tracing metadata) is echoed in `session.updated` and
# compiled into the LLM's grammar, so it is held well inside what every JSON encoder and parser handles:
# 32 levels is ~15 levels of nested object properties, past any real schema; orjson stops at 254.
MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 100_000
_SCHEMA_CHECKER = Draft7Validator(Draft7Validator.META_SCHEMA)  # the most lenient draft clients still write


class StrictModel(BaseModel):
    """JSON in, no coercion: a string where a number belongs is an error, as is an unknown field."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _max_tokens(value: Any) -> int | str:
    if value == "inf" and isinstance(value, str):
        return "inf"
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
        raise ValueError("Expected an integer between 1 and 4096, or 'inf'")
    return value


MaxTokens = Annotated[int | Literal["inf"], BeforeValidator(_max_tokens)]


class NamedFunction(StrictModel):
    """`tool_choice` naming one function."""

    type: Literal["function"] = "function"
    name: str


ToolChoice = Literal["auto", "none", "required"] | NamedFunction


class FunctionTool(StrictModel):
    type: Literal["function"] = "function"
    name: str = Field(pattern=_FUNCTION_NAME)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class TurnDetection(StrictModel):
    """How turns are found, and (in a realtime session) whether a turn starts or interrupts a response."""

    type: Literal["server_vad", "semantic_vad"] = "server_vad"
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    prefix_padding_ms: int = Field(300, ge=0, le=10_000)
    silence_duration_ms: int = Field(500, ge=0, le=10_000)
    eagerness: Literal["low", "medium", "high", "auto"] = "auto"
    create_response: bool = True
    interrupt_response: bool = True
    idle_timeout_ms: int | None = Field(None, ge=5_000, le=30_000)


class Transcription(StrictModel):
    model: str = "whisper-1"
    language: str | None = Field(None, max_length=16)
    prompt: str | None = Field(None, max_length=4096)


class NoiseReduction(StrictModel):
    type: Literal["near_field", "far_field"]


class Tracing(StrictModel):
    workflow_name: str | None = None
    group_id: str | None = None
    metadata: dict[str, Any] | None = None


class TokenLimits(StrictModel):
    post_instructions: int | None = Field(None, ge=1)


class RetentionRatio(StrictModel):
    """Truncate, when the context overflows, down to this fraction of the post-instruction budget."""

    type: Literal["retention_ratio"] = "retention_ratio"
    retention_ratio: float = Field(ge=0.0, le=1.0)
    token_limits: TokenLimits | None = None


Truncation = Literal["auto", "disabled"] | RetentionRatio


class InputAudio(StrictModel):
    format: AudioFormatName = "pcm16"
    transcription: Transcription | None = None
    noise_reduction: NoiseReduction | None = None
    turn_detection: TurnDetection | None = Field(default_factory=TurnDetection)


class OutputAudio(StrictModel):
    format: AudioFormatName = "pcm16"
    voice: Voice = "alloy"
    speed: float = Field(1.0, ge=0.25, le=1.5)


class SessionConfig(StrictModel):
    """The effective configuration of one session.

    `type` is the session's kind: a transcription session transcribes each turn and never responds.
    """

    type: SessionType = "realtime"
    model: str = Field("gpt-realtime", min_length=1, max_length=128)
    modality: Modality = "audio"
    instructions: str = Field(DEFAULT_INSTRUCTIONS, max_length=256_000)
    input: InputAudio = Field(default_factory=InputAudio)
    output: OutputAudio = Field(default_factory=OutputAudio)
    tools: list[FunctionTool] = Field(default_factory=list, max_length=128)
    tool_choice: ToolChoice = "auto"
    temperature: float = Field(0.8, ge=0.6, le=1.2)
    max_output_tokens: MaxTokens = "inf"
    tracing: Literal["auto"] | Tracing | None = None
    include: list[LogprobsInclude] = Field(default_factory=list)
    truncation: Truncation = "auto"
    parallel_tool_calls: bool = True

    @model_validator(mode="before")
    @classmethod
    def _transcription_never_responds(cls, data: Any) -> Any:
        """A transcription session transcribes every turn and never creates or interrupts a response."""
        if not isinstance(data, dict) or data.get("type") != "transcription":
            return data
        audio_in = data.get("input")
        audio_in = dict(audio_in) if isinstance(audio_in, dict) else {}
        audio_in["transcription"] = audio_in.get("transcription") or {"model": "whisper-1"}
        td = audio_in.get("turn_detection", {})
        if isinstance(td, dict):
            audio_in["turn_detection"] = {**td, "create_response": False, "interrupt_response": False}
        return {**data, "modality": "text", "input": audio_in}

    @model_validator(mode="after")
    def _check_cross_fields(self) -> SessionConfig:
        check_tools(self.tools, self.tool_choice)
        if isinstance(self.tracing, Tracing) and self.tracing.metadata is not None:
            check_json_size(self.tracing.metadata, ("tracing", "metadata"))
        return self

    def patched(self, patch: SessionPatch) -> SessionConfig:
        """This configuration with `patch` applied, validated whole; errors name the field under `session`."""
        data = self.model_dump(round_trip=True)
        for path, value in patch.changes.items():
            _assign(data, path, value)
        return validated(SessionConfig, data, ("session",))


def _assign(data: dict[str, Any], path: FieldPath, value: Any) -> None:
    """Set `data[path]`, creating nested objects as needed (a null object is replaced by a fresh one)."""
    target = data
    for key in path[:-1]:
        inner = target.get(key) if isinstance(key, str) else None
        if not isinstance(inner, dict):
            inner = {}
            target[key] = inner  # type: ignore[index]
        target = inner
    target[path[-1]] = value  # type: ignore[index]


def check_tools(tools: list[FunctionTool], tool_choice: ToolChoice) -> None:
    """Each tool's parameters must be a JSON schema, a named `tool_choice` must name a tool that exists, and
    tool names must be unique."""
    for index, tool in enumerate(tools):
        if tool.parameters is not None:
            check_function_parameters(tool.parameters, ("tools", index, "parameters"))
    names = [tool.name for tool in tools]
    if len(set(names)) != len(names):
        raise ProtocolError(
            f"Invalid value for {PARAM}: tool names must be unique.", code="invalid_value", path=("tools",)
        )
    if isinstance(tool_choice, NamedFunction) and tool_choice.name not in names:
        raise ProtocolError(
            f"Invalid value for {PARAM}: function '{tool_choice.name}' is not one of the tools.",
            code="invalid_value",
            path=("tool_choice",),
        )


def check_json_size(value: Any, path: FieldPath) -> None:
    """Refuse free-form JSON nested deeper than MAX_JSON_DEPTH or longer than MAX_JSON_BYTES when written.

    Accepted, such a value would make every event that echoes it fail to encode, and with it the session.
    """
    if _nesting(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise ProtocolError(
            f"Invalid value for {PARAM}: nested more than {MAX_JSON_DEPTH} levels deep.",
            code="invalid_value",
            path=path,
        )
    if len(orjson.dumps(value)) > MAX_JSON_BYTES:
        raise ProtocolError(
            f"Invalid value for {PARAM}: longer than {MAX_JSON_BYTES} bytes as JSON.",
            code="invalid_value",
            path=path,
        )


def check_function_parameters(parameters: dict[str, Any], path: FieldPath) -> None:
    """A function's `parameters` must be a JSON schema (checked against the draft-07 metaschema, as OpenAI
    checks them): engines walk it to prompt a model, constrain its output, or invent example arguments."""
    check_json_size(parameters, path)
    error = best_match(_SCHEMA_CHECKER.iter_errors(parameters))
    if error is not None:
        where = "".join(f"[{part!r}]" for part in error.absolute_path) or "the top level"
        problem = f"{error.message} (at {where})"
        raise ProtocolError(
            f"Invalid schema for {PARAM}: {problem if len(problem) <= 200 else problem[:197] + '...'}.",
            code="invalid_function_parameters",
            path=path,
        )


def _nesting(value: Any, limit: int) -> int:
    """How many objects and arrays deep `value` goes, level by level, counting no further than one past `limit`."""
    depth, level = 0, [value]
    while depth <= limit:
        containers = [node for node in level if isinstance(node, dict | list)]
        if not containers:
            break
        depth += 1
        level = [child for node in containers for child in (node.values() if isinstance(node, dict) else node)]
    return depth


@dataclass(frozen=True)
class SessionPatch:
    """What a `session.update` sets: field paths of `SessionConfig` → raw values, in the order given.

    A nested object given whole replaces the one there (the protocol's rule); a path into it sets one field.
    """

    type: SessionType
    changes: Mapping[FieldPath, Any] = field(default_factory=dict)

    def touches(self, *prefixes: FieldPath) -> bool:
        """Does this patch set anything at or under one of `prefixes` (or above it, replacing it whole)?"""
        return any(
            path[: len(prefix)] == prefix or prefix[: len(path)] == path for path in self.changes for prefix in prefixes
        )

    def keys(self) -> Iterable[FieldPath]:
        return self.changes.keys()
