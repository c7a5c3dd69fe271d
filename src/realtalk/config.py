"""Settings from command-line flags, then `REALTALK_*` environment variables, then defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, FilePath, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from realtalk.engines.embedded.packages import default_data_dir
from realtalk.engines.registry import PRESETS, EngineChoice
from realtalk.engines.remote.http import RemoteEndpoint
from realtalk.transports.event_rate import EventRateLimit


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REALTALK_", extra="forbid")

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
    llm_context_tokens: int = Field(
        8192, ge=256, description="tokens one request to the remote LLM may hold, prompt and answer together"
    )
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
    redis_url: str | None = Field(None, description="Redis for state shared by workers and machines")
    max_session_minutes: float = Field(30.0, gt=0)
    max_event_mb: float = Field(
        21.0, gt=0, description="largest client event accepted, in MiB (a 15 MiB audio append is 20 MiB of base64)"
    )
    max_connections: int = Field(1000, ge=1)
    max_sessions_per_key: int | None = Field(
        None, ge=1, description="concurrent sessions one API key (and the secrets it minted) may hold; none = no cap"
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
    call_webhook: str | None = Field(None, description="URL notified (realtime.call.incoming) when a phone call starts")
    twilio_auth_token: str | None = Field(None, description="Twilio auth token: checks X-Twilio-Signature")
    telnyx_stream_token: str | None = Field(None, description="Telnyx streaming auth token its streams must present")
    allow_unsigned_phone_streams: bool = Field(
        False, description="accept phone webhooks and streams no carrier signed (local testing only)"
    )

    @field_validator("api_key", "cors_origin", "ice_servers", "webrtc_host_ip", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
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
            context_tokens=self.llm_context_tokens,
        )

    def engine_choice(self) -> EngineChoice:
        preset = PRESETS[self.engines]
        return EngineChoice(
            vad=self.vad or preset["vad"],
            stt=self.stt or preset["stt"],
            llm=self.llm or preset["llm"],
            tts=self.tts or preset["tts"],
            turn=self.turn or preset["turn"],
            script=self.script,
            transcript=self.transcript,
            data_dir=self.data_dir,
            threads=self.threads,
            seed=self.seed,
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
