"""Cuts streaming text at clause and sentence ends, so speech can start before the text is finished."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"[.!?;:,…](?=\s)|\n")
MIN_CHARS = 12


class SentenceChunker:
    def __init__(self, min_chars: int = MIN_CHARS) -> None:
        self._pending = ""
        self._min_chars = min_chars

    def push(self, text: str) -> list[str]:
        """Add text; return every complete clause of at least `min_chars` characters, in order."""
        self._pending += text
        chunks: list[str] = []
        start = 0
        for match in _BOUNDARY.finditer(self._pending):
            end = match.end()
            if len(self._pending[start:end].strip()) >= self._min_chars:
                chunks.append(self._pending[start:end])
                start = end
        self._pending = self._pending[start:]
        return chunks

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return rest
