"""Settings from command-line flags, then `REALTALK_*` environment variables, then defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from realtalk.engines.registry import EngineChoice


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REALTALK_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    api_key: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="API keys accepted (comma-separated in the environment); none = open"
    )
    engines: str = Field("scripted", description="engine preset: scripted")
    llm: str | None = None
    stt: str | None = None
    tts: str | None = None
    vad: str | None = None
    script: Path | None = Field(None, description="JSON script of turns for the scripted LLM")
    transcript: str = Field("Hello.", description="what the scripted STT hears")
    default_model: str = "gpt-realtime"
    instructions: str | None = None
    log_level: str = "info"
    max_session_minutes: float = Field(30.0, gt=0)
    max_event_mb: float = Field(24.0, gt=0, description="largest client event accepted, in MiB")
    max_connections: int = Field(1000, ge=1)

    @field_validator("api_key", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    def engine_choice(self) -> EngineChoice:
        preset = self.engines
        return EngineChoice(
            vad=self.vad or preset,
            stt=self.stt or preset,
            llm=self.llm or preset,
            tts=self.tts or preset,
            script=self.script,
            transcript=self.transcript,
        )

    @property
    def max_event_bytes(self) -> int:
        return int(self.max_event_mb * 1024 * 1024)
