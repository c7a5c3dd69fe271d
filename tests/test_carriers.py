"""The carriers' messages as their documentation shows them, read into the bridge's neutral messages."""

from __future__ import annotations

from typing import Any

import pytest

from realtalk.transports.phone.carrier import (
    BadMessage,
    CallerAudio,
    Digit,
    MarkPlayed,
    StreamStart,
    StreamStop,
)
from realtalk.transports.phone.telnyx import TELNYX
from realtalk.transports.phone.twilio import TWILIO

TWILIO_START = {
    "event": "start",
    "sequenceNumber": "1",
    "start": {
        "accountSid": "AC123",
        "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0",
        "callSid": "CA123",
        "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"profile": "sales"},
    },
    "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0",
}
TELNYX_START = {
    "event": "start",
    "sequence_number": "1",
    "stream_id": "32DE0DEA-53CB-4B21-89A4-9E1819C043BC",
    "start": {
        "user_id": "3E6F995F-85F7-4705-9741-53B116D28237",
        "call_control_id": "v3:abc",
        "from": "+13122010094",
        "to": "+13122123456",
        "custom_parameters": {"customer_id": "customer_123"},
        "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1},
    },
}


def test_twilio_messages() -> None:
    assert TWILIO.parse({"event": "connected", "protocol": "Call", "version": "1.0.0"}) is None
    assert TWILIO.parse(TWILIO_START) == StreamStart(
        "MZ18ad3ab5a668481ce02b83e7395059f0",
        {"profile": "sales"},
        [("X-Twilio-CallSid", "CA123"), ("X-Twilio-StreamSid", "MZ18ad3ab5a668481ce02b83e7395059f0")],
    )
    media = {"event": "media", "sequenceNumber": "3", "streamSid": "MZ1"}
    inbound = {**media, "media": {"track": "inbound", "chunk": "1", "timestamp": "5", "payload": "/w=="}}
    outbound = {**media, "media": {"track": "outbound", "chunk": "1", "timestamp": "5", "payload": "/w=="}}
    assert TWILIO.parse(inbound) == CallerAudio(b"\xff")
    assert TWILIO.parse(outbound) is None  # a both-tracks stream's other side
    assert TWILIO.parse({"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": "1"}}) == Digit("1")
    assert TWILIO.parse({"event": "mark", "mark": {"name": "7"}}) == MarkPlayed("7")
    assert TWILIO.parse({"event": "stop", "stop": {"accountSid": "AC1", "callSid": "CA1"}}) == StreamStop()


def test_twilio_answers_name_the_stream() -> None:
    assert TWILIO.media("MZ1", b"\xff\x7f") == {"event": "media", "streamSid": "MZ1", "media": {"payload": "/38="}}
    assert TWILIO.mark("MZ1", "3") == {"event": "mark", "streamSid": "MZ1", "mark": {"name": "3"}}
    assert TWILIO.clear("MZ1") == {"event": "clear", "streamSid": "MZ1"}


def test_telnyx_messages_and_answers() -> None:
    assert TELNYX.parse({"event": "connected", "version": "1.0.0"}) is None
    assert TELNYX.parse(TELNYX_START) == StreamStart(
        "32DE0DEA-53CB-4B21-89A4-9E1819C043BC",
        {"customer_id": "customer_123"},
        [("X-Telnyx-Call-Control-Id", "v3:abc"), ("From", "+13122010094"), ("To", "+13122123456")],
    )
    media = {"event": "media", "stream_id": "S", "media": {"track": "inbound", "chunk": "2", "payload": "/w=="}}
    assert TELNYX.parse(media) == CallerAudio(b"\xff")
    assert TELNYX.parse({"event": "error", "payload": {"code": 100002, "title": "Unknown error"}}) is None
    assert TELNYX.media("S", b"\xff") == {"event": "media", "media": {"payload": "/w=="}}
    assert TELNYX.mark("S", "1") == {"event": "mark", "mark": {"name": "1"}}
    assert TELNYX.clear("S") == {"event": "clear"}


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ({"event": "ringing"}, "unknown event 'ringing'"),
        ({"event": "media", "media": {"payload": "%%"}}, "'media.payload' is not base64"),
        ({"event": "media", "media": {}}, "no 'media.payload'"),
        ({"event": "mark", "mark": {"name": 3}}, "'mark.name' is not a string"),
        (
            {
                **TWILIO_START,
                "start": {**TWILIO_START["start"], "mediaFormat": {"encoding": "audio/x-l16", "sampleRate": 16000}},
            },
            "the stream carries audio/x-l16 at 16000 Hz; realtalk takes audio/x-mulaw at 8000 Hz",
        ),
        (
            {**TWILIO_START, "start": {**TWILIO_START["start"], "customParameters": {"n": 1}}},
            "not an object of strings",
        ),
    ],
)
def test_a_message_the_bridge_cannot_use_says_why(message: dict[str, Any], why: str) -> None:
    with pytest.raises(BadMessage, match=why.replace("(", r"\(").replace(")", r"\)")):
        TWILIO.parse(message)
