"""Reads the metadata at the head of a GGUF file (llama.cpp's model format), without loading the model.

realtalk needs one thing from it before llama.cpp starts: whether the file carries its own chat template,
since llama.cpp's `chat_template` setting would override the file's rather than stand in for a missing one.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

MAGIC = b"GGUF"
CHAT_TEMPLATE = "tokenizer.chat_template"

# GGUF value types: their struct format, for the fixed-size ones
_FIXED = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


class GGUFError(ValueError):
    """Not a GGUF file, or one cut short."""


def chat_template(path: Path) -> str | None:
    """The chat template the file carries (Jinja source), or None if it has none."""
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return _Reader(data).find_string(CHAT_TEMPLATE)


class _Reader:
    def __init__(self, data: mmap.mmap) -> None:
        self._data = data
        self._at = 0

    def find_string(self, wanted: str) -> str | None:
        if self._take(4) != MAGIC:
            raise GGUFError("not a GGUF file: it does not start with 'GGUF'")
        (version,) = self._unpack("I")
        if version < 2:
            raise GGUFError(f"GGUF version {version} is too old for llama.cpp")
        _, entries = self._unpack("QQ")
        for _ in range(entries):
            key = self._string()
            (kind,) = self._unpack("I")
            if key == wanted and kind == _STRING:
                return self._string()
            self._skip(kind)
        return None

    def _take(self, size: int) -> bytes:
        if self._at + size > len(self._data):
            raise GGUFError("the file ends inside its metadata: it is cut short")
        piece = self._data[self._at : self._at + size]
        self._at += size
        return piece

    def _unpack(self, fmt: str) -> tuple[int, ...]:
        layout = struct.Struct("<" + fmt)
        return tuple(layout.unpack(self._take(layout.size)))

    def _string(self) -> str:
        (size,) = self._unpack("Q")
        return self._take(size).decode("utf-8", errors="replace")

    def _skip(self, kind: int) -> None:
        if kind in _FIXED:
            self._at += struct.calcsize("<" + _FIXED[kind])
        elif kind == _STRING:
            (size,) = self._unpack("Q")
            self._at += size
        elif kind == _ARRAY:
            item, count = self._unpack("IQ")
            if item in _FIXED:
                self._at += count * struct.calcsize("<" + _FIXED[item])
            else:
                for _ in range(count):
                    self._skip(item)
        else:
            raise GGUFError(f"unknown GGUF value type {kind}")
