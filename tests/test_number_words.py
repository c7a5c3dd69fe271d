"""Numbers read from words and said back in words."""

from __future__ import annotations

import pytest

from realtalk.text.number_words import decimal_in_words, number_in_words, numbers_as_digits, spoken_words


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (21, "twenty-one"),
        (105, "one hundred five"),
        (1001, "one thousand one"),
        (12345, "twelve thousand three hundred forty-five"),
        (2_000_000_005, "two billion five"),
        (-7, "minus seven"),
    ],
)
def test_a_whole_number_is_said_in_words(value: int, said: str) -> None:
    assert number_in_words(value) == said


@pytest.mark.parametrize(
    "value", [0, 7, 19, 20, 99, 100, 101, 999, 1000, 4096, 70_000, 1_234_567, 3_000_000_000, 10**12 + 5]
)
def test_a_number_said_in_words_reads_back_as_the_same_digits(value: int) -> None:
    assert numbers_as_digits(spoken_words(number_in_words(value))) == [str(value)]


@pytest.mark.parametrize(
    ("value", "places", "said"),
    [
        (3.5, 2, "three point five"),
        (3.3333, 2, "three point three three"),
        (2.0, 2, "two"),
        (0.017, 3, "zero point zero one seven"),
        (52.14, 0, "fifty-two"),
        (-0.25, 2, "minus zero point two five"),
        (-0.001, 2, "zero"),
    ],
)
def test_a_decimal_is_rounded_and_said_digit_by_digit_after_the_point(value: float, places: int, said: str) -> None:
    assert decimal_in_words(value, places) == said


def test_spoken_words_read_symbols_out_and_write_every_number_in_digits() -> None:
    assert spoken_words("What's 12/3, 1,000 \u00d7 twenty-five - 5% + 2?") == [
        "whats", "12", "divided", "by", "3", "1000", "times", "25", "minus", "5", "percent", "plus", "2"
    ]  # fmt: skip
