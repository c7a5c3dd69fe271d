"""The realtime session configuration: one validated model shared by REST, WebSocket and both dialects.

Field names follow the beta `RealtimeSession` (the seed object of the protocol); the GA dialect maps its
nested shape onto the same model, so validation rules live here once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from realtalk.protocol.errors import ProtocolError

Modality = Literal["text", "audio"]
AudioFormatName = Literal["pcm16", "g711_ulaw", "g711_alaw"]
Voice = Literal["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"]
TranscriptionModel = Literal["gpt-4o-transcribe", "gpt-4o-mini-transcribe", "whisper-1"]

DEFAULT_INSTRUCTIONS = (
    "You are a helpful, friendly voice assistant. Answer briefly and clearly, in plain spoken sentences."
)
_TEXT_AND_AUDIO: tuple[Modality, ...] = ("text", "audio")
_TEXT_ONLY: tuple[Modality, ...] = ("text",)
_FUNCTION_NAME = r"^[A-Za-z0-9_-]{1,64}$"


class StrictModel(BaseModel):
    """JSON in, no coercion: a string where a number belongs is an error, as is an unknown field."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _max_tokens(value: Any) -> int | str:
    if value == "inf" and isinstance(value, str):
        return "inf"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Expected an integer between 1 and 4096, or 'inf'")
    if not 1 <= value <= 4096:
        raise ValueError("Expected an integer between 1 and 4096, or 'inf'")
    return value


MaxTokens = Annotated[int | Literal["inf"], BeforeValidator(_max_tokens)]


class NamedFunction(StrictModel):
    """`tool_choice` naming one function; the beta wire form is the bare name."""

    type: Literal["function"] = "function"
    name: str


def _tool_choice(value: Any) -> str | NamedFunction:
    if isinstance(value, str):
        return value if value in ("auto", "none", "required") else NamedFunction(name=value)
    if isinstance(value, dict) and value.get("type") == "function":
        name = value.get("name")
        if name is None and isinstance(value.get("function"), dict):
            name = value["function"].get("name")
        if isinstance(name, str):
            return NamedFunction(name=name)
    raise ValueError("Expected 'auto', 'none', 'required', or a function named in 'tools'")


ToolChoice = Annotated[Literal["auto", "none", "required"] | NamedFunction, BeforeValidator(_tool_choice)]


class FunctionTool(StrictModel):
    type: Literal["function"] = "function"
    name: str = Field(pattern=_FUNCTION_NAME)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class VoiceActivitySettings(StrictModel):
    """How turns are found; a transcription session's turn detection is exactly this."""

    type: Literal["server_vad", "semantic_vad"] = "server_vad"
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    prefix_padding_ms: int = Field(300, ge=0, le=10_000)
    silence_duration_ms: int = Field(500, ge=0, le=10_000)
    eagerness: Literal["low", "medium", "high", "auto"] = "auto"


class TurnDetection(VoiceActivitySettings):
    """A realtime session's turn detection: also whether a turn starts or interrupts a response."""

    create_response: bool = True
    interrupt_response: bool = True
    idle_timeout_ms: int | None = Field(None, ge=5_000, le=30_000)


class InputAudioTranscription(StrictModel):
    model: str = "whisper-1"
    language: str | None = Field(None, max_length=16)
    prompt: str | None = Field(None, max_length=4096)


class TranscriptionSettings(InputAudioTranscription):
    """In a transcription session the model must be one the API names."""

    model: TranscriptionModel = "whisper-1"


class NoiseReduction(StrictModel):
    type: Literal["near_field", "far_field"]


class TracingConfiguration(StrictModel):
    workflow_name: str | None = None
    group_id: str | None = None
    metadata: dict[str, Any] | None = None


LogprobsInclude = Literal["item.input_audio_transcription.logprobs"]


class SessionConfig(StrictModel):
    """The effective configuration of one session (defaults as the beta API documents them).

    `type` is the session's kind: a transcription session transcribes each turn and never responds.
    """

    type: Literal["realtime", "transcription"] = "realtime"
    model: str = Field("gpt-realtime", min_length=1, max_length=128)
    modalities: list[Modality] = Field(default_factory=lambda: list(_TEXT_AND_AUDIO), min_length=1)
    instructions: str = Field(DEFAULT_INSTRUCTIONS, max_length=256_000)
    voice: Voice = "alloy"
    input_audio_format: AudioFormatName = "pcm16"
    output_audio_format: AudioFormatName = "pcm16"
    input_audio_transcription: InputAudioTranscription | None = None
    input_audio_noise_reduction: NoiseReduction | None = None
    turn_detection: TurnDetection | None = Field(default_factory=TurnDetection)
    tools: list[FunctionTool] = Field(default_factory=list, max_length=128)
    tool_choice: ToolChoice = "auto"
    temperature: float = Field(0.8, ge=0.6, le=1.2)
    max_response_output_tokens: MaxTokens = "inf"
    speed: float = Field(1.0, ge=0.25, le=1.5)
    tracing: Literal["auto"] | TracingConfiguration | None = None
    include: list[LogprobsInclude] = Field(default_factory=list)
    truncation: Literal["auto", "disabled"] = "auto"
    parallel_tool_calls: bool = True

    @model_validator(mode="before")
    @classmethod
    def _transcription_never_responds(cls, data: Any) -> Any:
        """In a transcription session a turn never creates or interrupts a response, whatever is asked."""
        if (
            isinstance(data, dict)
            and data.get("type") == "transcription"
            and isinstance(data.get("turn_detection"), dict)
        ):
            return {
                **data,
                "turn_detection": {**data["turn_detection"], "create_response": False, "interrupt_response": False},
            }
        return data

    @model_validator(mode="after")
    def _check_cross_fields(self) -> SessionConfig:
        check_tools(self.tools, self.tool_choice)
        if len(set(self.modalities)) != len(self.modalities):
            raise ProtocolError("modalities must not repeat a value.", code="invalid_value", param="modalities")
        return self


