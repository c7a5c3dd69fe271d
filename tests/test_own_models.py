"""Models of the user's own, read from the paths given (the packaged files stand in for them here), and the
languages Whisper hears: fixed by the session, or detected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from realtalk.engines.base import ChatMessage, LLMRequest, TextDelta, TranscriptFinal, UnsupportedLanguage
from realtalk.engines.embedded import kokoro, smollm, whisper
from realtalk.engines.embedded.model_files import ModelFileError
from realtalk.engines.embedded.smollm import SmolLM
from realtalk.engines.registry import Engines, build_engines
from tests.speech import speak
from tests.test_cli import settings_for
from tests.test_embedded_engines import at_16k, transcribe
from tests.wer import word_error_rate

SCRIPTED_BUT = ["--vad", "scripted", "--turn", "scripted"]
FRENCH = "Bonjour, je voudrais réserver une table pour deux personnes ce soir."
QUESTION = LLMRequest([ChatMessage("user", "What is the capital of France?")], max_output_tokens=20)


def engines_for(argv: list[str]) -> Engines:
    return build_engines(settings_for([*SCRIPTED_BUT, *argv]).engine_choice())


@pytest.mark.models
async def test_llm_gguf_pointed_at_the_packaged_smollm2_file_answers() -> None:
    gguf = str(smollm.model_path())
    engines = engines_for(["--stt", "scripted", "--tts", "scripted", "--seed", "7", "--llm-gguf", gguf])
    answer = "".join([e.text async for e in engines.llm.stream(QUESTION) if isinstance(e, TextDelta)])
    assert "Paris" in answer


@pytest.fixture(scope="module")
def templateless_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2's file with its chat template's key renamed, as a GGUF converted without one would be."""
    path = tmp_path_factory.mktemp("gguf") / "no-template.gguf"
    renamed = smollm.model_path().read_bytes().replace(b"tokenizer.chat_template", b"tokenizer.chat_templatX", 1)
    path.write_bytes(renamed)
    return path


async def prompt_tokens(path: Path, chat_template: str | None) -> int:
    return (await SmolLM(path, chat_template=chat_template, context_tokens=512).count_tokens(QUESTION)).total


@pytest.mark.models
async def test_a_gguf_without_a_chat_template_is_rendered_with_the_named_one(templateless_gguf: Path) -> None:
    chatml, llama3 = await prompt_tokens(templateless_gguf, "chatml"), await prompt_tokens(templateless_gguf, "llama3")
    assert chatml == await prompt_tokens(templateless_gguf, None)  # llama.cpp's own fallback is ChatML
    assert llama3 != chatml


@pytest.mark.models
async def test_the_named_chat_template_never_overrides_the_files_own() -> None:
    packaged = smollm.model_path()
    assert await prompt_tokens(packaged, "llama3") == await prompt_tokens(packaged, None)


@pytest.mark.models
async def test_whisper_model_pointed_at_a_directory_hears() -> None:
    engines = engines_for(["--llm", "scripted", "--tts", "scripted", "--whisper-model", str(whisper.tiny_en_dir())])
    question = speak("What is the capital of France?")
    final = (await transcribe(engines.stt, at_16k(question.samples)))[-1]
    assert isinstance(final, TranscriptFinal) and word_error_rate(question.text, final.text) <= 0.25


def test_a_whisper_size_name_not_on_disk_is_refused_without_a_download(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as refused:
        whisper.model_dir("large-v3", tmp_path)
    assert str(refused.value) == (
        "whisper_model 'large-v3': no such directory, and no Whisper model of that name is on disk "
        "(nothing is downloaded): give the path of a CTranslate2 Whisper model directory"
    )


@pytest.fixture(scope="module")
def whisper_base(tmp_path_factory: pytest.TempPathFactory) -> whisper.WhisperSTT:
    """Multilingual Whisper base, with the server's language left at `auto`."""
    return whisper.WhisperSTT(whisper.base_dir(tmp_path_factory.mktemp("realtalk-data")))


async def french_final(stt: whisper.WhisperSTT, language: str | None) -> TranscriptFinal:
    audio = at_16k(speak(FRENCH, voice="fr").samples)
    final = [e async for e in stt.transcribe(audio, language=language, prompt=None)][-1]
    assert isinstance(final, TranscriptFinal)
    return final


async def heard(stt: whisper.WhisperSTT, language: str | None) -> str:
    return (await french_final(stt, language)).text.lower()


@pytest.mark.models
async def test_whisper_base_hears_french_when_the_session_says_fr(whisper_base: whisper.WhisperSTT) -> None:
    text = await heard(whisper_base, "fr")
    assert "je voudrais" in text and "table" in text


@pytest.mark.models
async def test_whisper_base_detects_french_when_the_language_is_auto(whisper_base: whisper.WhisperSTT) -> None:
    text = await heard(whisper_base, None)
    assert "je voudrais" in text and "table" in text


@pytest.mark.models
@pytest.mark.parametrize("language", ["fr", None], ids=["fixed", "detected"])
async def test_whisper_base_reports_the_language_it_heard(
    whisper_base: whisper.WhisperSTT, language: str | None
) -> None:
    assert (await french_final(whisper_base, language)).language == "fr"


@pytest.mark.models
async def test_whisper_refuses_a_language_it_does_not_know(whisper_base: whisper.WhisperSTT) -> None:
    with pytest.raises(UnsupportedLanguage) as refused:
        await heard(whisper_base, "xx")
    assert str(refused.value) == "input_audio_transcription.language: Whisper does not know the language 'xx'"
    assert refused.value.reason == "Whisper does not know the language 'xx'"


@pytest.fixture(scope="module")
def kokoro_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    model = kokoro.model_file(tmp_path_factory.mktemp("realtalk-data"))
    return ["--kokoro-model", str(model), "--kokoro-voices", str(kokoro.packaged_voices_file())]


@pytest.mark.models
async def test_kokoro_files_speak_and_tts_voices_map_an_openai_voice_to_one_of_theirs(kokoro_files: list[str]) -> None:
    engines = engines_for(["--llm", "scripted", "--stt", "scripted", *kokoro_files, "--tts-voices", "alloy=jm_kumo"])

    async def said(voice: str) -> np.ndarray:
        return np.concatenate([c async for c in engines.tts.synthesize("Good morning.", voice=voice, speed=1.0)])

    alloy, ash = await said("alloy"), await said("ash")  # ash is jm_kumo alone
    assert len(alloy) > kokoro.SAMPLE_RATE // 4 and np.array_equal(alloy, ash)


@pytest.mark.models
def test_a_tts_voice_the_voices_file_lacks_is_refused(kokoro_files: list[str]) -> None:
    with pytest.raises(ValueError) as refused:
        engines_for(["--llm", "scripted", "--stt", "scripted", *kokoro_files, "--tts-voices", "alloy=af_bella"])
    assert str(refused.value) == (
        f"tts_voices: alloy=af_bella, but {kokoro.packaged_voices_file()} has no voice 'af_bella'"
    )
