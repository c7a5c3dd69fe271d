"""Arithmetic asked in words, parsed and computed: "what's twelve divided by three", "add 6 and 7", "half
of ten", "five squared", "20 percent of 50", "the square root of 81".

A question is arithmetic only when all of it is: an opening such as "what is" or "calculate", one
expression, and at most a closing "equal" or "make". "What is two plus two apples" or "how many legs do three
spiders have" are not, and are left to the model. Operators follow the usual precedence (times before plus);
the result is exact for whole numbers, rounded to two decimals otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from realtalk.text.number_words import decimal_in_words, is_number, spoken_words

DECIMALS = 2
LARGEST = 10**15  # a result beyond this, or a power beyond MAX_EXPONENT, is no answer a voice should read
MAX_EXPONENT = 64
# What a question may say before its expression and after it; "please" and the like go first
OPENINGS = (
    (),
    ("what", "is"),
    ("whats",),
    ("what", "does"),
    ("what", "do"),
    ("how", "much", "is"),
    ("calculate",),
    ("compute",),
    ("work", "out"),
    ("what", "is", "the", "answer", "to"),
    ("tell", "me"),
    ("tell", "me", "what"),
    ("can", "you", "tell", "me", "what"),
    ("do", "you", "know", "what"),
)
CLOSINGS = ((), ("equal",), ("equals",), ("make",), ("makes",), ("come", "to"))
COURTESIES = frozenset({"please", "hey", "okay", "ok", "so", "um", "uh", "now", "quick", "question"})
_OPERATORS: dict[tuple[str, ...], str] = {
    ("plus",): "+",
    ("minus",): "-",
    ("take", "away"): "-",
    ("times",): "*",
    ("x",): "*",
    ("multiplied", "by"): "*",
    ("divided", "by"): "/",
    ("over",): "/",
    ("to", "the", "power", "of"): "^",
}
_LEVELS = {"+": 1, "-": 1, "*": 2, "/": 2}  # the operators of a sum (1) and of a product (2)
# "add 3 and 4", "subtract 2 from 9": a verb's operator, and the words that may join its operands, each with
# whether it puts the second operand first ("from 9": 9 - 2)
_VERBS: dict[tuple[str, ...], tuple[str, dict[str, bool]]] = {
    ("add",): ("+", {"and": False, "to": True}),
    ("subtract",): ("-", {"from": True}),
    ("take",): ("-", {"from": True}),
    ("multiply",): ("*", {"by": False, "and": False}),
    ("divide",): ("/", {"by": False}),
    ("sum", "of"): ("+", {"and": False}),  # "the" before these is optional
    ("product", "of"): ("*", {"and": False}),
    ("difference", "between"): ("-", {"and": False}),
}
_FRACTIONS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4}
_FRACTIONS |= {
    f"{stem}{end}": n
    for n, stem in enumerate(("four", "fif", "six", "seven", "eigh", "nin", "ten"), 4)
    for end in ("th", "ths")
}
_OPERATOR_WORDS = {"+": "plus", "-": "minus", "*": "times", "/": "divided by", "^": "to the power of"}


@dataclass(frozen=True)
class Worked:
    """An expression and its value: what the question asked, said back, and its result."""

    said: str  # the expression in words, as the answer restates it
    value: float


class _NoAnswer(Exception):
    """The words are not (all) arithmetic, or their result is none a voice can say."""


def arithmetic_answer(question: str) -> str | None:
    """The spoken answer to an arithmetic question ("Twelve divided by three is four."), or None when the
    question is not one (see the module's docstring)."""
    words = [w for w in spoken_words(question) if w not in COURTESIES]
    for opening in OPENINGS:
        if tuple(words[: len(opening)]) != opening:
            continue
        try:
            worked, end = _Parser(words, len(opening)).expression_to_end()
        except _NoAnswer:
            continue
        if tuple(words[end:]) in CLOSINGS:
            return _answer(worked)
    return None


def _answer(worked: Worked) -> str:
    value = worked.value
    if math.isnan(value):
        return "That has no answer: nothing can be divided by zero."
    exact = math.isclose(value, round(value, DECIMALS), abs_tol=1e-9)
    result = decimal_in_words(value, DECIMALS)
    return f"{worked.said[0].upper()}{worked.said[1:]} is {'' if exact else 'about '}{result}."


class _Parser:
    """Recursive descent over the words: sum := product (("plus"|"minus") product)*, product := power
    (("times"|"divided by") power)*, power := factor ("squared"|"cubed"|"to the power of" factor)*."""

    def __init__(self, words: Sequence[str], at: int) -> None:
        self.words = list(words)
        self.at = at
        self.computed = False  # whether any operator was read: "what is five" asks nothing to compute

    def expression_to_end(self) -> tuple[Worked, int]:
        worked = self._verb() or self._sum()
        if not self.computed:
            raise _NoAnswer  # a bare number is not a question of arithmetic
        return worked, self.at

    def _verb(self) -> Worked | None:
        """ "add 3 and 4", "the difference between 9 and 2" """
        start = self.at
        self._take(("the",))
        for phrase, (operator, joints) in _VERBS.items():
            if not self._take(phrase):
                continue
            first = self._sum()
            joint = self._peek()
            if joint not in joints:
                raise _NoAnswer
            self.at += 1
            second = self._sum()
            return self._binary(operator, second, first) if joints[joint] else self._binary(operator, first, second)
        self.at = start
        return None

    def _sum(self) -> Worked:
        return self._chain(1)

    def _chain(self, level: int) -> Worked:
        left = self._power() if level == 2 else self._chain(2)
        while (operator := self._operator()) is not None and _LEVELS.get(operator) == level:
            self._consume_operator()
            right = self._power() if level == 2 else self._chain(2)
            left = self._binary(operator, left, right)
        return left

    def _power(self) -> Worked:
        base = self._factor()
        while True:
            if self._take(("squared",)):
                base = self._unary(f"{base.said} squared", base.value**2)
            elif self._take(("cubed",)):
                base = self._unary(f"{base.said} cubed", base.value**3)
            elif self._operator() == "^":
                self._consume_operator()
                exponent = self._factor()
                if abs(exponent.value) > MAX_EXPONENT:
                    raise _NoAnswer
                base = self._binary("^", base, exponent)
            else:
                return base

    def _factor(self) -> Worked:
        if self._take(("minus",)) or self._take(("negative",)):
            inner = self._factor()
            return Worked(f"minus {inner.said}", -inner.value)
        for phrase, apply in _PREFIXES.items():
            if self._take(phrase):
                inner = self._factor()
                said, value = apply(inner)
                return self._unary(said, value)
        number = self._number()
        if self._take(("percent", "of")):
            whole = self._factor()
            return self._unary(f"{number.said} percent of {whole.said}", number.value / 100 * whole.value)
        fraction = self._fraction_of(number)
        return fraction or number

    def _fraction_of(self, count: Worked) -> Worked | None:
        """ "two thirds of nine", "a quarter of twenty" (the article read as one)."""
        word = self._peek()
        if word not in _FRACTIONS or self._peek(1) != "of":
            return None
        self.at += 2
        whole = self._factor()
        return self._unary(f"{count.said} {word} of {whole.said}", count.value / _FRACTIONS[word] * whole.value)

    def _number(self) -> Worked:
        word = self._peek()
        if word in ("a", "an") and self._peek(1) in _FRACTIONS:
            self.at += 1
            return Worked("a", 1.0)
        if word in _FRACTIONS and self._peek(1) == "of":  # "half of ten"
            return Worked("", 1.0)
        if word is None or not is_number(word):
            raise _NoAnswer
        value = float(word)
        self.at += 1
        return Worked(_number_said(value), value)

    def _binary(self, operator: str, left: Worked, right: Worked) -> Worked:
        self.computed = True
        if operator == "/" and right.value == 0:
            return Worked(f"{left.said} divided by {right.said}", math.nan)
        try:
            value = _APPLY[operator](left.value, right.value)
        except (ZeroDivisionError, OverflowError):  # zero to a negative power; a power too large for a float
            raise _NoAnswer from None
        if isinstance(value, complex) or abs(value) > LARGEST:  # a negative number's root: no real answer
            raise _NoAnswer
        return Worked(f"{left.said} {_OPERATOR_WORDS[operator]} {right.said}", value)

    def _unary(self, said: str, value: float) -> Worked:
        self.computed = True
        if math.isnan(value) or abs(value) > LARGEST:
            raise _NoAnswer
        return Worked(said.strip(), value)

    def _operator(self) -> str | None:
        return next((op for phrase, op in _OPERATORS.items() if self._peek_phrase(phrase)), None)

    def _consume_operator(self) -> None:
        phrase = next(phrase for phrase in _OPERATORS if self._peek_phrase(phrase))
        self.at += len(phrase)

    def _take(self, phrase: tuple[str, ...]) -> bool:
        if self._peek_phrase(phrase):
            self.at += len(phrase)
            return True
        return False

    def _peek_phrase(self, phrase: tuple[str, ...]) -> bool:
        return tuple(self.words[self.at : self.at + len(phrase)]) == phrase

    def _peek(self, ahead: int = 0) -> str | None:
        index = self.at + ahead
        return self.words[index] if index < len(self.words) else None


def _number_said(value: float) -> str:
    return decimal_in_words(value, 6)


def _root(inner: Worked) -> tuple[str, float]:
    if inner.value < 0:
        raise _NoAnswer
    return f"the square root of {inner.said}", math.sqrt(inner.value)


_PREFIXES: dict[tuple[str, ...], Callable[[Worked], tuple[str, float]]] = {
    ("the", "square", "root", "of"): _root,
    ("square", "root", "of"): _root,
    ("double",): lambda w: (f"double {w.said}", 2 * w.value),
    ("twice",): lambda w: (f"twice {w.said}", 2 * w.value),
    ("triple",): lambda w: (f"triple {w.said}", 3 * w.value),
    ("the", "square", "of"): lambda w: (f"{w.said} squared", w.value**2),
    ("the", "cube", "of"): lambda w: (f"{w.said} cubed", w.value**3),
}
_APPLY: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "^": lambda a, b: a**b,
}
