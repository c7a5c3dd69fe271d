"""Settings from command-line flags, then `REALTALK_*` environment variables, then the config file, then defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, FilePath, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from realtalk.config_file import config_path, read_config_file
from realtalk.engines.embedded import model_files
from realtalk.engines.embedded.packages import default_data_dir
from realtalk.engines.registry import PRESETS, EngineChoice
from realtalk.engines.remote.http import RemoteEndpoint
from realtalk.transports.event_rate import EventRateLimit


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REALTALK_", extra="forbid")

    config: Path | None = Field(None, description="TOML file of settings, below flags and environment variables")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    api_key: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="API keys accepted (comma-separated in the environment); none = open"
    )
    engines: Literal["embedded", "scripted"] = Field("embedded", description="engine preset")
    llm: str | None = None
    stt: str | None = None
    tts: str | None = None
    vad: str | None = None
    turn: str | None = Field(None, description="end-of-turn engine, judging pauses for semantic_vad")
    script: Path | None = Field(None, description="JSON script of turns for the scripted LLM")
    data_dir: Path = Field(default_factory=default_data_dir, description="where assembled model files live")
    threads: int = Field(2, ge=1, le=64, description="CPU threads per model")
    seed: int | None = Field(None, ge=0, description="sampling seed of the embedded LLM (reproducible answers)")
    llm_url: str | None = Field(None, description="base URL of an OpenAI-compatible chat server (--llm remote)")
    llm_api_key: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_context_tokens: int | None = Field(
        None,
        ge=256,
        description="tokens one request to the LLM may hold, prompt and answer together (remote 8192, embedded 4096)",
    )
    llm_gguf: Path | None = Field(None, description="GGUF model for the embedded LLM on llama.cpp (default SmolLM2)")
    llm_chat_template: str | None = Field(
        None, description="llama.cpp's named chat template (chatml, llama3, …) for a GGUF that carries none"
    )
    llm_gpu_layers: int | None = Field(
        None, ge=-1, description="layers llama.cpp puts on a GPU (only with a GPU build of xllamacpp); -1 = all"
    )
    llm_computed_answers: bool = Field(
        True, description="the packaged SmolLM2 says computed answers to arithmetic, unit and calendar questions"
    )
    whisper_model: str | None = Field(
        None, description="CTranslate2 Whisper model directory, or a size name (base, small, …) already on disk"
    )
    whisper_language: str = Field(
        "auto", pattern=r"^(auto|[a-z]{2,3})$", description="auto (detect) or the language code Whisper hears"
    )
    whisper_beam_size: int = Field(1, ge=1, le=16, description="Whisper's beam size (1 = greedy, fastest)")
    kokoro_model: Path | None = Field(None, description="Kokoro ONNX model (default the packaged int8 one)")
    kokoro_voices: Path | None = Field(None, description="Kokoro voices file, .npz or .bin (default the packaged five)")
    piper_voice: Path | None = Field(None, description="Piper voice .onnx, its .onnx.json beside it")
    stt_url: str | None = Field(None, description="base URL of an OpenAI-compatible transcription server")
    stt_api_key: str | None = None
    stt_model: str = "whisper-1"
    tts_url: str | None = Field(None, description="base URL of an OpenAI-compatible speech server")
    tts_api_key: str | None = None
    tts_model: str = "tts-1"
    tts_voices: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description="OpenAI voice → backend voice, e.g. alloy=af_bella,echo=am_adam"
    )
    tts_sample_rate: int = Field(24_000, ge=8_000, le=48_000, description="rate of the backend's raw pcm")
    remote_connect_timeout: float = Field(5.0, gt=0)
    remote_read_timeout: float = Field(30.0, gt=0)
    remote_retries: int = Field(2, ge=0, le=10)
    transcript: str = Field("Hello.", description="what the scripted STT hears")
    default_model: str = "gpt-realtime"
    instructions: str | None = None
    log_level: str = "info"
    log_format: Literal["text", "json"] = Field("text", description="text lines, or one JSON object per line")
    workers: int = Field(1, ge=1, le=256, description="processes serving the port, each with its own engines")
    drain_seconds: float = Field(
        30.0, ge=0, description="on SIGTERM/SIGINT, how long responses under way may run before sessions are closed"
    )
    tls_cert: FilePath | None = Field(None, description="PEM certificate chain: serve https and wss (with tls_key)")
    tls_key: FilePath | None = Field(None, description="PEM private key of tls_cert")
    max_session_minutes: float = Field(30.0, gt=0)
    max_event_mb: float = Field(
        21.0, gt=0, description="largest client event accepted, in MiB (a 15 MiB audio append is 20 MiB of base64)"
    )
    max_connections: int = Field(1000, ge=1)
    max_sessions_per_key: int | None = Field(
        None, ge=1, description="concurrent sessions one API key (and the secrets it minted) may hold; none = no cap"
    )
    max_new_sessions_per_minute: int | None = Field(
        None,
        ge=1,
        description="sessions, calls and client secrets one API key may start a minute, on all workers; none = no cap",
    )
    redis_url: str | None = Field(
        None, description="Redis (redis://host:port/db) holding the state workers share; none = this process only"
    )
    max_session_audio_mb: float = Field(
        200.0, gt=0, description="audio one session may hold, buffered and in its conversation, in MiB"
    )
    max_conversation_items: int = Field(4096, ge=1, description="items one conversation may hold")
    max_events_per_second: float = Field(
        200.0, gt=0, description="client events a session may send a second, sustained"
    )
    event_burst: int = Field(400, ge=1, description="client events a session may send at once above the sustained rate")
    max_body_mb: float = Field(
        26.0, gt=0, description="largest REST request body, in MiB (a 25 MB upload and its form)"
    )
    body_timeout: float = Field(60.0, gt=0, description="seconds a REST request's body may take to arrive")
    header_timeout: float = Field(10.0, gt=0, description="seconds a request's headers (or a handshake) may take")
    max_header_kib: float = Field(64.0, gt=0, description="largest request line and headers, in KiB")
    keep_alive_timeout: int = Field(5, ge=1, description="seconds an idle kept-alive HTTP connection stays open")
    speculate: bool = Field(True, description="prepare each turn's answer during the silence window")
    cors_origin: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"], description="web origins whose pages may call the API (browser apps)"
    )
    ice_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="STUN/TURN servers for WebRTC calls (stun:host:3478, turn:host:3478)"
    )
    ice_username: str | None = Field(None, description="TURN username, for every turn: server")
    ice_credential: str | None = Field(None, description="TURN password, for every turn: server")
    webrtc_host_ip: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="addresses offered as WebRTC host candidates; none = every interface"
    )

    public_url: str | None = Field(
        None, description="the server's public base URL (https://host), as carriers reach it through a proxy or tunnel"
    )
    phone_profiles: Path | None = Field(None, description="JSON file: profile name → GA session object for phone calls")
    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="profile name → GA session object for phone calls ([profiles.NAME])"
    )
    call_webhook: str | None = Field(None, description="URL notified (realtime.call.incoming) when a phone call starts")
    twilio_auth_token: str | None = Field(None, description="Twilio auth token: checks X-Twilio-Signature")
    telnyx_stream_token: str | None = Field(None, description="Telnyx streaming auth token its streams must present")
    allow_unsigned_phone_streams: bool = Field(
        False, description="accept phone webhooks and streams no carrier signed (local testing only)"
    )
    metrics: bool = Field(True, description="serve Prometheus metrics at /metrics")
    otlp_endpoint: str | None = Field(
        None, description="OTLP/HTTP collector base URL for traces (else OTEL_EXPORTER_OTLP_ENDPOINT); none = no traces"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags (given as keyword arguments) over the environment over the config file."""
        assert isinstance(init_settings, InitSettingsSource)
        path = config_path(init_settings.init_kwargs)
        values = read_config_file(path, settings_cls.model_fields) if path is not None else {}
        return init_settings, env_settings, InitSettingsSource(settings_cls, values)

    @field_validator("llm_gguf")
    @classmethod
    def _gguf(cls, value: Path | None) -> Path | None:
        return value and model_files.gguf_file(value)

    @field_validator("kokoro_model")
    @classmethod
    def _onnx(cls, value: Path | None) -> Path | None:
        return value and model_files.onnx_file(value)

    @field_validator("kokoro_voices")
    @classmethod
    def _voices(cls, value: Path | None) -> Path | None:
        return value and model_files.numpy_voices(value)

    @field_validator("piper_voice")
    @classmethod
    def _piper(cls, value: Path | None) -> Path | None:
        return value and model_files.piper_voice(value)

    @model_validator(mode="after")
    def _model_files_have_their_engine(self) -> Settings:
        """A model file for an engine that is not in use would be silently ignored: refuse it instead."""
        choice = self.engine_choice()
        given = {
            ("llm_gguf", "llm", ("smollm2",)): self.llm_gguf,
            ("llm_chat_template", "llm", ("smollm2",)): self.llm_chat_template,
            ("llm_gpu_layers", "llm", ("smollm2",)): self.llm_gpu_layers,
            ("whisper_model", "stt", ("whisper-tiny.en", "whisper-base")): self.whisper_model,
            ("kokoro_model", "tts", ("kokoro",)): self.kokoro_model,
            ("kokoro_voices", "tts", ("kokoro",)): self.kokoro_voices,
            ("piper_voice", "tts", ("piper",)): self.piper_voice,
        }
        for (setting, kind, engines), value in given.items():
            engine = getattr(choice, kind)
            if value is not None and engine not in engines:
                raise ValueError(f"{setting} is for the {' or '.join(engines)} {kind} engine, but it is {engine!r}")
        return self

    @field_validator("api_key", "cors_origin", "ice_servers", "webrtc_host_ip", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected a redis://, rediss:// or unix:// URL, e.g. redis://localhost:6379/0")
        return value

    @field_validator("tts_voices", mode="before")
    @classmethod
    def _voice_map(cls, value: Any) -> Any:
        if isinstance(value, str):
            pairs = [pair.split("=", 1) for pair in value.split(",") if pair.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("expected name=voice pairs separated by commas")
            return {name.strip(): voice.strip() for name, voice in pairs}
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both a certificate (--tls-cert) and its private key (--tls-key)")
        return self

    def _endpoint(self, kind: str) -> RemoteEndpoint | None:
        url = getattr(self, f"{kind}_url")
        if url is None:
            return None
        return RemoteEndpoint(
            base_url=url,
            model=getattr(self, f"{kind}_model"),
            api_key=getattr(self, f"{kind}_api_key"),
            connect_timeout=self.remote_connect_timeout,
            read_timeout=self.remote_read_timeout,
            retries=self.remote_retries,
            voices=self.tts_voices if kind == "tts" else {},
            sample_rate=self.tts_sample_rate,
            context_tokens=self.llm_context_tokens or RemoteEndpoint.context_tokens,
        )

    def engine_choice(self) -> EngineChoice:
        preset = PRESETS[self.engines]
        return EngineChoice(
            vad=self.vad or preset["vad"],
            stt=self.stt or preset["stt"],
            llm=self.llm or preset["llm"],
            tts=self.tts or ("piper" if self.piper_voice else preset["tts"]),
            turn=self.turn or preset["turn"],
            script=self.script,
            transcript=self.transcript,
            data_dir=self.data_dir,
            threads=self.threads,
            seed=self.seed,
            llm_gguf=self.llm_gguf,
            llm_chat_template=self.llm_chat_template,
            llm_context_tokens=self.llm_context_tokens,
            llm_gpu_layers=self.llm_gpu_layers,
            llm_computed_answers=self.llm_computed_answers,
            whisper_model=self.whisper_model,
            whisper_language=self.whisper_language,
            whisper_beam_size=self.whisper_beam_size,
            kokoro_model=self.kokoro_model,
            kokoro_voices=self.kokoro_voices,
            piper_voice=self.piper_voice,
            voices=self.tts_voices,
            remote={kind: e for kind in ("llm", "stt", "tts") if (e := self._endpoint(kind)) is not None},
        )

    @property
    def max_event_bytes(self) -> int:
        return int(self.max_event_mb * 1024 * 1024)

    @property
    def event_rate(self) -> EventRateLimit:
        return EventRateLimit(self.max_events_per_second, self.event_burst)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def max_session_audio_bytes(self) -> int:
        return int(self.max_session_audio_mb * 1024 * 1024)

    @property
    def max_header_bytes(self) -> int:
        return int(self.max_header_kib * 1024)
