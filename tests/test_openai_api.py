"""realtalk's own OpenAI endpoints, through the official SDK: transcriptions, speech, chat, models."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import av
import numpy as np
import pytest
from openai import AsyncOpenAI, BadRequestError, InternalServerError

from realtalk.audio.files import OUTPUT_FORMATS, StreamingEncoder, decode, wav_header
from realtalk.config import Settings
from realtalk.engines.base import Samples, TranscriptEvent, TranscriptFinal, UnsupportedLanguage
from realtalk.server.app import create_app
from tests.harness import scripted_engines
from tests.live import LiveServer
from tests.signals import tone

pytestmark = pytest.mark.live
SECOND = tone(1000, rate=24_000, freq=440.0)


class RecordingSTT:
    """Hears what it is sent and says how long it was, in `language` (None: it cannot say which)."""

    sample_rate = 16_000

    def __init__(self) -> None:
        self.heard: list[Samples] = []
        self.language: str | None = None
        self.understands: frozenset[str] | None = None  # None: any language
        self.fault: str | None = None  # a failure of its own, where it has one

    async def transcribe(
        self, audio: Samples, *, language: str | None, prompt: str | None
    ) -> AsyncIterator[TranscriptEvent]:
        if language is not None and self.understands is not None and language not in self.understands:
            raise UnsupportedLanguage(
                "input_audio_transcription.language", f"this model understands English only, not '{language}'"
            )
        if self.fault is not None:
            raise ValueError(self.fault)
        self.heard.append(audio)
        yield TranscriptFinal(f"{len(audio) / self.sample_rate:.1f} seconds", language=self.language)


@pytest.fixture
def stt() -> RecordingSTT:
    return RecordingSTT()


@pytest.fixture
def client(stt: RecordingSTT) -> Iterator[AsyncOpenAI]:
    app = create_app(Settings(engines="scripted", api_key=["sk-api"]), engines=scripted_engines(stt=stt))
    with LiveServer(app) as live:
        yield AsyncOpenAI(api_key="sk-api", base_url=f"{live.http_url}/v1")


def audio_file(kind: str) -> bytes:
    """One second of tone in each container a client may upload."""
    pcm = SECOND.astype("<i2").tobytes()
    if kind == "wav":
        return wav_header(24_000, len(pcm)) + pcm
    if kind == "webm":
        sink = io.BytesIO()
        with av.open(sink, mode="w", format="webm") as container:
            stream = container.add_stream("libopus", rate=48_000, layout="mono")
            frame = av.AudioFrame.from_ndarray(
                decode(wav_header(24_000, len(pcm)) + pcm, 48_000).reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = 48_000
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                container.mux(packet)
        return sink.getvalue()
    name = {"ogg": "opus"}.get(kind, kind)
    encoder = StreamingEncoder(OUTPUT_FORMATS[name], 24_000)
    return encoder.encode(SECOND) + encoder.encode(np.zeros(0, dtype=np.int16), last=True)


@pytest.mark.parametrize("kind", ["wav", "mp3", "flac", "ogg", "webm"])
async def test_transcriptions_accept_each_audio_container(client: AsyncOpenAI, stt: RecordingSTT, kind: str) -> None:
    result = await client.audio.transcriptions.create(model="whisper-1", file=(f"speech.{kind}", audio_file(kind)))
    assert result.text.endswith(" seconds")
    assert abs(len(stt.heard[0]) - 16_000) < 1_600  # decoded to 16 kHz mono (codec padding aside)


@pytest.mark.parametrize("response_format", ["json", "text", "verbose_json", "srt", "vtt"])
async def test_transcriptions_in_every_response_format(client: AsyncOpenAI, response_format: str) -> None:
    result: Any = await client.audio.transcriptions.create(
        model="whisper-1", file=("a.wav", audio_file("wav")), response_format=response_format
    )  # type: ignore[call-overload]
    if response_format == "json":
        assert result.text == "1.0 seconds"
    elif response_format == "text":
        assert result.strip() == "1.0 seconds"
    elif response_format == "verbose_json":
        assert result.duration == pytest.approx(1.0, abs=0.01) and result.segments[0].text == "1.0 seconds"
    elif response_format == "srt":
        assert result.startswith("1\n00:00:00,000 --> 00:00:01,000\n1.0 seconds")
    else:
        assert result.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n1.0 seconds")


async def verbose_language(client: AsyncOpenAI, asked: str | None) -> str:
    """The `language` of a `verbose_json` transcription, the client asking for `asked` (None: for none)."""
    extra = {"language": asked} if asked else {}
    result = await client.audio.transcriptions.create(
        model="whisper-1", file=("a.wav", audio_file("wav")), response_format="verbose_json", **extra
    )
    return result.language


@pytest.mark.parametrize(
    ("heard", "asked", "named"),
    [("fr", None, "french"), ("fr", "en", "french"), ("yue", None, "cantonese")],
    ids=["detected", "heard-over-asked", "three-letter-code"],
)
async def test_verbose_json_names_the_language_the_engine_heard(
    client: AsyncOpenAI, stt: RecordingSTT, heard: str, asked: str | None, named: str
) -> None:
    stt.language = heard
    assert await verbose_language(client, asked) == named


@pytest.mark.parametrize(("asked", "named"), [("de", "german"), (None, "english")], ids=["asked", "neither"])
async def test_verbose_json_names_the_asked_language_else_english_when_the_engine_cannot_say(
    client: AsyncOpenAI, asked: str | None, named: str
) -> None:
    assert await verbose_language(client, asked) == named


async def test_a_language_the_engine_does_not_understand_is_refused_as_an_invalid_language(
    client: AsyncOpenAI, stt: RecordingSTT
) -> None:
    stt.understands = frozenset({"en"})
    with pytest.raises(BadRequestError) as refused:
        await verbose_language(client, "fr")
    assert refused.value.body == {  # type: ignore[comparison-overlap]
        "message": "Invalid value for 'language': this model understands English only, not 'fr'.",
        "type": "invalid_request_error",
        "param": "language",
        "code": "invalid_value",
    }


async def test_a_failure_of_the_engines_own_is_a_server_error_though_a_language_was_asked(
    client: AsyncOpenAI, stt: RecordingSTT
) -> None:
    stt.fault = "the decoder met a corrupt frame: 12"
    with pytest.raises(InternalServerError) as failed:
        await verbose_language(client.with_options(max_retries=0), "fr")
    assert failed.value.status_code == 500
    assert failed.value.body == {  # type: ignore[comparison-overlap]
        "message": "The server had an error while processing your request; the details are in the server's log.",
        "type": "server_error",
        "param": None,
        "code": "internal_error",
    }


async def test_a_file_that_is_not_audio_is_refused(client: AsyncOpenAI) -> None:
    with pytest.raises(BadRequestError) as refused:
        await client.audio.transcriptions.create(model="whisper-1", file=("a.wav", b"not audio at all"))
    assert refused.value.body["param"] == "file"  # type: ignore[index]


@pytest.mark.parametrize("response_format", ["pcm", "wav", "mp3", "opus", "flac", "aac"])
async def test_speech_in_every_response_format(client: AsyncOpenAI, response_format: str) -> None:
    text = "Hello there. This is realtalk."  # the scripted TTS: 20 ms a character
    speech = await client.audio.speech.create(model="tts-1", input=text, voice="alloy", response_format=response_format)  # type: ignore[arg-type]
    data = speech.content
    seconds = len(data) / 48_000 if response_format == "pcm" else len(decode(data, 24_000)) / 24_000
    expected = sum(len(c.strip()) for c in ["Hello there.", "This is realtalk."]) * 0.02
    assert abs(seconds - expected) < 0.1


async def test_speech_streams_before_it_is_finished(client: AsyncOpenAI) -> None:
    text = "First sentence here. " * 6
    async with client.audio.speech.with_streaming_response.create(
        model="tts-1", input=text, voice="echo", response_format="pcm"
    ) as response:
        chunks = [chunk async for chunk in response.iter_bytes()]
    assert len(chunks) > 1 and sum(map(len, chunks)) == len("First sentence here.") * 6 * 20 * 48


async def test_speech_validates_its_request(client: AsyncOpenAI) -> None:
    with pytest.raises(BadRequestError) as refused:
        await client.audio.speech.create(model="tts-1", input="hi", voice="nova", response_format="mp3")  # type: ignore[arg-type]
    assert refused.value.body["param"] == "voice"  # type: ignore[index]


async def test_chat_completion(client: AsyncOpenAI) -> None:
    result = await client.chat.completions.create(model="any", messages=[{"role": "user", "content": "hi"}])
    assert result.choices[0].message.content == "You said: hi" and result.choices[0].finish_reason == "stop"
    assert result.usage is not None and result.usage.completion_tokens == 3


async def test_streamed_chat_completion_with_usage(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="any", messages=[{"role": "user", "content": "hi"}], stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "You said: hi"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


async def test_chat_completion_tool_call(client: AsyncOpenAI) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        },
    }
    result = await client.chat.completions.create(
        model="any", messages=[{"role": "user", "content": "find x"}], tools=[tool], tool_choice="required"
    )  # type: ignore[list-item]
    call = result.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "lookup" and json.loads(call.function.arguments) == {"q": "example"}  # type: ignore[union-attr]
    assert call.id.startswith("call_")  # the engine gave no id: the API assigns one
    assert result.choices[0].finish_reason == "tool_calls"


async def test_models_are_listed(client: AsyncOpenAI) -> None:
    assert "gpt-realtime" in [model.id async for model in client.models.list()]


async def test_the_endpoints_need_the_api_key(client: AsyncOpenAI) -> None:
    stranger = client.with_options(api_key="sk-wrong")
    with pytest.raises(Exception, match="401"):
        await stranger.chat.completions.create(model="any", messages=[{"role": "user", "content": "hi"}])
