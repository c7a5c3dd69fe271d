"""Units converted: how many of one unit are in an amount of another."""

from __future__ import annotations

import pytest

from realtalk.text.unit_conversion import conversion_answer


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("How many minutes are in an hour?", "There are sixty minutes in an hour."),
        ("How many days are there in a fortnight?", "There are fourteen days in a fortnight."),
        ("How many days are in a leap year?", "There are three hundred sixty-six days in a leap year."),
        ("How many inches are in a foot?", "There are twelve inches in a foot."),
        ("How many millimetres in a centimetre?", "There are ten millimeters in a centimeter."),
        ("How many grams are in a kg?", "There are one thousand grams in a kilogram."),
        ("How many cups in a gallon?", "There are sixteen cups in a gallon."),
        ("How many bits are in a byte?", "There are eight bits in a byte."),
    ],
)
def test_how_many_of_a_unit_are_in_another_is_converted(question: str, answer: str) -> None:
    assert conversion_answer(question) == answer


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("How many minutes are in half an hour?", "There are thirty minutes in half an hour."),
        ("How many seconds in 2 and a half minutes?", "There are one hundred fifty seconds in two and a half minutes."),
        ("How many minutes are in a quarter of an hour?", "There are fifteen minutes in a quarter of an hour."),
        ("How many hours are in three days?", "There are seventy-two hours in three days."),
    ],
)
def test_the_amount_converted_may_be_a_fraction_or_a_number(question: str, answer: str) -> None:
    assert conversion_answer(question) == answer


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("How many days does a week have?", "There are seven days in a week."),
        ("How many days are in the week?", "There are seven days in a week."),
        ("How many minutes make an hour?", "There are sixty minutes in an hour."),
        ("Convert 5 kilometers to miles.", "Five kilometers is about three point one miles."),
        ("What is 100 cm in meters?", "One hundred centimeters is one meter."),
    ],
)
def test_the_question_may_be_asked_in_other_forms(question: str, answer: str) -> None:
    assert conversion_answer(question) == answer


def test_a_year_is_twelve_months_and_about_fifty_two_weeks() -> None:
    assert conversion_answer("How many months are in a year?") == "There are twelve months in a year."
    assert conversion_answer("How many weeks are in a year?") == "There are about fifty-two weeks in a year."


def test_a_small_result_keeps_two_significant_digits() -> None:
    assert (
        conversion_answer("How many hours in a minute?")
        == "There are about zero point zero one seven hours in a minute."
    )


def test_anything_counted_in_dozens_pairs_or_scores_is_counted() -> None:
    assert conversion_answer("How many eggs are in a dozen?") == "There are twelve eggs in a dozen."


@pytest.mark.parametrize(
    "question",
    [
        "How many days are in a month?",  # a month's days vary
        "How many legs does a spider have?",
        "How many minutes are in a kilogram?",
        "How many people live in Paris?",
        "What is the capital of France?",
    ],
)
def test_a_question_that_is_no_conversion_is_left_to_the_model(question: str) -> None:
    assert conversion_answer(question) is None
