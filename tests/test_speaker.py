"""The WebRTC speaker: what it plays, when it says an answer started and stopped, what a cut-off keeps."""

from __future__ import annotations

import itertools

import numpy as np

from realtalk.audio.formats import FORMATS, AudioFormatName
from realtalk.engines.base import Samples
from realtalk.protocol import events as ev
from realtalk.session.playback import Heard
from realtalk.transports.webrtc.speaker import FRAME_SAMPLES, Speaker
from tests.signals import tone


class Listener:
    """Records what the speaker announces (queued or awaited alike), in order."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, str]] = []

    async def emit(self, event: ev.ServerEvent) -> None:
        self.announce(event)

    def announce(self, event: ev.ServerEvent) -> None:
        assert isinstance(event, ev.OutputAudioBuffer)
        self.heard.append((event.state, event.response_id))


def speaker() -> tuple[Speaker, Listener]:
    ticks = itertools.count()  # a clock always ahead of the schedule: frames come without waiting
    listener = Listener()
    return Speaker(listener.emit, listener.announce, lambda: float(next(ticks))), listener


def response(response_id: str, output_format: AudioFormatName = "pcm16") -> ev.Response:
    return ev.Response(response_id, "conv_a", "audio", "alloy", output_format, 0.8, "inf")


def delta(response_id: str, audio: bytes, item_id: str = "item_a") -> ev.ContentDelta:
    return ev.ContentDelta(response_id, item_id, 0, 0, "audio", audio)


def whole(spk: Speaker, response_id: str, audio: bytes, item_id: str = "item_a") -> None:
    """One part's audio, all of it, as the session sends it: its deltas, then its end."""
    spk.audio(delta(response_id, audio, item_id))
    spk.audio_done(item_id, 0)


def pcm16(ms: int) -> bytes:
    return FORMATS["pcm16"].encode(tone(ms))


async def frames(spk: Speaker, count: int) -> list[Samples]:
    return [(await spk.recv()).to_ndarray().reshape(-1) for _ in range(count)]


async def test_an_answer_is_played_in_20ms_frames_at_48khz() -> None:
    spk, _ = speaker()
    spk.response_created(response("r1"))
    whole(spk, "r1", pcm16(100))
    played = await frames(spk, 7)
    assert all(len(f) == FRAME_SAMPLES == 960 for f in played)
    loud = [bool(np.abs(f).max() > 1000) for f in played]
    assert loud == [True] * 5 + [False] * 2  # 100 ms of tone, then silence


async def test_started_comes_with_the_first_frame_and_stopped_after_the_last_once_the_response_is_done() -> None:
    spk, listener = speaker()
    spk.response_created(response("r1"))
    spk.audio(delta("r1", pcm16(60)))
    assert listener.heard == []
    await frames(spk, 1)
    assert listener.heard == [("started", "r1")]
    spk.audio_done("item_a", 0)
    await frames(spk, 3)  # all played, but the response may say more: not stopped yet
    assert listener.heard == [("started", "r1")]
    spk.response_done("r1")  # nothing left to play: stopped at once
    assert listener.heard == [("started", "r1"), ("stopped", "r1")]


async def test_a_response_without_audio_neither_starts_nor_stops() -> None:
    spk, listener = speaker()
    spk.response_created(response("r1"))
    spk.response_done("r1")
    await frames(spk, 2)
    assert listener.heard == []


async def test_clear_drops_the_rest_and_says_how_much_was_heard() -> None:
    spk, listener = speaker()
    spk.response_created(response("r1"))
    spk.audio(delta("r1", pcm16(1000)))
    await frames(spk, 15)  # 300 ms played
    heard = await spk.clear()
    assert heard == Heard("r1", "item_a", 0, 300)
    assert listener.heard == [("started", "r1"), ("cleared", "r1")]
    assert all(np.abs(f).max() == 0 for f in await frames(spk, 3))
    spk.response_done("r1")  # a cleared answer never reports stopped
    assert listener.heard[-1] == ("cleared", "r1")


async def test_clear_with_nothing_playing_reports_nothing() -> None:
    spk, listener = speaker()
    assert await spk.clear() is None
    assert listener.heard == []


async def test_an_answer_still_being_synthesized_is_cleared_even_when_nothing_is_queued() -> None:
    spk, listener = speaker()
    spk.response_created(response("r1"))
    whole(spk, "r1", pcm16(40))
    await frames(spk, 4)  # played out; the next sentence is not here yet
    assert await spk.clear() is None  # everything sent was heard: nothing to cut from the item
    assert listener.heard == [("started", "r1"), ("cleared", "r1")]


async def test_heard_never_exceeds_what_the_part_holds() -> None:
    spk, _ = speaker()
    spk.response_created(response("r1"))
    whole(spk, "r1", pcm16(50))
    whole(spk, "r1", pcm16(1000), item_id="item_b")
    await frames(spk, 2)  # 40 ms of item_a
    heard = await spk.clear()
    assert heard == Heard("r1", "item_a", 0, 40)


async def test_answers_play_one_after_another_in_order() -> None:
    spk, listener = speaker()
    for rid in ("r1", "r2"):
        spk.response_created(response(rid))
        whole(spk, rid, pcm16(40), item_id=f"item_{rid}")
        spk.response_done(rid)
    await frames(spk, 8)
    assert listener.heard == [("started", "r1"), ("stopped", "r1"), ("started", "r2"), ("stopped", "r2")]


async def test_g711_answers_are_decoded_and_resampled() -> None:
    spk, _ = speaker()
    spk.response_created(response("r1", "g711_ulaw"))
    whole(spk, "r1", FORMATS["g711_ulaw"].encode(tone(100, rate=8000)))
    played = await frames(spk, 6)
    assert [bool(np.abs(f).max() > 1000) for f in played][:4] == [True] * 4
    assert np.abs(played[5]).max() < 1000
