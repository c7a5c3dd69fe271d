"""Neutral server events with fixed ids, shared by the codec tests of both dialects."""

from __future__ import annotations

from typing import Any

from realtalk.protocol import events as ev
from realtalk.protocol.config import SessionConfig, SessionPatch
from realtalk.protocol.items import Content, Item

EXPIRES = 1_700_000_000
REALTIME = ev.SessionInfo("sess_1", EXPIRES, SessionConfig())
TRANSCRIPTION = ev.SessionInfo(
    "sess_2", EXPIRES, SessionConfig().patched(SessionPatch("transcription", {("type",): "transcription"}))
)
SPOKEN = Item(
    "item_a", "message", "completed", "assistant", [Content("output_audio", transcript="Hi.", audio=b"\x00\x01")]
)
WRITTEN = Item("item_t", "message", "in_progress", "assistant", [Content("output_text", text="Hi.")])
HEARD = Item("item_u", "message", "completed", "user", [Content("input_audio", transcript="Hello", audio=b"\x01\x02")])
CALL = Item("item_c", "function_call", "completed", call_id="call_1", name="get_weather", arguments='{"city":"Rome"}')
RESULT = Item("item_o", "function_call_output", "completed", call_id="call_1", output="sunny")
RESPONSE = ev.Response(
    "resp_1",
    "conv_1",
    "audio",
    "ash",
    "g711_ulaw",
    0.8,
    "inf",
    status="completed",
    status_details=ev.StatusDetails("completed"),
    output=[SPOKEN],
    usage=ev.Usage(input_text_tokens=1, input_audio_tokens=2, output_text_tokens=3, output_audio_tokens=4),
)
VAD = {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 500}
SERVER_VAD = {**VAD, "create_response": True, "interrupt_response": True}  # a realtime session's default, in beta
WHERE = {"response_id": "resp_1", "item_id": "item_a", "output_index": 0, "content_index": 0}

SAMPLES: dict[type[Any], ev.ServerEvent] = {
    ev.Error: ev.Error("Bad.", code="invalid_value", param="x", event_id="c1"),
    ev.SessionCreated: ev.SessionCreated(REALTIME),
    ev.SessionUpdated: ev.SessionUpdated(REALTIME),
    ev.ConversationCreated: ev.ConversationCreated("conv_1"),
    ev.ItemCreated: ev.ItemCreated(CALL, "item_u"),
    ev.ItemDone: ev.ItemDone(SPOKEN, "item_u"),
    ev.ItemRetrieved: ev.ItemRetrieved(HEARD),
    ev.ItemTruncated: ev.ItemTruncated("item_a", 0, 120),
    ev.OutputAudioBuffer: ev.OutputAudioBuffer("resp_a", "started"),
    ev.DtmfReceived: ev.DtmfReceived("7", 1_760_000_000),
    ev.ItemDeleted: ev.ItemDeleted("item_a"),
    ev.InputAudioCommitted: ev.InputAudioCommitted("item_u", None),
    ev.InputAudioCleared: ev.InputAudioCleared(),
    ev.SpeechStarted: ev.SpeechStarted(100, "item_u"),
    ev.SpeechStopped: ev.SpeechStopped(900, "item_u"),
    ev.IdleTimeout: ev.IdleTimeout(0, 5000, "item_u"),
    ev.TranscriptionDelta: ev.TranscriptionDelta("item_u", 0, "Hel", [("Hel", -0.5)]),
    ev.TranscriptionCompleted: ev.TranscriptionCompleted("item_u", 0, "Hello", 1.5),
    ev.TranscriptionFailed: ev.TranscriptionFailed("item_u", 0, "no speech"),
    ev.RateLimitsUpdated: ev.RateLimitsUpdated([ev.RateLimit("requests", 100, 99, 1.5)]),
    ev.ResponseCreated: ev.ResponseCreated(RESPONSE),
    ev.ResponseDone: ev.ResponseDone(RESPONSE),
    ev.OutputItemAdded: ev.OutputItemAdded("resp_1", 0, WRITTEN),
    ev.OutputItemDone: ev.OutputItemDone("resp_1", 0, SPOKEN),
    ev.ContentPartAdded: ev.ContentPartAdded("resp_1", "item_a", 0, 0, "audio"),
    ev.ContentPartDone: ev.ContentPartDone("resp_1", "item_a", 0, 0, "text", "Hi."),
    ev.ContentDelta: ev.ContentDelta("resp_1", "item_a", 0, 0, "audio", b"\x00\x01"),
    ev.ContentDone: ev.ContentDone("resp_1", "item_a", 0, 0, "transcript", "Hi."),
    ev.FunctionArgumentsDelta: ev.FunctionArgumentsDelta("resp_1", "item_c", 1, "call_1", '{"ci'),
    ev.FunctionArgumentsDone: ev.FunctionArgumentsDone("resp_1", "item_c", 1, "call_1", "get_weather", "{}"),
}


def spoken_item(audio_name: str, **audio: str) -> dict[str, Any]:
    """`SPOKEN` as a wire shows it, its audio content type spelled `audio_name`."""
    return {
        "id": "item_a",
        "object": "realtime.item",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": audio_name, **audio, "transcript": "Hi."}],
    }
