"""Numbers said in words, read as digits: "twenty-five" → 25, "one hundred and five" → 105, "a thousand" →
1000. The quality benchmark reads answers with it; the embedded engine reads a request's numbers with it, to
hold a tool's numeric arguments to the numbers the user said."""

from __future__ import annotations

from collections.abc import Sequence

_UNIT_NAMES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
)
UNITS = {name: value for value, name in enumerate(_UNIT_NAMES.split(" "))}
_TENS_NAMES = "twenty thirty forty fifty sixty seventy eighty ninety"
TENS = {name: 10 * value for value, name in enumerate(_TENS_NAMES.split(" "), 2)}
SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}


def numbers_as_digits(words: Sequence[str]) -> list[str]:
    """Each run of number words becomes one number. A run ends where the words stop composing one number:
    "five five" is two numbers, "twenty five" is one, "five twenty" two."""
    out: list[str] = []
    number: _Number | None = None
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if word == "a" and following in ("hundred", *SCALES) and number is None:
            number = _Number()
            number.add_units(1)
            continue
        if word == "and" and number is not None and number.open_after_scale and _is_small(following):
            continue
        if number is not None and not number.accepts(word):
            out.append(number.digits())
            number = None
        if word in UNITS or word in TENS or word == "hundred" or word in SCALES:
            number = number or _Number()
            number.take(word)
        else:
            out.append(word)
    if number is not None:
        out.append(number.digits())
    return out


def _is_small(word: str) -> bool:
    return word in UNITS or word in TENS


class _Number:
    """A number being read word by word: `total` holds the finished thousands, `current` the rest."""

    def __init__(self) -> None:
        self.total = 0
        self.current = 0
        self.last = ""  # "units", "teens", "tens", "hundred" or "scale"

    @property
    def open_after_scale(self) -> bool:
        return self.last in ("hundred", "scale")

    def accepts(self, word: str) -> bool:
        if word in UNITS:
            small = "teens" if UNITS[word] >= 10 else "units"
            return self.last in ("hundred", "scale") or (self.last == "tens" and small == "units")
        if word in TENS:
            return self.last in ("hundred", "scale")
        if word == "hundred":
            return self.last in ("units", "teens", "tens") and self.current < 100
        if word in SCALES:
            return self.last != "scale" and SCALES[word] > self.total
        return False

    def add_units(self, value: int) -> None:
        self.current += value
        self.last = "units"

    def take(self, word: str) -> None:
        if word in UNITS:
            self.current += UNITS[word]
            self.last = "teens" if UNITS[word] >= 10 else "units"
        elif word in TENS:
            self.current += TENS[word]
            self.last = "tens"
        elif word == "hundred":
            self.current = max(self.current, 1) * 100
            self.last = "hundred"
        else:
            self.total += max(self.current, 1) * SCALES[word]
            self.current = 0
            self.last = "scale"

    def digits(self) -> str:
        return str(self.total + self.current)
