"""Arithmetic asked in words is computed, and said back with the question restated."""

from __future__ import annotations

import pytest

from realtalk.text.spoken_arithmetic import arithmetic_answer


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What is two plus two?", "Two plus two is four."),
        ("What's 7 times 8?", "Seven times eight is fifty-six."),
        ("How much is 3 x 4?", "Three times four is twelve."),
        ("What is twelve divided by three?", "Twelve divided by three is four."),
        ("What is one hundred and ten minus ten?", "One hundred ten minus ten is one hundred."),
        ("What does 6 times 7 equal?", "Six times seven is forty-two."),
        ("Calculate 1,000 times 1,000, please.", "One thousand times one thousand is one million."),
        ("What is 3/4?", "Three divided by four is zero point seven five."),
    ],
)
def test_an_operation_between_two_numbers_is_computed(question: str, answer: str) -> None:
    assert arithmetic_answer(question) == answer


def test_times_and_divided_by_bind_before_plus_and_minus() -> None:
    assert arithmetic_answer("What is 2 plus 3 times 4?") == "Two plus three times four is fourteen."


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Add 3 and 4.", "Three plus four is seven."),
        ("Subtract 2 from 9.", "Nine minus two is seven."),
        ("Multiply 6 by 7.", "Six times seven is forty-two."),
        ("What is the sum of 3 and 4?", "Three plus four is seven."),
        ("What is the difference between 10 and 3?", "Ten minus three is seven."),
    ],
)
def test_an_operation_named_by_a_verb_or_noun_is_computed(question: str, answer: str) -> None:
    assert arithmetic_answer(question) == answer


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What is half of 7?", "Half of seven is three point five."),
        ("What is a quarter of 20?", "A quarter of twenty is five."),
        ("What is two thirds of nine?", "Two thirds of nine is six."),
        ("What is 15% of 200?", "Fifteen percent of two hundred is thirty."),
        ("What is 5 squared?", "Five squared is twenty-five."),
        ("What is the square root of 81?", "The square root of eighty-one is nine."),
        ("What is 2 to the power of 10?", "Two to the power of ten is one thousand twenty-four."),
        ("What is minus 5 plus 3?", "Minus five plus three is minus two."),
    ],
)
def test_fractions_percentages_powers_and_roots_are_computed(question: str, answer: str) -> None:
    assert arithmetic_answer(question) == answer


def test_a_result_that_is_not_whole_is_rounded_to_two_decimals_and_said_to_be_about() -> None:
    assert arithmetic_answer("What is 10 divided by 3?") == "Ten divided by three is about three point three three."


def test_dividing_by_zero_is_said_to_have_no_answer() -> None:
    assert arithmetic_answer("What is 5 divided by 0?") == "That has no answer: nothing can be divided by zero."


@pytest.mark.parametrize(
    "question",
    [
        "What is 5?",
        "What is two plus two apples?",
        "How many legs do 3 spiders have?",
        "What is the capital of France?",
        "Add milk and eggs to my list.",
        "What is 10 to the power of 1000?",
        "What is the square root of minus 4?",
        "",
    ],
)
def test_anything_that_is_not_wholly_a_computation_is_left_to_the_model(question: str) -> None:
    assert arithmetic_answer(question) is None
