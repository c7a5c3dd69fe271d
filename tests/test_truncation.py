"""Fitting a conversation into a context window: which messages a request keeps, and when it refuses."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtalk.engines.base import ChatMessage, TokenCount, ToolCall
from realtalk.session.truncation import ContextTooLong, answer_reserve, fit_context


def chat(spec: str, overhead: int = 0) -> tuple[list[ChatMessage], TokenCount]:
    """`"s u1 a1 c7 t7 u2:30"`: system, user, assistant, a call with id 7, its output; each 10 tokens unless
    `:n` says otherwise. Each message's text is its label, so a test reads back which ones were kept."""
    messages, counts = [], []
    for word in spec.split():
        label, _, cost = word.partition(":")
        kind, ref = label[0], label[1:]
        if kind == "s":
            messages.append(ChatMessage("system", label))
        elif kind == "u":
            messages.append(ChatMessage("user", label))
        elif kind == "a":
            messages.append(ChatMessage("assistant", label))
        elif kind == "c":
            messages.append(ChatMessage("assistant", label, (ToolCall(ref, "lookup", "{}"),)))
        else:
            messages.append(ChatMessage("tool", label, tool_call_id=ref))
        counts.append(int(cost or 10))
    return messages, TokenCount(tuple(counts), overhead)


def labels(messages: list[ChatMessage]) -> str:
    return " ".join(m.content for m in messages)


def test_a_conversation_that_fits_is_sent_whole() -> None:
    messages, counts = chat("s u1 a1 u2 a2 u3")
    assert labels(fit_context(messages, counts, window=60, reserve=0)) == "s u1 a1 u2 a2 u3"


def test_auto_drops_the_oldest_turns_just_enough_and_keeps_the_instructions() -> None:
    messages, counts = chat("s u1 a1 u2 a2 u3")
    assert labels(fit_context(messages, counts, window=40, reserve=0)) == "s u2 a2 u3"


def test_overhead_and_reserve_count_against_the_window() -> None:
    messages, counts = chat("s u1 a1 u2 a2 u3", overhead=5)
    assert labels(fit_context(messages, counts, window=60, reserve=0)) == "s u2 a2 u3"
    assert labels(fit_context(messages, counts, window=60, reserve=16)) == "s u3"


def test_a_turn_goes_whole_with_its_tool_calls_and_outputs() -> None:
    messages, counts = chat("s u1 c1 t1 a1 u2 a2 u3")
    assert labels(fit_context(messages, counts, window=70, reserve=0)) == "s u2 a2 u3"


def test_a_tool_output_is_never_kept_without_the_call_it_answers() -> None:
    # The user spoke between the call and its output: starting at u2 would orphan t1.
    messages, counts = chat("s u1 c1 u2 t1 a2 u3 a3 u4")
    assert labels(fit_context(messages, counts, window=70, reserve=0)) == "s u3 a3 u4"


def test_the_last_user_turn_stays_with_everything_after_it() -> None:
    messages, counts = chat("s u1 a1 u2 c2 t2 c3 t3")
    assert labels(fit_context(messages, counts, window=60, reserve=0)) == "s u2 c2 t2 c3 t3"


def test_without_instructions_the_oldest_turn_can_go() -> None:
    messages, counts = chat("a0 u1 a1 u2")
    assert labels(fit_context(messages, counts, window=30, reserve=0)) == "u1 a1 u2"


def test_retention_ratio_drops_down_to_its_share_of_the_budget() -> None:
    messages, counts = chat("s u1 a1 u2 a2 u3 a3 u4")
    # The budget after the instructions is 65: auto keeps 50 tokens of it, a ratio of 0.5 at most 32.
    assert labels(fit_context(messages, counts, window=75, reserve=0)) == "s u2 a2 u3 a3 u4"
    kept = fit_context(messages, counts, window=75, reserve=0, retention_ratio=0.5)
    assert labels(kept) == "s u3 a3 u4"


def test_retention_ratio_drops_nothing_when_the_conversation_fits() -> None:
    messages, counts = chat("s u1 a1 u2 a2 u3")
    kept = fit_context(messages, counts, window=60, reserve=0, retention_ratio=0.5)
    assert labels(kept) == "s u1 a1 u2 a2 u3"


