"""The calendar's order: the day, month or season before or after another, a month by its place, a month's days."""

from __future__ import annotations

import pytest

from realtalk.text.calendar_order import calendar_answer


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What day comes after Wednesday?", "The day after Wednesday is Thursday."),
        ("What is the day after Sunday?", "The day after Sunday is Monday."),
        ("Which month follows December?", "The month after December is January."),
        ("What month comes before June?", "The month before June is May."),
        ("Which season comes after winter?", "The season after winter is spring."),
        ("What comes after fall?", "The season after fall is winter."),
    ],
)
def test_the_next_or_previous_day_month_or_season_goes_round_its_cycle(question: str, answer: str) -> None:
    assert calendar_answer(question) == answer


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What is the fifth month of the year?", "The fifth month of the year is May."),
        ("What is the 3rd month?", "The third month of the year is March."),
        ("What is the last month of the year?", "The last month of the year is December."),
    ],
)
def test_a_month_is_named_by_its_place_in_the_year(question: str, answer: str) -> None:
    assert calendar_answer(question) == answer


def test_a_months_days_are_the_gregorian_calendars() -> None:
    assert calendar_answer("How many days are there in April?") == "April has thirty days."
    assert calendar_answer("How many days are in February?") == (
        "February has twenty-eight days, and twenty-nine in a leap year."
    )


@pytest.mark.parametrize(
    "question",
    [
        "May I ask a question?",
        "What day is it today?",
        "What is the first day of the week?",  # Sunday or Monday, by country
        "What day comes after Monday and Tuesday?",
        "What is the thirteenth month?",
        "Tell me about the weather in March after the rain.",
    ],
)
def test_a_question_that_is_not_about_the_calendars_order_is_left_to_the_model(question: str) -> None:
    assert calendar_answer(question) is None
