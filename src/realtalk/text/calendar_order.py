"""The calendar's order, for questions such as "what day comes after Wednesday", "which month is before
June", "what season follows winter", "what is the fifth month of the year" or "how many days are in April".

Days, months and seasons each go round in a fixed cycle (seasons in the order both hemispheres share); a
month's days are the Gregorian calendar's. A question is answered only when every word of it is a word of
such a question; anything else is left to the model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from realtalk.text.number_words import number_in_words, spoken_words

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
SEASONS = ("spring", "summer", "autumn", "winter")
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
CYCLES = {"day": DAYS, "month": MONTHS, "season": SEASONS}
ORDINALS = (
    "first", "second", "third", "fourth", "fifth", "sixth",
    "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth",
)  # fmt: skip
_ORDINAL_DIGITS = re.compile(r"(\d+)(?:st|nd|rd|th)")
_LATER = frozenset({"after", "follows", "follow", "next"})
_EARLIER = frozenset({"before", "precedes", "precede", "previous"})
# Every other word a question of order may have: "what is the day that comes right after Monday"
_ORDER_WORDS = frozenset({
    "what", "which", "whats", "is", "comes", "come", "does", "the", "that", "of", "a", "right", "just",
    "immediately", "directly", "week", "year", "day", "days", "month", "months", "season", "seasons",
})  # fmt: skip
_DAYS_IN_MONTH_WORDS = frozenset(
    {"how", "many", "days", "are", "there", "is", "in", "does", "have", "has", "month", "of", "the"}
)


def calendar_answer(question: str) -> str | None:
    """ "The day after Wednesday is Thursday.", "The fifth month of the year is May.", "April has thirty
    days.", or None when the question is about none of these (see the module's docstring)."""
    words = [_ORDINAL_DIGITS.sub(r"\1", w) for w in spoken_words(question)]
    named = [(kind, cycle.index(_name(w))) for w in words for kind, cycle in CYCLES.items() if _name(w) in cycle]
    if len(named) == 1:
        return _neighbour(words, *named[0]) or _days_in(words, *named[0])
    if not named:
        return _nth_month(words)
    return None


def _neighbour(words: Sequence[str], kind: str, index: int) -> str | None:
    later, earlier = _LATER & set(words), _EARLIER & set(words)
    if bool(later) == bool(earlier):
        return None
    cycle = CYCLES[kind]
    if any(w not in _ORDER_WORDS | later | earlier and _name(w) != cycle[index] for w in words):
        return None
    step = 1 if later else -1
    said = _said(words, cycle[index])
    answer = _said(words, cycle[(index + step) % len(cycle)])
    return f"The {kind} {'after' if later else 'before'} {said} is {answer}."


def _days_in(words: Sequence[str], kind: str, index: int) -> str | None:
    if kind != "month" or words[:3] != ["how", "many", "days"]:
        return None
    if any(w not in _DAYS_IN_MONTH_WORDS and w != MONTHS[index] for w in words):
        return None
    month = MONTHS[index].capitalize()
    days = number_in_words(MONTH_DAYS[index])
    leap = ", and twenty-nine in a leap year" if MONTHS[index] == "february" else ""
    return f"{month} has {days} days{leap}."


def _nth_month(words: Sequence[str]) -> str | None:
    """ "what is the fifth month (of the year)", "which month is month 5", "the last month of the year" """
    if "month" not in words or not {"what", "which", "whats"} & set(words):
        return None
    positions = [i for i, w in enumerate(words) if w in ORDINALS or w == "last" or (w.isdigit() and w != "0")]
    if len(positions) != 1:
        return None
    word = words[positions[0]]
    place = 12 if word == "last" else ORDINALS.index(word) + 1 if word in ORDINALS else int(word)
    if place > 12 or any(w not in _ORDER_WORDS and w != word for w in words):
        return None
    ordinal = "last" if word == "last" else ORDINALS[place - 1]
    return f"The {ordinal} month of the year is {MONTHS[place - 1].capitalize()}."


def _name(word: str) -> str:
    return "autumn" if word == "fall" else word


def _said(words: Sequence[str], name: str) -> str:
    """A name as the question said it ("fall" for autumn, to one who says fall); days and months capitalized."""
    if name == "autumn" and "fall" in words:
        return "fall"
    return name if name in SEASONS else name.capitalize()
