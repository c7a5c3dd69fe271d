"""`response.cancel`: before output, mid-output, and with nothing to cancel (PROTOCOL §3.6 d)."""

from __future__ import annotations

from realtalk.protocol.session_config import SessionConfig
from tests.engines import GatedLLM
from tests.harness import AUDIO_CANCELLED_TAIL, SessionHarness, only, scripted_engines, types


async def started(llm: GatedLLM, **fields: object) -> SessionHarness:
    config = SessionConfig.model_validate({"model": "gpt-4o-realtime-preview", **fields})
    harness = SessionHarness(config, scripted_engines(llm=llm))
    await harness.start()
    return harness


async def test_cancel_before_any_output_reports_an_empty_cancelled_response() -> None:
    llm = GatedLLM(pause_after=0)
    harness = await started(llm, modalities=["text"])
    await harness.send({"type": "response.create"})
    await llm.paused.wait()
    events = harness.drain() + await harness.request({"type": "response.cancel"})
    assert types(events) == ["response.created", "rate_limits.updated", "response.done"]
    done = only(events, "response.done")["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert done["output"] == []


async def test_cancel_right_after_create_still_reports_both_ends() -> None:
    harness = await started(GatedLLM(), modalities=["text"])
    await harness.send({"type": "response.create"})
    events = await harness.request({"type": "response.cancel"})
    assert types(events) == ["response.created", "rate_limits.updated", "response.done"]
    assert only(events, "response.done")["response"]["status"] == "cancelled"


async def test_cancel_mid_text_closes_every_open_part_then_reports_done() -> None:
    llm = GatedLLM(pause_after=2)
    harness = await started(llm, modalities=["text"])
    await harness.send({"type": "response.create"})
    await harness.until("response.text.delta")
    await harness.until("response.text.delta")
    events = await harness.request({"type": "response.cancel"})
    assert types(events) == [
        "response.text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]
    assert only(events, "response.text.done")["text"] == "One two"
    assert only(events, "response.output_item.done")["item"]["status"] == "incomplete"
    done = only(events, "response.done")["response"]
    assert done["status"] == "cancelled" and done["output"][0]["status"] == "incomplete"
    assert llm.streams_closed == 1


async def test_cancel_mid_audio_sends_no_delta_after_the_cancel() -> None:
    llm = GatedLLM("Here is a first clause, and then a second one.", pause_after=6)
    harness = await started(llm)
    await harness.send({"type": "response.create"})
    await harness.until("response.audio.delta")
    await llm.paused.wait()
    harness.drain()
    events = await harness.request({"type": "response.cancel"})
    assert types(events) == AUDIO_CANCELLED_TAIL
    assert only(events, "response.audio_transcript.done")["transcript"] == "Here is a first clause,"


async def test_cancel_with_nothing_active_is_an_error_and_harmless() -> None:
    harness = await started(GatedLLM(), modalities=["text"])
    events = await harness.request({"type": "response.cancel", "event_id": "c1"})
    error = only(events, "error")["error"]
    assert (error["code"], error["event_id"]) == ("response_cancel_not_active", "c1")
    assert types(await harness.request({"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]


async def test_cancel_by_id_reaches_an_out_of_band_response() -> None:
    llm = GatedLLM(pause_after=1)
    harness = await started(llm, modalities=["text"])
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
    harness = await started(llm, modalities=["text"])
    await harness.send({"type": "response.create"})
    await llm.paused.wait()
    await harness.send({"type": "response.cancel"})
    harness.drain()
    llm.gate.set()
    events = await harness.response()
    assert only(events, "response.done")["response"]["status"] == "completed"


async def test_parallel_out_of_band_responses_are_bounded() -> None:
    llm = GatedLLM(pause_after=0)
    harness = await started(llm, modalities=["text"])
    for _ in range(8):
        await harness.send({"type": "response.create", "response": {"conversation": "none"}})
    events = await harness.request({"type": "response.create", "response": {"conversation": "none"}})
    assert only(events, "error")["error"]["code"] == "too_many_responses"
    llm.gate.set()
