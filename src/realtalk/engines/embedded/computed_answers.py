"""Answers the packaged model would invent, computed instead: arithmetic, unit conversions, the calendar's order.

SmolLM2-135M says "two plus two equals five", that a minute is "12 hours * 3600 seconds", that the month
after January is December: numbers and sequences are where a 135M model is wrong most often, and most
confidently, and where a wrong answer is plainly wrong to a listener. They are also what a few lines of
code get right every time. So before the packaged model answers in words, the engine tries the user's last
message as a question of arithmetic (`spoken_arithmetic`), of converting units (`unit_conversion`) or of the
calendar's order (`calendar_order`); each answers only a message that is wholly such a question, and the
first answer found is the reply, said as the model is primed to say its answers: the question restated, the
result in words. Anything else goes to the model as before, and a model of the user's own always answers
itself (`--no-llm-computed-answers` turns this off for the packaged one too).
"""

from __future__ import annotations

from collections.abc import Callable

from realtalk.text.calendar_order import calendar_answer
from realtalk.text.spoken_arithmetic import arithmetic_answer
from realtalk.text.unit_conversion import conversion_answer

MAX_QUESTION_CHARS = 200  # a longer message is more than one of these questions
ANSWERERS: tuple[Callable[[str], str | None], ...] = (arithmetic_answer, conversion_answer, calendar_answer)


def computed_answer(message: str) -> str | None:
    """The computed reply to the user's message, or None when the model is to answer it."""
    if len(message) > MAX_QUESTION_CHARS:
        return None
    return next((answer for answerer in ANSWERERS if (answer := answerer(message)) is not None), None)
