"""How fast a client may send events over one connection: two token buckets of the same shape.

Every event (audio appends included) takes a token from a bucket of `burst` tokens refilled at
`per_second`; with none left it is refused with an `error` (`rate_limit_exceeded`) and not handled.
Refused events take from a second bucket, also refilled at `per_second`: a client that goes on at up
to twice the rate is only throttled, one that keeps going faster empties that bucket too and is
disconnected (1008), since it is not listening to its errors.

The default (200 a second, bursts of 400) is four times what a real-time microphone sends in 20 ms
chunks, and twice what one sends in 10 ms chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from realtalk.protocol.errors import ProtocolError

Verdict = Literal["admit", "refuse", "close"]


@dataclass(frozen=True)
class EventRateLimit:
    per_second: float = 200.0
    burst: int = 400

    def refusal(self) -> ProtocolError:
        return ProtocolError(
            f"Too many events: at most {self.per_second:g} a second (bursts of {self.burst}) per session; "
            "this event was not handled. Slow down, or the connection will be closed.",
            code="rate_limit_exceeded",
        )


class TooManyEvents(Exception):
    """The client went on sending well past its limit: its connection ends (1008)."""

    REASON = "too many events: rate limit exceeded"


class _TokenBucket:
    def __init__(self, per_second: float, burst: int, now: float) -> None:
        self._per_second = per_second
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = now

    def take(self, now: float) -> bool:
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._per_second)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class EventRate:
    """One connection's verdict on each event it receives."""

    def __init__(self, limit: EventRateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        now = clock()
        self._events = _TokenBucket(limit.per_second, limit.burst, now)
        self._refusals = _TokenBucket(limit.per_second, limit.burst, now)

    def judge(self) -> Verdict:
        now = self._clock()
        if self._events.take(now):
            return "admit"
        return "refuse" if self._refusals.take(now) else "close"
