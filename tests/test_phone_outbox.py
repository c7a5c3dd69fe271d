"""What a phone call sends its carrier is bounded: a carrier that stops reading ends the call."""

from __future__ import annotations

import asyncio

from starlette.types import Message

from realtalk.transports.phone.call import OUTBOX_MESSAGES, PhoneCall
from realtalk.transports.phone.carrier import StreamStart
from realtalk.transports.phone.player import CHUNK_BYTES
from realtalk.transports.phone.twilio import TWILIO
from tests.harness import SessionHarness
from tests.test_speaker import delta, response

SILENCE = b"\xff"  # μ-law silence, one sample


class StalledCarrier:
    """A carrier's socket that stays open and never takes what it is sent: the first send never returns."""

    def __init__(self) -> None:
        self.stalled = asyncio.Event()
        self.closed = False

    async def receive(self) -> Message:
        await asyncio.Event().wait()
        return {"type": "websocket.disconnect"}

    async def send_text(self, data: str) -> None:
        self.stalled.set()
        await asyncio.Event().wait()

    async def close(self) -> None:
        self.closed = True


def chunks(count: int) -> bytes:
    """`count` chunks of answer: each goes out as a media and a mark."""
    return SILENCE * CHUNK_BYTES * count


async def test_a_carrier_that_stops_reading_ends_the_call_once_the_outbox_is_full() -> None:
    harness = SessionHarness()
    carrier = StalledCarrier()
    call = PhoneCall("rtc_1", harness.session, carrier, TWILIO, StreamStart("MZ1", {}), harness.clock.now)
    running = asyncio.create_task(call.run())
    call.player.response_created(response("r1", "g711_ulaw"))
    call.player.audio(delta("r1", chunks(1)))
    await asyncio.wait_for(carrier.stalled.wait(), 5)  # the writer holds the media; the outbox holds the mark
    call.player.audio(delta("r1", chunks(OUTBOX_MESSAGES // 2 - 1)))
    assert not call.ended.is_set()  # one message short of full
    call.player.audio(delta("r1", chunks(1)))  # its media fills the outbox, its mark has no room
    assert call.end_reason == "the carrier stopped reading"
    await asyncio.wait_for(running, 5)
    assert carrier.closed
