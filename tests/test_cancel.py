"""`response.cancel`: before output, mid-output, and with nothing to cancel (PROTOCOL §3.6 d)."""

from __future__ import annotations

from typing import Any

import pytest

from realtalk.protocol.config import Modality
from tests.engines import GatedLLM
from tests.harness import AUDIO_CANCELLED_TAIL, SessionHarness, config, only, scripted_engines, types

pytestmark = pytest.mark.dialects("ga", "beta")


async def started(llm: GatedLLM, modality: Modality = "text") -> SessionHarness:
    harness = SessionHarness(config(modality=modality), scripted_engines(llm=llm))
    await harness.start()
    return harness


async def out_of_band(harness: SessionHarness, **event: Any) -> list[dict[str, Any]]:
    return await harness.request({"type": "response.create", "response": {"conversation": "none"}, **event})


async def test_cancel_before_any_output_reports_an_empty_cancelled_response() -> None:
    llm = GatedLLM(pause_after=0)
    harness = await started(llm)
    await harness.send({"type": "response.create"})
    await llm.paused.wait()
    events = harness.drain() + await harness.request({"type": "response.cancel"})
    assert types(events) == ["response.created", "rate_limits.updated", "response.done"]
    done = only(events, "response.done")["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert done["output"] == []


async def test_cancel_right_after_create_still_reports_both_ends() -> None:
    harness = await started(GatedLLM())
    await harness.send({"type": "response.create"})
    events = await harness.request({"type": "response.cancel"})
    assert types(events) == ["response.created", "rate_limits.updated", "response.done"]
    assert only(events, "response.done")["response"]["status"] == "cancelled"


async def test_cancel_mid_text_closes_every_open_part_then_reports_done() -> None:
    llm = GatedLLM(pause_after=2)
    harness = await started(llm)
    await harness.send({"type": "response.create"})
    await harness.until(harness.name("response.output_text.delta"))
    await harness.until(harness.name("response.output_text.delta"))
    events = await harness.request({"type": "response.cancel"})
    assert types(events) == harness.expect(
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "conversation.item.done",
            "response.done",
        ]
    )
    assert harness.only(events, "response.output_text.done")["text"] == "One two"
    assert only(events, "response.output_item.done")["item"]["status"] == "incomplete"
    done = only(events, "response.done")["response"]
    assert done["status"] == "cancelled" and done["output"][0]["status"] == "incomplete"
    assert llm.streams_closed == 1


async def test_cancel_mid_audio_sends_no_delta_after_the_cancel() -> None:
    llm = GatedLLM("Here is a first clause, and then a second one.", pause_after=6)
    harness = await started(llm, modality="audio")
    await harness.send({"type": "response.create"})
    await harness.until(harness.name("response.output_audio.delta"))
    await llm.paused.wait()
    harness.drain()
    events = await harness.request({"type": "response.cancel"})
    assert types(events) == harness.expect(AUDIO_CANCELLED_TAIL)
    assert (
        harness.only(events, "response.output_audio_transcript.done")["transcript"] == "Here is a first"
    )  # the first chunk; " clause," waits for more


async def test_cancel_with_nothing_active_is_an_error_and_harmless() -> None:
    harness = await started(GatedLLM())
    events = await harness.request({"type": "response.cancel", "event_id": "c1"})
    error = only(events, "error")["error"]
    assert (error["code"], error["event_id"], error["param"]) == ("response_cancel_not_active", "c1", None)
    assert types(await harness.request({"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]


async def test_cancel_of_an_unknown_response_id_names_the_id() -> None:
    harness = await started(GatedLLM())
    events = await harness.request({"type": "response.cancel", "response_id": "resp_nowhere"})
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("response_cancel_not_active", "response_id")


async def test_cancel_by_id_reaches_an_out_of_band_response() -> None:
    llm = GatedLLM(pause_after=1)
    harness = await started(llm)
    await harness.send({"type": "response.create", "response": {"conversation": "none"}})
    await llm.paused.wait()
    response_id = only(harness.drain(), "response.created")["response"]["id"]
    assert only(await harness.request({"type": "response.cancel"}), "error")["error"]["code"] == (
        "response_cancel_not_active"
    )
    events = await harness.request({"type": "response.cancel", "response_id": response_id})
    assert only(events, "response.done")["response"]["status"] == "cancelled"


async def test_a_new_response_may_start_right_after_a_cancel() -> None:
    llm = GatedLLM(pause_after=1)
    harness = await started(llm)
    await harness.send({"type": "response.create"})
    await llm.paused.wait()
    await harness.send({"type": "response.cancel"})
    harness.drain()
    llm.gate.set()
    events = await harness.response()
    assert only(events, "response.done")["response"]["status"] == "completed"


async def test_parallel_out_of_band_responses_are_bounded() -> None:
    llm = GatedLLM(pause_after=0)
    harness = await started(llm)
    for _ in range(8):
        await out_of_band(harness)
    events = await out_of_band(harness, event_id="ninth")
    error = only(events, "error")["error"]
    assert (error["code"], error["event_id"]) == ("too_many_responses", "ninth")
    llm.gate.set()