def test_retention_ratio_keeps_a_last_turn_larger_than_its_share_if_the_window_holds_it() -> None:
    messages, counts = chat("s u1 a1 u2 a2:40")
    kept = fit_context(messages, counts, window=70, reserve=0, retention_ratio=0.5)
    assert labels(kept) == "s u2 a2"


def test_post_instructions_limit_caps_the_conversation_after_the_instructions() -> None:
    messages, counts = chat("s:100 u1 a1 u2 a2 u3")
    kept = fit_context(messages, counts, window=1000, reserve=0, post_instructions_limit=30)
    assert labels(kept) == "s u2 a2 u3"


def test_disabled_sends_a_conversation_that_fits() -> None:
    messages, counts = chat("s u1 a1 u2")
    assert labels(fit_context(messages, counts, window=40, reserve=0, enabled=False)) == "s u1 a1 u2"


def test_disabled_refuses_a_conversation_that_does_not_fit_instead_of_dropping() -> None:
    messages, counts = chat("s u1 a1 u2", overhead=3)
    with pytest.raises(ContextTooLong) as refused:
        fit_context(messages, counts, window=40, reserve=5, enabled=False)
    assert (refused.value.needed, refused.value.limit) == (48, 40)
    assert str(refused.value) == (
        "the conversation (with 5 tokens kept for the answer) needs 48 tokens, more than the 40 allowed"
    )


def test_too_long_when_the_instructions_and_last_turn_alone_do_not_fit() -> None:
    messages, counts = chat("s:20 u1 a1 u2:30 a2", overhead=4)
    with pytest.raises(ContextTooLong) as refused:
        fit_context(messages, counts, window=64, reserve=20)
    assert (refused.value.needed, refused.value.limit) == (84, 64)


def test_too_long_names_the_post_instructions_limit_when_it_is_what_binds() -> None:
    messages, counts = chat("s u1 a1 u2:50")
    with pytest.raises(ContextTooLong) as refused:
        fit_context(messages, counts, window=1000, reserve=0, post_instructions_limit=40)
    assert str(refused.value) == "the conversation after the instructions needs 50 tokens, more than the 40 allowed"


def test_counts_must_be_aligned_with_the_messages() -> None:
    messages, _ = chat("s u1")
    with pytest.raises(ValueError, match="1 token counts for 2 messages"):
        fit_context(messages, TokenCount((10,), 0), window=100, reserve=0)


def test_an_answer_reserve_is_the_output_limit_or_a_quarter_of_the_window() -> None:
    assert answer_reserve(200, 4096) == 200
    assert answer_reserve(None, 4096) == 1024
    assert answer_reserve(4096, 4096) == 2048  # a ceiling, not an estimate: at most half the window


def test_fitting_is_linear_in_the_conversation() -> None:
    messages, counts = chat(" ".join(["s", *(f"u{i} c{i} t{i} a{i}" for i in range(25_000)), "u"]))
    started = time.perf_counter()
    kept = fit_context(messages, counts, window=1000, reserve=0)
    assert time.perf_counter() - started < 1.0
    assert labels(kept).split()[:2] == ["s", "u24976"]


@given(
    st.lists(st.sampled_from(["u", "a", "call", "user-between"]), max_size=30),
    st.integers(0, 300),
    st.sampled_from([None, 0.0, 0.5, 1.0]),
)
def test_whatever_is_kept_fits_ends_with_the_last_turn_and_orphans_no_output(
    turns: list[str], window: int, ratio: float | None
) -> None:
    spec, calls = ["s"], 0
    for turn in turns:
        if turn == "call":
            calls += 1
            spec += [f"c{calls}", f"t{calls}"]
        elif turn == "user-between":
            calls += 1
            spec += [f"c{calls}", "u", f"t{calls}"]
        else:
            spec.append(turn)
    spec.append("u")
    messages, counts = chat(" ".join(spec), overhead=2)
    try:
        kept = fit_context(messages, counts, window=window, reserve=5, retention_ratio=ratio)
    except ContextTooLong as refused:
        assert refused.needed > window
        return
    assert 2 + 10 * len(kept) + 5 <= window
    assert kept[0] == messages[0] and kept[-1] == messages[-1]
    assert kept[1:] == messages[len(messages) - len(kept) + 1 :]
    called = {call.call_id for m in kept for call in m.tool_calls}
    assert all(m.tool_call_id in called for m in kept if m.role == "tool")
