"""Remote engines over OpenAI-compatible HTTP: another realtalk as the backend, and every way one fails."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from realtalk.config import Settings
from realtalk.engines.base import ChatMessage, FunctionSpec, LLMRequest, TokenCount, ToolCall, TranscriptFinal
from realtalk.engines.registry import Engines, build_engines
from realtalk.engines.remote.llm import estimate_tokens
from realtalk.protocol.config import SessionConfig
from tests.backends import FaultyBackend, realtalk_process
from tests.harness import SessionHarness, no_vad, only, scripted_engines

pytestmark = pytest.mark.live
both_dialects = pytest.mark.dialects("ga", "beta")  # on the tests that drive a session
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def remote(kinds: tuple[str, ...], url: str, **settings: Any) -> Engines:
    fields: dict[str, Any] = {"engines": "scripted"}
    for kind in kinds:
        fields |= {kind: "remote", f"{kind}_url": url}
    return build_engines(Settings(**fields, **settings).engine_choice())


def config(**fields: Any) -> SessionConfig:
    """Manual turns, each transcribed."""
    return no_vad(input={"transcription": {"model": "whisper-1"}}, **fields)


async def speak_turn(harness: SessionHarness, ms: int = 500) -> None:
    await harness.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(b"\x10\x00" * 24 * ms).decode()})
    await harness.send({"type": "input_audio_buffer.commit"})


@pytest.fixture(scope="module")
def backend() -> Iterator[str]:
    with realtalk_process("--engines", "scripted", "--transcript", "Remote hello.", "--api-key", "sk-backend") as url:
        yield url


@both_dialects
async def test_another_realtalk_serves_as_remote_stt_llm_and_tts(backend: str) -> None:
    engines = remote(
        ("stt", "llm", "tts"), backend, llm_api_key="sk-backend", stt_api_key="sk-backend", tts_api_key="sk-backend"
    )
    harness = SessionHarness(config(), engines)
    await harness.start()
    await speak_turn(harness)
    await harness.send({"type": "response.create"})
    events = await harness.until("response.done")
    heard = only(events, "conversation.item.input_audio_transcription.completed")
    assert heard["transcript"] == "Remote hello."
    said = harness.only(events, "response.output_audio_transcript.done")["transcript"]
    assert said == "You said: Remote hello."
    audio = b"".join(base64.b64decode(e["delta"]) for e in harness.of(events, "response.output_audio.delta"))
    spoken = len("You said:") + len("Remote hello.")  # two chunks, each spoken without its surrounding spaces
    assert len(audio) == spoken * 20 * 48  # the backend's 20 ms-a-character tone, 24 kHz pcm16
    assert only(events, "response.done")["response"]["usage"]["output_tokens"] > 0


@both_dialects
async def test_remote_tool_calls_stream_as_function_call_arguments(backend: str) -> None:
    engines = remote(("llm",), backend, llm_api_key="sk-backend")
    harness = SessionHarness(config(modality="text", tools=[WEATHER]), engines)
    await harness.start()
    events = await harness.response({"tool_choice": {"type": "function", "name": "get_weather"}})
    done = only(events, "response.function_call_arguments.done")
    assert json.loads(done["arguments"]) == {"city": "example"}
    deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert "".join(deltas) == done["arguments"]


@both_dialects
async def test_a_wrong_backend_key_fails_the_response_visibly(backend: str) -> None:
    harness = SessionHarness(config(modality="text"), remote(("llm",), backend, llm_api_key="sk-wrong"))
    await harness.start()
    done = only(await harness.response(), "response.done")["response"]
    assert done["status"] == "failed" and "HTTP 401" in done["status_details"]["error"]["message"]


# --- failures ---------------------------------------------------------------------------------------

FAST = {"remote_connect_timeout": 0.5, "remote_read_timeout": 0.5, "remote_retries": 1}
FAILURES = [("http500", "HTTP 500"), ("http400", "HTTP 400"), ("hang", "0.5 s"), ("break", "broke off")]


@pytest.fixture
def faulty() -> Iterator[tuple[FaultyBackend, str]]:
    backend = FaultyBackend()
    with backend.running() as url:
        yield backend, url


@both_dialects
@pytest.mark.parametrize(("mode", "said"), FAILURES)
async def test_a_failing_llm_fails_the_response_and_the_next_turn_works(
    faulty: tuple[FaultyBackend, str], mode: str, said: str
) -> None:
    backend, url = faulty
    harness = SessionHarness(config(modality="text"), remote(("llm",), url, **FAST))
    await harness.start()
    backend.mode = mode
    done = only(await harness.response(), "response.done")["response"]
    assert done["status"] == "failed", done
    error = done["status_details"]["error"]
    assert error["code"] == "engine_error" and said in error["message"] and "LLM backend" in error["message"]
    backend.mode = "ok"
    events = await harness.response()
    assert only(events, "response.done")["response"]["status"] == "completed"
    assert harness.only(events, "response.output_text.done")["text"] == "Fine words here."


@both_dialects
@pytest.mark.parametrize(("mode", "said"), FAILURES)
async def test_a_failing_tts_fails_the_response_and_the_next_turn_works(
    faulty: tuple[FaultyBackend, str], mode: str, said: str
) -> None:
    backend, url = faulty
    harness = SessionHarness(config(), remote(("tts",), url, **FAST))
    await harness.start()
    backend.mode = mode
    done = only(await harness.response(), "response.done")["response"]
    assert done["status"] == "failed" and said in done["status_details"]["error"]["message"]
    backend.mode = "ok"
    assert only(await harness.response(), "response.done")["response"]["status"] == "completed"


@both_dialects
@pytest.mark.parametrize(("mode", "said"), FAILURES[:3])
async def test_a_failing_stt_reports_transcription_failed_and_the_next_turn_works(
    faulty: tuple[FaultyBackend, str], mode: str, said: str
) -> None:
    backend, url = faulty
    harness = SessionHarness(config(modality="text"), remote(("stt",), url, **FAST))
    await harness.start()
    backend.mode = mode
    await speak_turn(harness)
    failed = (await harness.until("conversation.item.input_audio_transcription.failed"))[-1]
    assert said in failed["error"]["message"] and "STT backend" in failed["error"]["message"]
    backend.mode = "ok"
    await speak_turn(harness)
    completed = (await harness.until("conversation.item.input_audio_transcription.completed"))[-1]
    assert completed["transcript"] == "Heard fine."


@pytest.mark.parametrize(
    ("answer", "heard"),
    [
        ({"language": "french"}, "fr"),  # OpenAI's verbose_json, another realtalk's
        ({"language": "fr"}, "fr"),  # speaches, faster-whisper servers
        ({"languages": [{"code": "fr"}]}, "fr"),  # OpenAI's gpt-transcribe
        ({"languages": []}, None),  # gpt-transcribe could not tell
        ({"language": "klingon"}, None),
        ({}, None),
    ],
    ids=["name", "code", "languages", "no-languages", "unknown", "absent"],
)
async def test_the_remote_stt_reports_the_language_its_backend_heard(
    faulty: tuple[FaultyBackend, str], answer: dict[str, Any], heard: str | None
) -> None:
    backend, url = faulty
    backend.transcription = {"text": "Bonjour.", **answer}
    stt = remote(("stt",), url).stt
    final = [e async for e in stt.transcribe(np.zeros(8_000, dtype=np.int16), language=None, prompt=None)][-1]
    assert final == TranscriptFinal("Bonjour.", language=heard)


@both_dialects
async def test_an_unreachable_backend_is_retried_then_reported() -> None:
    from tests.backends import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"  # nobody listens here
    harness = SessionHarness(config(modality="text"), remote(("llm",), url, **FAST))
    await harness.start()
    done = only(await harness.response(), "response.done")["response"]
    message = done["status_details"]["error"]["message"]
    assert done["status"] == "failed" and "unreachable" in message and "after 2 tries" in message
    harness.engines.llm = scripted_engines().llm
    assert only(await harness.response(), "response.done")["response"]["status"] == "completed"


async def test_a_remote_prompt_is_estimated_at_four_ascii_characters_a_token() -> None:
    call = ToolCall("c1", "get_weather", '{"city": "Paris"}')
    request = LLMRequest(
        [ChatMessage("user", "Hello there!"), ChatMessage("assistant", "", (call,)), ChatMessage("user", "日本語")]
    )
    # 4 of framing each; 12 characters; a call: 3 + "get_weather" 3 + its 17 characters 5; one a character.
    assert estimate_tokens(request) == TokenCount((7, 15, 7), 3)
    engine = remote(("llm",), "http://127.0.0.1:9/v1").llm
    assert await engine.count_tokens(request) == estimate_tokens(request)


def test_remote_tools_count_as_overhead() -> None:
    tool = FunctionSpec("get_weather", "Weather", WEATHER["parameters"])  # type: ignore[arg-type]
    bare = estimate_tokens(LLMRequest([ChatMessage("user", "Hi")]))
    tooled = estimate_tokens(LLMRequest([ChatMessage("user", "Hi")], [tool]))
    # The tool as sent, `[{"type": "function", "function": {...}}]`, is 185 characters of JSON.
    assert tooled.per_message == bare.per_message and tooled.overhead == bare.overhead + 47


def test_the_remote_context_window_is_configured() -> None:
    assert remote(("llm",), "http://127.0.0.1:9/v1").llm.context_window == 8192
    assert remote(("llm",), "http://127.0.0.1:9/v1", llm_context_tokens=32_000).llm.context_window == 32_000
