"""The phone player: the answer sent as marked μ-law chunks, what was heard told by the echoed marks."""

from __future__ import annotations

import base64
from typing import Any

from realtalk.audio.formats import FORMATS
from realtalk.protocol import events as ev
from realtalk.session.playback import Heard
from realtalk.transports.phone.carrier import Line
from realtalk.transports.phone.player import PhonePlayer
from realtalk.transports.phone.twilio import TWILIO
from tests.signals import tone
from tests.test_speaker import Listener, delta, response
from tests.virtual_clock import VirtualClock

ULAW = FORMATS["g711_ulaw"]


def player() -> tuple[PhonePlayer, list[dict[str, Any]], Listener, VirtualClock]:
    sent: list[dict[str, Any]] = []
    listener, clock = Listener(), VirtualClock()
    line = Line(TWILIO, "MZ1", sent.append)
    return PhonePlayer(listener.emit, listener.announce, line, clock.now), sent, listener, clock


def ulaw_ms(ms: int) -> bytes:
    return ULAW.encode(tone(ms, rate=8000))


def payloads(sent: list[dict[str, Any]]) -> bytes:
    return b"".join(base64.b64decode(m["media"]["payload"]) for m in sent if m["event"] == "media")


def test_an_answer_goes_out_byte_for_byte_in_chunks_of_100ms_each_followed_by_a_mark() -> None:
    phone, sent, listener, _ = player()
    phone.response_created(response("r1", "g711_ulaw"))
    audio = ulaw_ms(250)
    phone.audio(delta("r1", audio))
    assert [m["event"] for m in sent] == ["media", "mark"] * 3
    assert [len(base64.b64decode(m["media"]["payload"])) for m in sent if m["event"] == "media"] == [800, 800, 400]
    assert [m["mark"]["name"] for m in sent if m["event"] == "mark"] == ["1", "2", "3"]
    assert all(m["streamSid"] == "MZ1" for m in sent)
    assert payloads(sent) == audio  # bit-exact: the session's μ-law is what the caller hears
    assert listener.heard == [("started", "r1")]  # with the first media out


def test_it_stops_once_the_last_mark_of_a_finished_answer_comes_back() -> None:
    phone, _, listener, _ = player()
    phone.response_created(response("r1", "g711_ulaw"))
    phone.audio(delta("r1", ulaw_ms(200)))
    phone.audio_done("item_a", 0)
    phone.response_done("r1")
    phone.played("1")
    assert listener.heard == [("started", "r1")]
    phone.played("2")
    assert listener.heard == [("started", "r1"), ("stopped", "r1")]


async def test_clear_says_what_was_heard_by_the_marks_and_the_time_since_the_last() -> None:
    phone, sent, listener, clock = player()
    phone.response_created(response("r1", "g711_ulaw"))
    phone.audio(delta("r1", ulaw_ms(1000)))
    clock.advance(0.3)
    phone.played("2")  # 200 ms played by now (the network kept 100 ms in flight)
    clock.advance(0.035)
    heard = await phone.clear()
    assert heard == Heard("r1", "item_a", 0, 235)
    assert sent[-1] == {"event": "clear", "streamSid": "MZ1"}
    assert listener.heard == [("started", "r1"), ("cleared", "r1")]
    phone.played("3")  # echoed by the clear: not heard, and nothing to stop
    phone.response_done("r1")
    assert listener.heard == [("started", "r1"), ("cleared", "r1")]


async def test_a_chunk_not_yet_echoed_counts_no_longer_than_it_lasts() -> None:
    phone, _, _, clock = player()
    phone.response_created(response("r1", "g711_ulaw"))
    phone.audio(delta("r1", ulaw_ms(150)))
    clock.advance(5.0)  # the carrier is late with its marks
    assert await phone.clear() == Heard("r1", "item_a", 0, 100)


async def test_clear_with_nothing_on_the_line_sends_nothing() -> None:
    phone, sent, _, _ = player()
    assert await phone.clear() is None
    assert sent == []


def test_a_pcm16_answer_is_resampled_to_8khz_ulaw() -> None:
    phone, sent, _, _ = player()
    phone.response_created(response("r1", "pcm16"))
    phone.audio(delta("r1", FORMATS["pcm16"].encode(tone(300))))
    phone.audio_done("item_a", 0)
    assert len(payloads(sent)) == 300 * 8  # the resampler flushed at the part's end


def test_an_unknown_mark_is_ignored() -> None:
    phone, _, listener, _ = player()
    phone.played("42")
    assert listener.heard == []


def test_audio_of_a_response_never_created_is_not_played() -> None:
    phone, sent, _, _ = player()
    phone.audio(ev.ContentDelta("r9", "item_a", 0, 0, "audio", ulaw_ms(20)))
    assert sent == []
