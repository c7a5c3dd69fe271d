"""Units converted, for questions such as "how many minutes are in half an hour", "how many inches does a
foot have", "how many eggs are in a dozen" or "convert five kilometers to miles".

Units of time (seconds to millennia, with the calendar's year of 365 days, leap year of 366 and twelve
months), length, mass, volume and count (dozen, score, gross, pair), each defined exactly in one base unit
of its kind. A month converts only to whole years and their multiples, since its days vary. A question is
answered only when all of it is one of the forms below; anything else is left to the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from realtalk.text.number_words import decimal_in_words, is_number, spoken_words


@dataclass(frozen=True)
class Unit:
    name: str  # singular, as said back
    plural: str
    kind: str  # units of one kind convert to each other
    size: float  # in the kind's base unit
    article: str = "a"


_YEAR = 365 * 86400.0
_GALLON = 3.785411784  # US liquid, in liters
UNITS = (
    Unit("second", "seconds", "time", 1.0),
    Unit("minute", "minutes", "time", 60.0),
    Unit("hour", "hours", "time", 3600.0, "an"),
    Unit("day", "days", "time", 86400.0),
    Unit("week", "weeks", "time", 7 * 86400.0),
    Unit("fortnight", "fortnights", "time", 14 * 86400.0),
    Unit("year", "years", "time", _YEAR),
    Unit("leap year", "leap years", "time", 366 * 86400.0),
    Unit("decade", "decades", "time", 10 * _YEAR),
    Unit("century", "centuries", "time", 100 * _YEAR),
    Unit("millennium", "millennia", "time", 1000 * _YEAR),
    Unit("month", "months", "calendar", 1.0),
    Unit("season", "seasons", "calendar", 3.0),
    Unit("year", "years", "calendar", 12.0),
    Unit("decade", "decades", "calendar", 120.0),
    Unit("century", "centuries", "calendar", 1200.0),
    Unit("millennium", "millennia", "calendar", 12000.0),
    Unit("millimeter", "millimeters", "length", 0.001),
    Unit("centimeter", "centimeters", "length", 0.01),
    Unit("decimeter", "decimeters", "length", 0.1),
    Unit("meter", "meters", "length", 1.0),
    Unit("kilometer", "kilometers", "length", 1000.0),
    Unit("inch", "inches", "length", 0.0254, "an"),
    Unit("foot", "feet", "length", 0.3048),
    Unit("yard", "yards", "length", 0.9144),
    Unit("mile", "miles", "length", 1609.344),
    Unit("milligram", "milligrams", "mass", 0.001),
    Unit("gram", "grams", "mass", 1.0),
    Unit("kilogram", "kilograms", "mass", 1000.0),
    Unit("tonne", "tonnes", "mass", 1e6),
    Unit("ounce", "ounces", "mass", 28.349523125, "an"),
    Unit("pound", "pounds", "mass", 453.59237),
    Unit("stone", "stone", "mass", 6350.29318),
    Unit("milliliter", "milliliters", "volume", 0.001),
    Unit("centiliter", "centiliters", "volume", 0.01),
    Unit("liter", "liters", "volume", 1.0),
    Unit("gallon", "gallons", "volume", _GALLON),
    Unit("quart", "quarts", "volume", _GALLON / 4),
    Unit("pint", "pints", "volume", _GALLON / 8),
    Unit("cup", "cups", "volume", _GALLON / 16),
    Unit("fluid ounce", "fluid ounces", "volume", _GALLON / 128),
    Unit("bit", "bits", "data", 1.0),
    Unit("byte", "bytes", "data", 8.0),
    Unit("pair", "pairs", "count", 2.0),
    Unit("dozen", "dozen", "count", 12.0),
    Unit("score", "score", "count", 20.0),
    Unit("gross", "gross", "count", 144.0),
)
# Other names a unit is said or transcribed by (British spellings, abbreviations)
_ALIASES = {
    "metre": "meter", "metres": "meters", "millimetre": "millimeter", "millimetres": "millimeters",
    "centimetre": "centimeter", "centimetres": "centimeters", "kilometre": "kilometer", "kilometres": "kilometers",
    "litre": "liter", "litres": "liters", "millilitre": "milliliter", "millilitres": "milliliters",
    "mm": "millimeters", "cm": "centimeters", "km": "kilometers", "kg": "kilograms", "mg": "milligrams",
    "ml": "milliliters", "lb": "pounds", "lbs": "pounds", "oz": "ounces", "kilo": "kilogram", "kilos": "kilograms",
    "metric ton": "tonne", "metric tons": "tonnes", "millenniums": "millennia", "secs": "seconds",
    "mins": "minutes", "hrs": "hours", "stones": "stone", "dozens": "dozen",
}  # fmt: skip
LONGEST_NAME = 2  # words
# "how many A are in Q B", "... does Q B have", "... make Q B", "convert Q B to A": the words each form has
# between and after its two units (None: the quantity's place), checked in this order
_HOW_MANY_JOINTS = (
    ("are", "in"), ("are", "there", "in"), ("is", "in"), ("in",), ("are", "in", "one"), ("make", "up"), ("make",),
    ("go", "into"), ("fit", "in"), ("fit", "into"), ("is",), ("are",), ("does",), ("do",), ("has",), ("have",),
)  # fmt: skip
_HOW_MANY_ENDS = ((), ("have",), ("has",), ("contain",), ("hold",))


@dataclass(frozen=True)
class Quantity:
    amount: float
    unit: Unit

    def within(self, kind: str) -> Quantity | None:
        """The same quantity in its unit of `kind` (a year is 365 days, and 12 months), if it has one."""
        unit = next((u for u in named(self.unit.name) if u.kind == kind), None)
        return Quantity(self.amount, unit) if unit is not None else None

    def said(self) -> str:
        """ "an hour", "half an hour", "three hours", "two and a half days" """
        whole, part = divmod(self.amount, 1)
        if self.amount == 1:
            return f"{self.unit.article} {self.unit.name}"
        if self.amount == 0.5:
            return f"half {self.unit.article} {self.unit.name}"
        if self.amount == 0.25:
            return f"a quarter of {self.unit.article} {self.unit.name}"
        if part == 0.5:
            return f"{decimal_in_words(whole, 0)} and a half {self.unit.plural}"
        return f"{decimal_in_words(self.amount, 3)} {self.unit.plural}"


def conversion_answer(question: str) -> str | None:
    """ "There are thirty minutes in half an hour." or "Five kilometers is about three point one miles.", or
    None when the question asks no conversion (see the module's docstring)."""
    words = [w for w in spoken_words(question) if w not in ("please", "exactly")]
    if words[:2] == ["how", "many"]:
        return _how_many(words[2:])
    for opening in (("convert",), ("what", "is"), ("whats",), ("how", "much", "is")):
        if tuple(words[: len(opening)]) == opening:
            return _convert(words[len(opening) :])
    return None


def _how_many(words: Sequence[str]) -> str | None:
    """ "A are in Q B" and the other forms of `_HOW_MANY_JOINTS`: A a unit, or anything counted by a count
    unit ("eggs in a dozen")."""
    for split in range(1, len(words)):
        units = named(" ".join(words[:split])) if split <= LONGEST_NAME else ()
        counted = " ".join(words[:split])
        for joint in _HOW_MANY_JOINTS:
            rest = words[split:]
            if tuple(rest[: len(joint)]) != joint:
                continue
            for end in _HOW_MANY_ENDS:
                body = rest[len(joint) : len(rest) - len(end)]
                if tuple(rest[len(rest) - len(end) :]) != end or not body:
                    continue
                quantity = _quantity(body)
                if quantity is None:
                    continue
                for asked in units:
                    if (same := quantity.within(asked.kind)) is not None:
                        return _there_are(same.amount * same.unit.size / asked.size, asked.plural, same)
                if quantity.unit.kind == "count" and not units and _is_plain_noun(words[:split]):
                    return _there_are(quantity.amount * quantity.unit.size, counted, quantity)
    return None


def _convert(words: Sequence[str]) -> str | None:
    """ "Q B to A", "Q B in A", "Q B into A" """
    for at, word in enumerate(words):
        if word not in ("to", "in", "into"):
            continue
        quantity = _quantity(words[:at])
        if quantity is None:
            continue
        for asked in named(" ".join(words[at + 1 :])):
            same = quantity.within(asked.kind)
            if same is not None and same.unit != asked:
                amount = same.amount * same.unit.size / asked.size
                said = same.said()
                return f"{said[0].upper()}{said[1:]} is {_amount(amount)} {_plural(amount, asked)}."
    return None


def _there_are(amount: float, things: str, quantity: Quantity) -> str:
    verb = "is" if _amount(amount) == "one" else "are"
    return f"There {verb} {_amount(amount)} {things} in {quantity.said()}."


def _amount(value: float) -> str:
    """Said as a listener wants it: whole from ten up ("about fifty-two"), one decimal below, two below one."""
    digits = 0 if value >= 10 else 1 if value >= 1 else 2
    if value < 1:
        digits = max(2, _leading_zeros(value) + 2)
    exact = abs(value - round(value, digits)) < 1e-9
    return ("" if exact else "about ") + decimal_in_words(value, digits)


def _leading_zeros(value: float) -> int:
    zeros = 0
    while 0 < value < 0.1:
        value *= 10
        zeros += 1
    return zeros


def _plural(amount: float, unit: Unit) -> str:
    return unit.name if _amount(amount) == "one" else unit.plural


def _quantity(words: Sequence[str]) -> Quantity | None:
    """ "a"/"an"/"the" B, N B, "half a" B, "a quarter of an" B, "N and a half" B, "a" B "and a half" """
    words = list(words)
    amount: float | None = None
    if words[:4] in (["a", "quarter", "of", "a"], ["a", "quarter", "of", "an"]):
        amount, words = 0.25, words[4:]
    elif words[:1] in (["a"], ["an"], ["one"], ["1"], ["the"]):  # "the": "how many days are in the week"
        amount, words = 1.0, words[1:]
    elif words[:2] in (["half", "a"], ["half", "an"]):
        amount, words = 0.5, words[2:]
    elif words and is_number(words[0]):
        amount, words = float(words[0]), words[1:]
        if words[:3] == ["and", "a", "half"]:
            amount, words = amount + 0.5, words[3:]
    if words[-3:] == ["and", "a", "half"] and amount == 1.0:
        amount, words = 1.5, words[:-3]
    units = named(" ".join(words))
    return Quantity(amount, units[0]) if amount is not None and units and amount > 0 else None


def named(name: str) -> tuple[Unit, ...]:
    """The units a name says, singular or plural: "hours", "leap year", "km"; "years" is one of time and one of
    the calendar's months. None for any other words."""
    name = _ALIASES.get(name, name)
    return tuple(unit for unit in UNITS if name in (unit.name, unit.plural))


def _is_plain_noun(words: Sequence[str]) -> bool:
    return len(words) <= 2 and all(w.isalpha() and w not in ("are", "is", "in", "of") for w in words)
