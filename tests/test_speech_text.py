"""The sentence chunker cuts streaming text where speech can start: clause ends, or a word boundary."""

from __future__ import annotations

from realtalk.engines.speech_text import SentenceChunker


def test_chunker_cuts_at_clause_and_sentence_ends_as_text_streams() -> None:
    chunker = SentenceChunker()
    pieces = [chunker.push(t) for t in ["Well, the capital", " of France is Paris", ". It has", " museums!"]]
    assert pieces == [[], [], ["Well, the capital of France is Paris."], []]
    assert chunker.flush() == " It has museums!"


def test_chunker_cuts_a_run_on_clause_at_a_word_boundary() -> None:
    chunker = SentenceChunker(max_chars=30)
    words = "one two three four five six seven eight nine ten eleven twelve"
    pieces = [piece for word in words.split() for piece in chunker.push(word + " ")]
    assert pieces and all(len(piece) <= 30 for piece in pieces)
    assert "".join(pieces) + chunker.flush() == words + " "


def test_chunker_keeps_very_short_clauses_together() -> None:
    chunker = SentenceChunker()
    assert chunker.push("Yes, ok. ") == []
    assert chunker.push("That works fine. ") == ["Yes, ok. That works fine."]
