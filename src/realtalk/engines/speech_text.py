"""Cuts streaming text at clause and sentence ends, so speech can start before the text is finished.

It lives with the engines because it is how text is fed to any TTS engine: a realtime response and
`/v1/audio/speech` both cut their text here, and neither needs to know about the other.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"[.!?;:,…](?=\s)|\n")
MIN_CHARS = 12
MAX_CHARS = 70  # a clause that runs on is cut at a word boundary, so speech need not wait for its end


class SentenceChunker:
    def __init__(self, min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS) -> None:
        self._pending = ""
        self._min_chars = min_chars
        self._max_chars = max_chars

    def push(self, text: str) -> list[str]:
        """Add text; return every complete clause of at least `min_chars` characters, in order.

        Text that reaches `max_chars` with no clause end in it is cut at its last space instead.
        """
        self._pending += text
        chunks: list[str] = []
        start = 0
        for match in _BOUNDARY.finditer(self._pending):
            end = match.end()
            if len(self._pending[start:end].strip()) >= self._min_chars:
                chunks.append(self._pending[start:end])
                start = end
        self._pending = self._pending[start:]
        while len(self._pending) > self._max_chars and " " in self._pending.strip():
            cut = self._pending.rstrip().rfind(" ", 0, self._max_chars)
            if cut <= 0:
                break
            chunks.append(self._pending[:cut])
            self._pending = self._pending[cut:]
        return chunks

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return rest
