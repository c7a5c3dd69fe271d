"""Cuts streaming text into chunks for speech: a short first one, so audio starts early, then whole clauses.

It lives with the engines because it is how text is fed to any TTS engine: a realtime response and
`/v1/audio/speech` both cut their text here, and neither needs to know about the other.

The first audio of an answer waits for its whole first chunk to be synthesized, so the first chunk is
cut after about two words, or at a clause end if one comes sooner. Each later chunk is synthesized
while the audio before it plays. Kokoro on two idle cores takes about 0.1 s plus a quarter of the audio's
length (twice or three times that on a busy machine), so a chunk up to twice as long as all the text
before it is ready in time on idle cores, and mostly on busy ones; chunks thus grow toward whole clauses,
which sound more natural. Every chunk is spoken with its own falling end and a pause of about 0.15 s
around it, so a chunk is never cut inside a word nor after a word that leans on the next ("the", "of",
...), and when it must be cut short, it is cut at a clause end if it holds one.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"[.!?;:,…](?=\s)|\n")
_WORD_END = re.compile(r"\S(?=\s)")
_WORD = re.compile(r"[\w']+$")
# Words said together with the word after them: a chunk that ends on one sounds cut off mid-phrase.
_LEANING = frozenset(
    {"a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "from", "with", "into", "about", "as", "than"}
    | {"and", "or", "but", "nor", "if", "is", "are", "was", "were", "my", "your", "his", "her", "its", "our", "their"}
)
FIRST_CHARS = 10  # the first chunk is cut at the first word boundary past this: about two words, 0.7 s of speech
MIN_CHARS = 12  # a later clause shorter than this joins the next one: a pause after every few words sounds halting
MAX_CHARS = 70  # a clause that runs on is cut at a word boundary, so speech need not wait for its end
GROWTH = 2  # a later chunk may be this many times as long as all the text before it (or as FIRST_CHARS)


class SentenceChunker:
    def __init__(self, first_chars: int = FIRST_CHARS, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS) -> None:
        self._pending = ""
        self._spoken = 0  # characters already cut into chunks
        self._first_chars = first_chars
        self._min_chars = min_chars
        self._max_chars = max_chars

    def push(self, text: str) -> list[str]:
        """Add text; return every chunk that is now complete, in order."""
        self._pending += text
        chunks: list[str] = []
        while (end := self._next_cut()) is not None:
            chunks.append(self._pending[:end])
            self._pending = self._pending[end:]
            self._spoken += end
        return chunks

    def flush(self) -> str:
        """The text not yet cut: the end of the answer, spoken whatever its length."""
        rest, self._pending = self._pending, ""
        return rest

    def _next_cut(self) -> int | None:
        """Where the pending text's next chunk ends, or None while more text could still move it."""
        return self._later_cut() if self._spoken else self._first_cut()

    def _first_cut(self) -> int | None:
        """The first clause end, or the first word boundary once `first_chars` are there, whichever comes first."""
        clause = next(iter(self._clause_ends()), None)
        word = next((end for end in self._word_ends() if len(self._pending[:end].strip()) >= self._first_chars), None)
        return min((cut for cut in (clause, word) if cut is not None), default=None)

    def _later_cut(self) -> int | None:
        """The first clause end of at least `min_chars`; failing that, once the text outgrows the chunk's limit,
        its last clause end within the limit, else its last word boundary."""
        limit = min(GROWTH * max(self._spoken, self._first_chars), self._max_chars)
        clause_ends = [end for end in self._clause_ends() if end <= limit]
        whole = next((end for end in clause_ends if len(self._pending[:end].strip()) >= self._min_chars), None)
        if whole is not None or len(self._pending) <= limit:
            return whole
        return clause_ends[-1] if clause_ends else self._last_word_end(limit)

    def _clause_ends(self) -> list[int]:
        return [m.end() for m in _BOUNDARY.finditer(self._pending) if self._pending[: m.end()].strip()]

    def _last_word_end(self, limit: int) -> int | None:
        """The last word boundary within `limit`; past it only if there is none (a long first word is kept whole)."""
        ends = self._word_ends()
        within = [end for end in ends if end <= limit]
        return within[-1] if within else (ends[0] if ends else None)

    def _word_ends(self) -> list[int]:
        """Where the pending text may be cut between words: after a whole word that does not lean on the next."""
        ends = (m.end() for m in _WORD_END.finditer(self._pending))
        return [end for end in ends if _last_word(self._pending[:end]) not in _LEANING]


def _last_word(text: str) -> str:
    match = _WORD.search(text)
    return match.group().lower() if match else ""
