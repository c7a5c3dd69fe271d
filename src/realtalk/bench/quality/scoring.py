"""How an answer is judged: one normalization for matching answers and for word error rates.

Normalized text is a list of words: lower case; the symbols a voice reads out ("+", "=", "%", "°", and
"-" between spaces) written as the words it says; other punctuation and apostrophes gone, hyphens split;
the articles "a", "an" and "the" dropped; and every number written as digits ("twenty-five" → "25", "one
hundred and five" → "105", "a thousand" → "1000", "1,000" → "1000"), so "four" and "4" are the same word
whichever side wrote which.

An answer is correct when one of its accepted answers appears in it (as consecutive normalized words) and
none of its wrong answers does. When the accepted answers are numbers, every other number counts as a
wrong answer too, unless its context said it (the question and the numbers the dataset lists as also
true, such as 32 °F beside 0 °C; for a tool's result, the request and the result), or it is 1 ("an easy
one", "in one hour"): "two plus two equals five" is wrong, "two plus two is four" is right, and "eight, or
maybe nine" is wrong. Plain mention is all it takes otherwise: a rambling answer that names the right
city is right, so the accuracy is an upper bound of what a listener would call right.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jsonschema import Draft7Validator

from realtalk.text.number_words import is_number, spoken_words

ARTICLES = frozenset({"a", "an", "the"})


def normalize(text: str) -> list[str]:
    return [word for word in spoken_words(text) if word not in ARTICLES]


def mentions(text: Sequence[str], phrase: Sequence[str]) -> bool:
    """Whether the normalized `phrase` appears in the normalized `text` as consecutive words."""
    size = len(phrase)
    return size > 0 and any(list(text[i : i + size]) == list(phrase) for i in range(len(text) - size + 1))


def judge(answer: str, accepted: Iterable[str], wrong: Iterable[str] = (), context: str = "") -> bool:
    """Correct: an accepted answer appears and no wrong one does (for numeric answers, no number that is
    neither accepted nor said in `context`). See the module's docstring."""
    said = normalize(answer)
    right = [normalize(a) for a in accepted]
    if not any(mentions(said, phrase) for phrase in right):
        return False
    if any(mentions(said, normalize(w)) for w in wrong):
        return False
    if right and all(len(phrase) == 1 and is_number(phrase[0]) for phrase in right):
        allowed = {"1", *(phrase[0] for phrase in right), *(w for w in normalize(context) if is_number(w))}
        return all(word in allowed for word in said if is_number(word))
    return True


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions + deletions + insertions of the best word alignment (Levenshtein over words)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def word_error_rate(pairs: Iterable[tuple[str, str]]) -> float | None:
    """The corpus WER of (reference, hypothesis) pairs, normalized alike: all errors over all reference
    words, so a long sentence weighs more than a short one. None when there are no reference words."""
    errors = words = 0
    for reference, hypothesis in pairs:
        ref = normalize(reference)
        errors += word_errors(ref, normalize(hypothesis))
        words += len(ref)
    return errors / words if words else None


def argument_problems(arguments: str, schema: dict[str, Any], expected: Mapping[str, Sequence[Any]]) -> list[str]:
    """Why a tool call's arguments are not the ones asked for (none: they are): not a JSON object, not
    valid against the tool's schema, or a value that matches none of its accepted values (normalized
    alike, "Paris, France" mentions "paris"; numbers as numbers, "5" and 5.0 alike)."""
    try:
        given = json.loads(arguments)
    except json.JSONDecodeError:
        return ["not JSON"]
    if not isinstance(given, dict):
        return ["not a JSON object"]
    problems = [f"schema: {error.message}" for error in Draft7Validator(schema).iter_errors(given)]
    for name, accepted in expected.items():
        value = normalize(_as_text(given[name])) if name in given else None  # missing: the schema said so
        if value is not None and not any(mentions(value, normalize(_as_text(a))) for a in accepted):
            problems.append(f"{name}: {given[name]!r} is none of {list(accepted)}")
    return problems


def _as_text(value: Any) -> str:
    """A value as a spoken word would normalize: 5.0 is "5"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
