"""The sentence chunker: a short first chunk so speech starts early, then chunks that grow toward whole clauses."""

from __future__ import annotations

from realtalk.engines.speech_text import SentenceChunker

THREE_WORDS = 16  # a first chunk of about three words: the rules below are shown with it


def streamed(chunker: SentenceChunker, tokens: list[str]) -> list[list[str]]:
    """What each token pushed returns, in order."""
    return [chunker.push(token) for token in tokens]


def test_by_default_the_first_chunk_is_about_two_words() -> None:
    tokens = ["The", " capital", " of", " France", " is", " Paris", "."]
    assert streamed(SentenceChunker(), tokens) == [[], [], ["The capital"], [], [], [], []]


def test_the_first_chunk_is_cut_after_first_chars_once_the_next_word_starts() -> None:
    chunker = SentenceChunker(first_chars=THREE_WORDS)
    tokens = ["The", " capital", " of", " France", " is", " Paris", "."]
    assert streamed(chunker, tokens) == [[], [], [], [], ["The capital of France"], [], []]


def test_the_first_chunk_ends_at_a_clause_end_that_comes_sooner() -> None:
    chunker = SentenceChunker(first_chars=THREE_WORDS)
    assert streamed(chunker, ["Sure", ",", " I", " can"]) == [[], [], ["Sure,"], []]


def test_a_word_split_across_tokens_is_never_cut() -> None:
    chunker = SentenceChunker(first_chars=4)
    assert streamed(chunker, ["Photo", "synth", "esis", " is"]) == [[], [], [], ["Photosynthesis"]]


def test_a_chunk_does_not_end_on_a_word_that_leans_on_the_next() -> None:
    chunker = SentenceChunker(first_chars=THREE_WORDS)
    tokens = ["Paris", " is", " the", " capital", " of", " France", "."]
    assert streamed(chunker, tokens) == [[], [], [], [], ["Paris is the capital"], [], []]


def test_later_chunks_are_whole_clauses() -> None:
    chunker = SentenceChunker(first_chars=THREE_WORDS)
    pieces = chunker.push("Well, the capital of France is Paris. It has many museums. ")
    assert pieces == ["Well,", " the capital of France is Paris.", " It has many museums."]


def test_a_later_clause_shorter_than_min_chars_joins_the_next() -> None:
    chunker = SentenceChunker(first_chars=THREE_WORDS)
    assert chunker.push("Yes, ok. That works fine. ") == ["Yes,", " ok. That works fine."]


def test_a_run_on_clause_is_cut_at_word_boundaries_into_chunks_that_grow() -> None:
    chunker = SentenceChunker(first_chars=THREE_WORDS)
    words = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen"
    words += " eighteen nineteen twenty"
    pieces = [piece for word in words.split() for piece in chunker.push(word + " ")]
    assert pieces == [
        "one two three four",  # 18 characters: the first chunk
        " five six seven eight nine ten",  # at most twice the 18 before it
        " eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen",  # at most 70
    ]
    assert chunker.flush() == " nineteen twenty "


def test_a_later_chunk_grows_up_to_max_chars() -> None:
    chunker = SentenceChunker(first_chars=THREE_WORDS, max_chars=30)
    words = " ".join(["word"] * 30)
    pieces = [piece for word in words.split() for piece in chunker.push(word + " ")]
    assert [len(piece) for piece in pieces] == [19, 30, 30, 30, 30]


def test_a_chunk_cut_short_ends_at_its_last_clause_end_rather_than_between_words() -> None:
    chunker = SentenceChunker(first_chars=THREE_WORDS)
    assert chunker.push("The capital of France ") == ["The capital of France"]
    assert chunker.push("is Paris. It is known for the Eiffel Tower ") == [" is Paris."]


def test_flush_returns_the_text_not_yet_cut() -> None:
    chunker = SentenceChunker(first_chars=THREE_WORDS)
    chunker.push("The capital of France is Paris")
    assert chunker.flush() == " is Paris"
