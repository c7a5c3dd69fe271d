"""Languages by code and by name: what engines report, and what OpenAI's `verbose_json` says."""

from __future__ import annotations

import pytest
from faster_whisper.tokenizer import _LANGUAGE_CODES

from realtalk.text.language_names import NAMES, language_code, language_name


def test_every_language_whisper_can_detect_has_a_name() -> None:
    assert sorted(NAMES) == sorted(_LANGUAGE_CODES)


@pytest.mark.parametrize(("code", "name"), [("en", "english"), ("fr", "french"), ("ht", "haitian creole")])
def test_a_code_is_named_as_openai_names_it(code: str, name: str) -> None:
    assert language_name(code) == name


def test_a_code_whisper_does_not_know_is_reported_as_given() -> None:
    assert language_name("xx") == "xx"


@pytest.mark.parametrize("reported", ["fr", "FR", "fr-FR", "fr_CA", "french", "French"])
def test_a_language_reported_by_code_or_name_reads_as_its_code(reported: str) -> None:
    assert language_code(reported) == "fr"


@pytest.mark.parametrize("reported", ["", "klingon", "xx-FR"])
def test_a_language_that_is_neither_a_known_code_nor_name_reads_as_none(reported: str) -> None:
    assert language_code(reported) is None
