"""Numbers said in words, read as digits: "twenty-five" → 25, "one hundred and five" → 105, "a thousand" →
1000; and digits said back in words. The quality benchmark reads answers with it; the embedded engine reads a
request's numbers with it, to hold a tool's numeric arguments to the numbers the user said and to compute what
a small model would invent (`computed_answers`), whose results it says in words."""

from __future__ import annotations

import re
from collections.abc import Sequence

_UNIT_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
UNITS = {name: value for value, name in enumerate(_UNIT_WORDS)}
_TENS_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
TENS = {name: 10 * value for value, name in enumerate(_TENS_WORDS, 2)}
SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "trillion": 1_000_000_000_000}
# The symbols a voice reads out, as the words it says ("-" only between spaces: elsewhere it joins words)
SPOKEN_SYMBOLS = {
    " - ": " minus ",
    "+": " plus ",
    "=": " equals ",
    "%": " percent ",
    "°": " degrees ",
    "\u00d7": " times ",  # the multiplication sign
    "*": " times ",
    "÷": " divided by ",
}
_DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d{3})")
_DIGIT_SLASH = re.compile(r"(?<=\d)\s*/\s*(?=\d)")
_NEGATIVE = re.compile(r"(?<![\w.])-(?=\d)")  # "-5", not the hyphen of "covid-19"
_SPOKEN_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_DIGITS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def is_number(word: str) -> bool:
    """Whether a word of `spoken_words` is a number ("12", "3.5"; not "inf", which `float` would take)."""
    return _DIGITS.fullmatch(word) is not None


def spoken_words(text: str) -> list[str]:
    """Text as the words a voice says, lower case, every number in digits: symbols read out ("3/4" is "3
    divided by 4", "-5" is "minus 5"), other punctuation and apostrophes gone, hyphens split, "1,000" and "a
    thousand" → "1000"."""
    lowered = _DIGIT_COMMA.sub("", text.lower()).replace("'", "").replace("\u2019", "")
    lowered = _NEGATIVE.sub(" minus ", _DIGIT_SLASH.sub(" divided by ", lowered))
    for symbol, word in SPOKEN_SYMBOLS.items():
        lowered = lowered.replace(symbol, word)
    return numbers_as_digits(_SPOKEN_WORD.findall(lowered.replace("-", " ")))


def number_in_words(value: int) -> str:
    """A whole number as a voice says it: 105 → "one hundred five", -21 → "minus twenty-one"."""
    if value < 0:
        return "minus " + number_in_words(-value)
    if value < 1000:
        return _below_thousand(value)
    parts: list[str] = []
    for name, scale in sorted(SCALES.items(), key=lambda item: -item[1]):
        if value >= scale:
            parts.append(f"{number_in_words(value // scale)} {name}")
            value %= scale
    if value:
        parts.append(_below_thousand(value))
    return " ".join(parts)


def decimal_in_words(value: float, places: int) -> str:
    """A number rounded to `places` decimals as a voice says it: 3.5 → "three point five" (digit by digit
    after the point), a whole one without the point."""
    text = f"{abs(value):.{places}f}".rstrip("0").rstrip(".") if places else str(round(abs(value)))
    whole, _, fraction = text.partition(".")
    said = number_in_words(int(whole))
    if fraction:
        said += " point " + " ".join(_UNIT_WORDS[int(digit)] for digit in fraction)
    return "minus " + said if value < 0 and text.strip("0.") else said


def _below_thousand(value: int) -> str:
    hundreds, rest = divmod(value, 100)
    words = [f"{_UNIT_WORDS[hundreds]} hundred"] if hundreds else []
    if rest < 20 and (rest or not hundreds):
        words.append(_UNIT_WORDS[rest])
    elif rest >= 20:
        tens, units = divmod(rest, 10)
        words.append(_TENS_WORDS[tens - 2] + (f"-{_UNIT_WORDS[units]}" if units else ""))
    return " ".join(words)


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
        self.smallest_scale = 0  # the last scale word's value: a later one must be smaller ("million … thousand")

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
            return self.last != "scale" and (not self.smallest_scale or SCALES[word] < self.smallest_scale)
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
            self.smallest_scale = SCALES[word]

    def digits(self) -> str:
        return str(self.total + self.current)
