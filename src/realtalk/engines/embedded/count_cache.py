"""Token counts of messages already counted, so that each turn of a conversation tokenizes only what is new.

The cache is bounded by the text it keeps, not by how many messages: one message may be a whole document
(instructions, a tool's output), and under sustained load the cache is full of conversations long closed.
The oldest are forgotten first, as a conversation fitted to its window drops its oldest turns.
"""

from __future__ import annotations

Key = tuple[str, str]  # (role, content): what the chat template sees of a message, so all its count depends on

BUDGET_CHARS = 4 * 2**20  # of message text: about 16,000 turns of a spoken conversation


class CountCache:
    def __init__(self, budget_chars: int = BUDGET_CHARS) -> None:
        self.budget_chars = budget_chars
        self.chars = 0  # of the messages remembered now
        self._counts: dict[Key, int] = {}

    def __len__(self) -> int:
        return len(self._counts)

    def get(self, key: Key) -> int | None:
        return self._counts.get(key)

    def remember(self, counted: dict[Key, int]) -> None:
        for key, count in counted.items():
            if key not in self._counts:
                self.chars += len(key[1])
            self._counts[key] = count
        while self.chars > self.budget_chars:
            oldest = next(iter(self._counts))
            del self._counts[oldest]
            self.chars -= len(oldest[1])
