"""Events per second per connection: refused over the rate, closed (1008) well past it."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed

from realtalk.config import Settings
from realtalk.server.app import create_app
from realtalk.transports.event_rate import EventRate, EventRateLimit, Verdict
from tests.harness import scripted_engines
from tests.live import LiveServer
from tests.wsclient import RealtimeClient


class Ticks:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def judged(rate: EventRate, count: int) -> list[Verdict]:
    return [rate.judge() for _ in range(count)]


def test_a_burst_is_admitted_then_refused_then_closed() -> None:
    rate = EventRate(EventRateLimit(per_second=1, burst=3), Ticks())
    assert judged(rate, 7) == ["admit"] * 3 + ["refuse"] * 3 + ["close"]


def test_tokens_come_back_at_the_rate() -> None:
    ticks = Ticks()
    rate = EventRate(EventRateLimit(per_second=10, burst=3), ticks)
    assert judged(rate, 4) == ["admit", "admit", "admit", "refuse"]
    ticks.now += 0.2
    assert judged(rate, 3) == ["admit", "admit", "refuse"]


def test_a_real_time_microphone_never_meets_the_default() -> None:
    ticks = Ticks()
    rate = EventRate(EventRateLimit(), ticks)
    verdicts = set()
    for _ in range(30 * 60 * 100):  # 10 ms chunks for the 30 minutes a session may last
        ticks.now += 0.01
        verdicts.add(rate.judge())
    assert verdicts == {"admit"}


def test_twice_the_rate_is_throttled_not_closed_and_faster_is_closed() -> None:
    ticks = Ticks()
    rate = EventRate(EventRateLimit(per_second=100, burst=200), ticks)
    verdicts = []
    for _ in range(20_000):  # 100 s at 200 events a second
        ticks.now += 0.005
        verdicts.append(rate.judge())
    assert "close" not in verdicts
    assert verdicts[-200:].count("admit") == 100
    for _ in range(1000):  # then 300 a second
        ticks.now += 1 / 300
        if rate.judge() == "close":
            break
    else:
        pytest.fail("a client at three times the rate was never closed")


@pytest.mark.live
async def test_a_flooding_client_gets_errors_then_a_1008_close() -> None:
    settings = Settings(engines="scripted", max_events_per_second=0.001, event_burst=2)
    with LiveServer(create_app(settings, engines=scripted_engines())) as server:
        client = await RealtimeClient.open(server.ws_url)
        await client.until("conversation.created")
        for n in range(5):
            await client.send({"type": "input_audio_buffer.clear", "event_id": f"evt_{n}"})
        assert [(await client.receive())["type"] for _ in range(2)] == ["input_audio_buffer.cleared"] * 2
        refused = [(await client.receive())["error"] for _ in range(3)]
        assert [(e["code"], e["event_id"]) for e in refused] == [
            ("rate_limit_exceeded", "evt_2"),
            ("rate_limit_exceeded", "evt_3"),
            ("rate_limit_exceeded", "evt_4"),
        ]
        assert refused[0]["message"] == (
            "Too many events: at most 0.001 a second (bursts of 2) per session; this event was not handled. "
            "Slow down, or the connection will be closed."
        )
        with pytest.raises(ConnectionClosed) as closed:
            await client.receive()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1008, "too many events: rate limit exceeded")
