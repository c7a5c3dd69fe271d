"""Responses: text and audio output, function calls, overrides, limits and usage (PROTOCOL §3.6)."""

from __future__ import annotations

import base64
import json

import pytest

from realtalk.engines.scripted.llm import ScriptedLLM, ScriptedToolCall, ScriptedTurn
from tests.engines import FailingLLM, RecordingLLM
from tests.harness import SessionHarness, config, only, scripted_engines, types

pytestmark = pytest.mark.dialects("ga", "beta")

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


async def started(harness: SessionHarness) -> SessionHarness:
    await harness.start()
    return harness


TEXT_SEQUENCE = [
    "response.created",
    "rate_limits.updated",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


async def test_text_response_follows_the_captured_event_order() -> None:
    harness = await started(SessionHarness(config(modality="text")))
    await harness.say("hi there")
    events = await harness.response()
    assert types(events) == harness.expect(TEXT_SEQUENCE)
    deltas = "".join(e["delta"] for e in events if e["type"] == harness.name("response.output_text.delta"))
    assert deltas == "You said: hi there"
    assert harness.only(events, "response.output_text.done")["text"] == deltas
    assert only(events, "response.content_part.done")["part"] == {"type": "text", "text": deltas}


async def test_output_item_is_announced_in_progress_and_finished_completed() -> None:
    harness = await started(SessionHarness(config(modality="text")))
    user = (await harness.say("hi"))[0]["item"]
    events = await harness.response()
    added = only(events, "response.output_item.added")["item"]
    created = harness.only(events, "conversation.item.added")
    assert added["status"] == "in_progress" and added["role"] == "assistant" and added["content"] == []
    assert created["item"]["id"] == added["id"]
    assert created["previous_item_id"] == user["id"]
    done = only(events, "response.output_item.done")["item"]
    assert done["status"] == "completed"
    assert done["content"] == [{"type": harness.content_type("output_text"), "text": "You said: hi"}]


async def test_response_objects_carry_status_output_and_usage() -> None:
    harness = await started(SessionHarness(config(modality="text")))
    await harness.say("hi there")
    events = await harness.response()
    created = only(events, "response.created")["response"]
    assert created["status"] == "in_progress" and created["output"] == [] and created["usage"] is None
    assert created["conversation_id"] == harness.session.conversation.id
    done = only(events, "response.done")["response"]
    assert done["id"] == created["id"] and done["id"].startswith("resp_")
    assert done["status"] == "completed" and done["status_details"] is None
    assert [item["id"] for item in done["output"]] == [only(events, "response.output_item.done")["item"]["id"]]
    usage = done["usage"]
    assert usage["output_tokens"] == 4  # four streamed words
    assert usage["input_tokens"] == usage["input_token_details"]["text_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_rate_limits_follow_response_created_and_count_down() -> None:
    harness = await started(SessionHarness(config(modality="text")))
    first = only(await harness.response(), "rate_limits.updated")["rate_limits"]
    second = only(await harness.response(), "rate_limits.updated")["rate_limits"]
    requests = [next(r for r in limits if r["name"] == "requests") for limits in (first, second)]
    assert requests[0]["remaining"] == requests[0]["limit"] - 1
    assert requests[1]["remaining"] == requests[0]["remaining"] - 1
    tokens = [next(r for r in limits if r["name"] == "tokens") for limits in (first, second)]
    assert tokens[1]["remaining"] < tokens[0]["remaining"]


AUDIO_SEQUENCE = [
    "response.created",
    "rate_limits.updated",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_audio_transcript.delta",  # "You said:" — a short first chunk, spoken at once
    "response.output_audio.delta",
    "response.output_audio.delta",
    "response.output_audio_transcript.delta",  # " hi there"
    "response.output_audio.delta",
    "response.output_audio.delta",
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


async def test_audio_response_streams_pcm16_with_its_transcript() -> None:
    harness = await started(SessionHarness())
    await harness.say("hi there")
    events = await harness.response()
    assert types(events) == harness.expect(AUDIO_SEQUENCE)
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == harness.name("response.output_audio.delta")
    )
    transcript = "You said: hi there"
    spoken = len("You said:") + len("hi there")  # each chunk is spoken without its surrounding spaces
    assert len(audio) == spoken * 20 * 24 * 2  # 20 ms a character, 24 kHz, 2 bytes a sample
    assert harness.only(events, "response.output_audio_transcript.done")["transcript"] == transcript
    assert only(events, "response.content_part.added")["part"] == {"type": "audio", "transcript": ""}
    assert only(events, "response.output_item.done")["item"]["content"] == [
        {"type": harness.content_type("output_audio"), "transcript": transcript}
    ]
    done = only(events, "response.done")["response"]
    assert done["usage"]["output_token_details"]["audio_tokens"] == 340 // 50 + 1
    assert set(done["output"][0]["content"][0]) == {"type", "transcript"}  # no audio bytes in response.done


async def test_g711_output_is_8khz_one_byte_per_sample() -> None:
    harness = await started(SessionHarness(config(output={"format": "g711_ulaw"})))
    await harness.say("hi there")
    events = await harness.response()
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == harness.name("response.output_audio.delta")
    )
    assert abs(len(audio) - 340 * 8) <= 8  # 340 ms at 8 kHz, within one ms of resampler latency
    response = only(events, "response.done")["response"]
    if harness.ga:
        assert response["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    else:
        assert response["output_audio_format"] == "g711_ulaw"


async def test_long_answers_are_spoken_clause_by_clause() -> None:
    llm = ScriptedLLM([ScriptedTurn("Paris is the capital of France. It is known for the Eiffel Tower.")])
    harness = await started(SessionHarness(engines=scripted_engines(llm=llm)))
    events = await harness.response()
    transcript_deltas = [
        e["delta"] for e in events if e["type"] == harness.name("response.output_audio_transcript.delta")
    ]
    assert transcript_deltas == ["Paris is the capital", " of France.", " It is known for the Eiffel Tower."]
    first_audio = types(events).index(harness.name("response.output_audio.delta"))
    assert first_audio < types(events).index(harness.name("response.output_audio_transcript.delta"), first_audio)


FUNCTION_SEQUENCE_HEAD = [
    "response.created",
    "rate_limits.updated",
    "response.output_item.added",
    "conversation.item.added",
]
FUNCTION_SEQUENCE_TAIL = [
    "response.function_call_arguments.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


async def test_function_call_streams_arguments_then_completes_the_item() -> None:
    llm = ScriptedLLM([ScriptedTurn(tool_calls=(ScriptedToolCall("get_weather", {"city": "Paris"}),))])
    harness = await started(SessionHarness(config(tools=[WEATHER]), scripted_engines(llm=llm)))
    await harness.say("Weather in Paris?")
    events = await harness.response()
    kinds = types(events)
    head, tail = harness.expect(FUNCTION_SEQUENCE_HEAD), harness.expect(FUNCTION_SEQUENCE_TAIL)
    assert kinds[: len(head)] == head and kinds[-len(tail) :] == tail
    assert set(kinds[len(head) : -len(tail)]) == {"response.function_call_arguments.delta"}
    added = only(events, "response.output_item.added")["item"]
    assert added["type"] == "function_call" and added["name"] == "get_weather" and added["status"] == "in_progress"
    assert added["call_id"].startswith("call_")
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta")
    done = only(events, "response.function_call_arguments.done")
    assert json.loads(deltas) == json.loads(done["arguments"]) == {"city": "Paris"}
    assert done["call_id"] == added["call_id"]
    item = only(events, "response.done")["response"]["output"][0]
    assert item == {
        "id": added["id"],
        "object": "realtime.item",
        "type": "function_call",
        "status": "completed",
        "name": "get_weather",
        "call_id": added["call_id"],
        "arguments": done["arguments"],
    }


async def test_tools_and_tool_choice_reach_the_llm() -> None:
    llm = RecordingLLM(ScriptedLLM())
    harness = await started(
        SessionHarness(
            config(tools=[WEATHER], tool_choice={"type": "function", "name": "get_weather"}), scripted_engines(llm=llm)
        )
    )
    await harness.response()
    request = llm.requests[-1]
    assert [tool.name for tool in request.tools] == ["get_weather"]
    assert request.tools[0].parameters == WEATHER["parameters"]
    assert (request.tool_choice.mode, request.tool_choice.name) == ("function", "get_weather")


async def test_the_turn_after_a_function_call_output_sees_the_output() -> None:
    llm = RecordingLLM(ScriptedLLM([ScriptedTurn(tool_calls=(ScriptedToolCall("get_weather", {"city": "Paris"}),))]))
    harness = await started(SessionHarness(config(modality="text", tools=[WEATHER]), scripted_engines(llm=llm)))
    await harness.say("Weather in Paris?")
    call = only(await harness.response(), "response.output_item.done")["item"]
    created = await harness.request(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": call["call_id"], "output": '{"sky": "sunny"}'},
        }
    )
    assert types(created) == harness.expect(["conversation.item.added", "conversation.item.done"])
    events = await harness.response()
    assert harness.only(events, "response.output_text.done")["text"] == 'The tool returned: {"sky": "sunny"}'
    messages = llm.requests[-1].messages
    assert [m.role for m in messages] == ["system", "user", "assistant", "tool"]
    assert messages[2].tool_calls[0].call_id == call["call_id"]
    assert messages[3].tool_call_id == call["call_id"]


async def test_function_call_output_needs_a_matching_call() -> None:
    harness = await started(SessionHarness())
    events = await harness.request(
        {
            "type": "conversation.item.create",
            "event_id": "evt_1",
            "item": {"type": "function_call_output", "call_id": "call_nope", "output": "{}"},
        }
    )
    error = only(events, "error")["error"]
    assert (error["code"], error["param"], error["event_id"]) == ("invalid_value", "item.call_id", "evt_1")
    assert harness.session.conversation.items == []


async def test_per_response_overrides_apply_to_that_response_only() -> None:
    llm = RecordingLLM(ScriptedLLM())
    harness = await started(SessionHarness(engines=scripted_engines(llm=llm)))
    if harness.ga:
        overrides = {"output_modalities": ["text"], "instructions": "Be terse.", "max_output_tokens": 100}
    else:
        overrides = {"modalities": ["text"], "instructions": "Be terse.", "max_response_output_tokens": 100}
    response = only(await harness.response(overrides), "response.done")["response"]
    following = only(await harness.response(), "response.done")["response"]
    assert llm.requests[0].messages[0].content == "Be terse."
    assert (llm.requests[0].max_output_tokens, llm.requests[1].max_output_tokens) == (100, None)
    assert response["max_output_tokens"] == 100 and following["max_output_tokens"] == "inf"
    modalities = "output_modalities" if harness.ga else "modalities"
    assert response[modalities] == ["text"]
    assert following[modalities] == (["audio"] if harness.ga else ["text", "audio"])


@pytest.mark.dialects("beta")  # GA responses have no temperature
async def test_beta_responses_take_a_temperature() -> None:
    llm = RecordingLLM(ScriptedLLM())
    harness = await started(SessionHarness(engines=scripted_engines(llm=llm)))
    response = only(await harness.response({"temperature": 1.1}), "response.done")["response"]
    assert response["temperature"] == 1.1 and llm.requests[0].temperature == 1.1


async def test_max_output_tokens_ends_the_response_incomplete() -> None:
    harness = await started(SessionHarness(config(modality="text", max_output_tokens=2)))
    await harness.say("one two three four")
    events = await harness.response()
    assert [e["delta"] for e in events if e["type"] == harness.name("response.output_text.delta")] == ["You", " said:"]
    done = only(events, "response.done")["response"]
    assert done["status"] == "incomplete"
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert only(events, "response.output_item.done")["item"]["status"] == "incomplete"


async def test_one_active_response_per_conversation() -> None:
    harness = await started(SessionHarness(config(modality="text")))
    await harness.send({"type": "response.create"})
    refused = await harness.request({"type": "response.create", "event_id": "second"})
    error = only(refused, "error")["error"]
    assert error["code"] == "conversation_already_has_active_response" and error["event_id"] == "second"
    await harness.until("response.done")
    assert only(await harness.response(), "response.done")["response"]["status"] == "completed"


async def test_out_of_band_response_stays_out_of_the_conversation() -> None:
    harness = await started(SessionHarness(config(modality="text")))
    await harness.say("hello")
    before = [item.id for item in harness.session.conversation.items]
    events = await harness.response({"conversation": "none", "metadata": {"topic": "classify"}})
    assert harness.name("conversation.item.added") not in types(events)
    done = only(events, "response.done")["response"]
    assert done["conversation_id"] is None and done["metadata"] == {"topic": "classify"}
    assert [item.id for item in harness.session.conversation.items] == before


async def test_out_of_band_response_may_run_beside_the_default_one() -> None:
    harness = await started(SessionHarness(config(modality="text")))
    await harness.send({"type": "response.create"})
    await harness.send({"type": "response.create", "response": {"conversation": "none"}})
    events = await harness.until("response.done")
    events += await harness.until("response.done")
    assert "error" not in types(events)
    assert types(events).count("response.done") == 2


async def test_out_of_band_input_replaces_the_context_and_resolves_references() -> None:
    llm = RecordingLLM(ScriptedLLM())
    harness = await started(SessionHarness(config(modality="text"), scripted_engines(llm=llm)))
    first = (await harness.say("remember this"))[0]["item"]["id"]
    await harness.say("not this")
    await harness.response(
        {
            "conversation": "none",
            "input": [
                {"type": "item_reference", "id": first},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "and this"}]},
            ],
        }
    )
    contents = [m.content for m in llm.requests[-1].messages if m.role == "user"]
    assert contents == ["remember this", "and this"]
    await harness.response({"conversation": "none", "input": []})
    assert [m.role for m in llm.requests[-1].messages] == ["system"]


async def test_out_of_band_reference_to_a_missing_item_is_refused() -> None:
    harness = await started(SessionHarness())
    events = await harness.request(
        {
            "type": "response.create",
            "response": {"conversation": "none", "input": [{"type": "item_reference", "id": "item_missing"}]},
        }
    )
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("item_not_found", "response.input[0].id")


async def test_response_tool_choice_must_name_a_tool() -> None:
    harness = await started(SessionHarness())
    events = await harness.request({"type": "response.create", "response": {"tool_choice": "nowhere"}})
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "response.tool_choice")


async def test_an_engine_failure_fails_the_response_not_the_session() -> None:
    harness = await started(SessionHarness(config(modality="text"), scripted_engines(llm=FailingLLM())))
    events = await harness.response()
    done = only(events, "response.done")["response"]
    assert done["status"] == "failed"
    assert done["status_details"]["error"]["code"] == "engine_error"
    assert "backend went away" in done["status_details"]["error"]["message"]
    assert only(events, "response.output_item.done")["item"]["status"] == "incomplete"
    harness.engines.llm = ScriptedLLM()
    assert only(await harness.response(), "response.done")["response"]["status"] == "completed"
