"""Conversation truncation as a client sees it: what the model is given when a conversation outgrows its
context window, under each `truncation` setting and output limit.

The scripted model counts words as tokens, so each item here is sized in words: `u2:5` is a user message of
five words starting with its label. The instructions are two words, and a response with no output limit keeps
a quarter of the window for its answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from realtalk.engines.base import LLMRequest
from realtalk.engines.scripted.llm import ScriptedLLM
from tests.engines import RecordingLLM
from tests.harness import SessionHarness, config, only, scripted_engines, types

pytestmark = pytest.mark.dialects("ga", "beta")

INSTRUCTIONS = "Answer briefly."
SEVEN_ITEMS = "u1 a1 u2 a2 u3 a3 u4"  # 35 tokens: more than a 40-token window leaves after the instructions (28)


async def started(window: int, **fields: Any) -> tuple[SessionHarness, RecordingLLM]:
    llm = RecordingLLM(ScriptedLLM(context_window=window))
    harness = SessionHarness(config(modality="text", instructions=INSTRUCTIONS, **fields), scripted_engines(llm=llm))
    await harness.start()
    return harness, llm


def words(label: str, count: int) -> str:
    """`count` words (tokens to the scripted model), the first of them `label`."""
    return " ".join([label, *["word"] * (count - 1)])


async def history(harness: SessionHarness, spec: str) -> list[str]:
    """Create the items `spec` names, oldest first; return their ids.

    `u…` a user message, `a…` an assistant message, `c…` a function call (its arguments two words) and `t…`
    the output of call `c…` of the same number; each five words unless `:n` says otherwise.
    """
    ids = []
    for token in spec.split():
        label, _, count = token.partition(":")
        text = words(label, int(count or 5))
        kind, number = label[0], label[1:]
        if kind == "c":
            item: dict[str, Any] = {
                "type": "function_call",
                "call_id": f"c{number}",
                "name": "lookup",
                "arguments": '{"city": "Paris"}',
            }
        elif kind == "t":
            item = {"type": "function_call_output", "call_id": f"c{number}", "output": text}
        else:
            role, content = ("user", "input_text") if kind == "u" else ("assistant", "output_text")
            item = {"type": "message", "role": role, "content": [{"type": content, "text": text}]}
        events = await harness.request({"type": "conversation.item.create", "item": harness.item(item)})
        ids.append(harness.only(events, "conversation.item.added")["item"]["id"])
    return ids


def given(request: LLMRequest) -> str:
    """What the model was given, a label a message: `system`, an item's first word, or a call's id."""
    return " ".join(
        "system" if m.role == "system" else m.content.split()[0] if m.content else m.tool_calls[0].call_id
        for m in request.messages
    )


def limited(harness: SessionHarness, max_output_tokens: int) -> dict[str, Any]:
    """`response.create`'s output limit, in the dialect's name for it."""
    return {"max_output_tokens" if harness.ga else "max_response_output_tokens": max_output_tokens}


async def set_truncation(harness: SessionHarness, truncation: Any) -> None:
    """`session.update` of `truncation` alone; both dialects spell it the same."""
    events = await harness.update({"truncation": truncation}, {"truncation": truncation})
    assert types(events) == ["session.updated"]


def failure(events: list[dict[str, Any]]) -> dict[str, Any]:
    done = only(events, "response.done")["response"]
    assert done["status"] == "failed"
    return dict(done["status_details"])


# --- auto (the default) ---------------------------------------------------------------------------


async def test_a_conversation_longer_than_the_window_is_answered_from_its_newest_turns() -> None:
    harness, llm = await started(window=40)
    await history(harness, SEVEN_ITEMS)
    events = await harness.response()
    done = only(events, "response.done")["response"]
    assert done["status"] == "completed"
    assert harness.only(events, "response.output_text.done")["text"] == "You said: u4 word word word word"
    request = llm.requests[0]
    assert given(request) == "system u2 a2 u3 a3 u4"  # the oldest turn is left out, just enough to fit
    assert request.messages[0].content == INSTRUCTIONS
    assert done["usage"]["input_tokens"] == 2 + 25


async def test_truncation_leaves_the_conversation_itself_whole() -> None:
    harness, _ = await started(window=40)
    ids = await history(harness, SEVEN_ITEMS)
    events = await harness.response()
    assert harness.name("conversation.item.deleted") not in types(events)
    assert [item.id for item in harness.session.conversation.items][:7] == ids


async def test_auto_cuts_just_enough_so_a_growing_conversation_is_cut_again() -> None:
    harness, llm = await started(window=40)
    await history(harness, SEVEN_ITEMS)
    await harness.response()
    await history(harness, "u5")
    await harness.response()
    assert [given(r) for r in llm.requests] == ["system u2 a2 u3 a3 u4", "system u3 a3 u4 You u5"]


@pytest.mark.parametrize(
    ("spec", "kept"),
    [
        # a turn goes whole, with its call and the call's output
        ("u1 c1 t1:3 a1 u2 a2 u3", "system u2 a2 u3"),
        # a user spoke while the call ran: starting at u2 would fit, but would keep t1 without c1
        ("u1 c1 u2 t1:3 a2 u3 a3 u4", "system u3 a3 u4"),
    ],
    ids=["whole-turn", "call-answered-after-a-user-message"],
)
async def test_a_function_call_and_its_output_are_kept_or_cut_together(spec: str, kept: str) -> None:
    harness, llm = await started(window=40)
    await history(harness, spec)
    await harness.response()
    assert given(llm.requests[0]) == kept


async def test_items_cut_once_stay_out_of_later_responses_even_with_room_for_them() -> None:
    harness, llm = await started(window=40)
    await history(harness, "u1 a1 u2 a2 u3 a3 u4:1")
    await harness.response(limited(harness, 20))  # 20 tokens kept for the answer: room for u3 a3 u4 only
    await harness.response()  # 10 kept: u2 a2 would fit again, but they were cut
    assert [given(r) for r in llm.requests] == ["system u3 a3 u4", "system u3 a3 u4 You"]


async def test_what_must_stay_fails_the_response_when_it_alone_is_too_long() -> None:
    harness, llm = await started(window=40)
    await history(harness, "u1 a1 u2:30")
    events = await harness.response()
    assert types(events) == ["response.created", "rate_limits.updated", "response.done"]
    error = failure(events)["error"]
    assert error["code"] == "context_length_exceeded"
    assert error["message"] == (
        "The conversation does not fit the model's context window: the conversation (with 10 tokens kept for the "
        "answer) needs 42 tokens, more than the 40 allowed. The instructions and the last user turn must stay: "
        "shorten them, or lower max_output_tokens."
    )
    assert llm.requests == []


# --- the answer's reserve -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_output_tokens", "kept"),
    [
        (None, "system u2 a2 u3 a3 u4"),  # no limit: a quarter of the window (10)
        (3, "system u1 a1 u2 a2 u3 a3 u4"),
        (15, "system u3 a3 u4"),
        (4096, "system u3 a3 u4"),  # a limit over half the window reserves half of it (20)
    ],
)
async def test_a_responses_output_limit_reserves_room_for_the_answer(max_output_tokens: int | None, kept: str) -> None:
    harness, llm = await started(window=40)
    await history(harness, SEVEN_ITEMS)
    events = await harness.response(None if max_output_tokens is None else limited(harness, max_output_tokens))
    assert only(events, "response.done")["response"]["status"] != "failed"
    assert given(llm.requests[0]) == kept
    assert llm.requests[0].max_output_tokens == max_output_tokens


async def test_the_sessions_output_limit_reserves_room_too() -> None:
    harness, llm = await started(window=40, max_output_tokens=3)
    await history(harness, SEVEN_ITEMS)
    await harness.response()
    assert given(llm.requests[0]) == "system u1 a1 u2 a2 u3 a3 u4"


# --- retention_ratio ------------------------------------------------------------------------------

HALF = {"type": "retention_ratio", "retention_ratio": 0.5}


async def test_session_update_takes_a_retention_ratio_and_ga_shows_it() -> None:
    harness, _ = await started(window=40)
    events = await harness.update({"truncation": HALF}, {"truncation": HALF})
    assert types(events) == ["session.updated"]
    if harness.ga:  # beta's session object has no truncation field
        assert events[0]["session"]["truncation"] == {**HALF, "token_limits": None}


async def test_retention_ratio_cuts_down_to_its_share_so_the_next_turns_need_no_cut() -> None:
    harness, llm = await started(window=60)  # 15 kept for the answer, 43 for the conversation
    await set_truncation(harness, HALF)
    await history(harness, "u1 a1 u2 a2 u3 a3 u4 a4 u5")  # 45 tokens
    first = only(await harness.response(), "response.done")["response"]
    await history(harness, "u6")
    await harness.response()
    await history(harness, "u7")
    await harness.response()
    assert [given(r) for r in llm.requests] == [
        "system u4 a4 u5",  # 15 tokens: at most half of 43; auto would have kept u2 a2 u3 a3 u4 a4 u5 (35)
        "system u4 a4 u5 You u6",
        "system u4 a4 u5 You u6 You u7",
    ]
    assert first["usage"]["input_tokens"] == 2 + 15


async def test_token_limits_cap_the_conversation_after_the_instructions() -> None:
    harness, llm = await started(window=40)
    await set_truncation(
        harness, {"type": "retention_ratio", "retention_ratio": 1.0, "token_limits": {"post_instructions": 20}}
    )
    await history(harness, SEVEN_ITEMS)
    await harness.response()
    assert given(llm.requests[0]) == "system u3 a3 u4"


# --- disabled -------------------------------------------------------------------------------------


async def test_disabled_fails_a_response_that_does_not_fit_and_says_by_how_much() -> None:
    harness, llm = await started(window=40)
    await set_truncation(harness, "disabled")
    await history(harness, SEVEN_ITEMS)
    events = await harness.response()
    assert types(events) == ["response.created", "rate_limits.updated", "response.done"]
    assert failure(events) == {
        "type": "failed",
        "error": {
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
            "message": "The conversation does not fit the model's context window: the conversation (with 10 tokens "
            "kept for the answer) needs 47 tokens, more than the 40 allowed. Delete older items, or set the "
            "session's truncation to 'auto'.",
        },
    }
    assert llm.requests == []


async def test_disabled_session_carries_on_once_the_conversation_fits() -> None:
    harness, llm = await started(window=40)
    await set_truncation(harness, "disabled")
    ids = await history(harness, SEVEN_ITEMS)
    await harness.response()
    for item_id in ids[:2]:
        await harness.request({"type": "conversation.item.delete", "item_id": item_id})
    assert only(await harness.response(), "response.done")["response"]["status"] == "completed"
    assert given(llm.requests[0]) == "system u2 a2 u3 a3 u4"


async def test_disabled_sends_a_conversation_that_fits_whole() -> None:
    harness, llm = await started(window=40)
    await set_truncation(harness, "disabled")
    await history(harness, "u1 a1 u2 a2 u3:3")
    assert only(await harness.response(), "response.done")["response"]["status"] == "completed"
    assert given(llm.requests[0]) == "system u1 a1 u2 a2 u3"