def check_tools(tools: list[FunctionTool], tool_choice: str | NamedFunction) -> None:
    """A named `tool_choice` must name a tool that exists, and tool names must be unique.

    Raised as ProtocolError (not ValueError) so that `param` names the field, not the whole object.
    """
    names = [tool.name for tool in tools]
    if len(set(names)) != len(names):
        raise ProtocolError("Tool names must be unique.", code="invalid_value", param="tools")
    if isinstance(tool_choice, NamedFunction) and tool_choice.name not in names:
        raise ProtocolError(
            f"Invalid value for 'tool_choice': function '{tool_choice.name}' is not one of the tools.",
            code="invalid_value",
            param="tool_choice",
        )


class SecretLifetime(StrictModel):
    anchor: Literal["created_at"] = "created_at"
    seconds: int = Field(60, ge=10, le=7200)


class ClientSecretRequest(StrictModel):
    expires_after: SecretLifetime = Field(default_factory=SecretLifetime)


class SessionCreateRequest(SessionConfig):
    """`POST /v1/realtime/sessions`: a session configuration plus how long its client secret lives."""

    client_secret: ClientSecretRequest = Field(default_factory=ClientSecretRequest)

    def session_config(self) -> SessionConfig:
        return SessionConfig.model_validate(self.model_dump(exclude={"client_secret"}, round_trip=True))


class TranscriptionClientSecretRequest(StrictModel):
    """Beta transcription sessions call the TTL `client_secret.expires_at` (sic; `expires_after` elsewhere)."""

    expires_at: SecretLifetime = Field(default_factory=SecretLifetime)


class TranscriptionSessionConfig(StrictModel):
    modalities: list[Modality] = Field(default_factory=lambda: list(_TEXT_ONLY), min_length=1)
    input_audio_format: AudioFormatName = "pcm16"
    input_audio_transcription: TranscriptionSettings = Field(default_factory=TranscriptionSettings)
    turn_detection: VoiceActivitySettings | None = Field(default_factory=VoiceActivitySettings)
    input_audio_noise_reduction: NoiseReduction | None = None
    include: list[LogprobsInclude] = Field(default_factory=list)

    def as_session(self, model: str) -> SessionConfig:
        """The same settings as a session of type `transcription` (which never creates responses)."""
        td = self.turn_detection
        return SessionConfig.model_validate(
            {
                "type": "transcription",
                "model": model,
                "modalities": ["text"],
                "input_audio_format": self.input_audio_format,
                "input_audio_transcription": self.input_audio_transcription.model_dump(),
                "input_audio_noise_reduction": (
                    self.input_audio_noise_reduction.model_dump() if self.input_audio_noise_reduction else None
                ),
                "turn_detection": None
                if td is None
                else {**td.model_dump(), "create_response": False, "interrupt_response": False},
                "include": list(self.include),
            }
        )


class TranscriptionSessionCreateRequest(TranscriptionSessionConfig):
    client_secret: TranscriptionClientSecretRequest = Field(default_factory=TranscriptionClientSecretRequest)

    def session_config(self) -> TranscriptionSessionConfig:
        return TranscriptionSessionConfig.model_validate(self.model_dump(exclude={"client_secret"}, round_trip=True))


def merge_session(current: SessionConfig, patch: dict[str, Any]) -> SessionConfig:
    """`session.update`: only the fields present change; nested objects are replaced whole.

    Raises pydantic's ValidationError for any bad field; the caller keeps `current` then.
    """
    merged = current.model_dump(round_trip=True)
    merged.update(patch)
    return SessionConfig.model_validate(merged)


def transcription_view(config: SessionConfig) -> dict[str, Any]:
    """A transcription session's settings in the beta transcription-session field names."""
    td = config.turn_detection
    transcription = config.input_audio_transcription
    return {
        "modalities": list(config.modalities),
        "input_audio_format": config.input_audio_format,
        "input_audio_transcription": transcription.model_dump()
        if transcription
        else TranscriptionSettings().model_dump(),
        "turn_detection": None if td is None else td.model_dump(include=set(VoiceActivitySettings.model_fields)),
        "input_audio_noise_reduction": (
            config.input_audio_noise_reduction.model_dump() if config.input_audio_noise_reduction else None
        ),
        "include": list(config.include),
    }
