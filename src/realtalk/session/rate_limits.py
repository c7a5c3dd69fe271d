"""Per-session request and token budgets over one-minute windows: what `rate_limits.updated` reports."""

from __future__ import annotations

import math

from realtalk.clock import Clock
from realtalk.protocol.events import RateLimit

WINDOW_SECONDS = 60.0


class RateLimiter:
    def __init__(self, clock: Clock, requests_per_minute: int, tokens_per_minute: int) -> None:
        self._clock = clock
        self._limits = {"requests": requests_per_minute, "tokens": tokens_per_minute}
        self._used = {"requests": 0, "tokens": 0}
        self._window_start = clock.now()

    def _roll(self) -> None:
        now = self._clock.now()
        if now - self._window_start >= WINDOW_SECONDS:
            windows = math.floor((now - self._window_start) / WINDOW_SECONDS)
            self._window_start += windows * WINDOW_SECONDS
            self._used = {"requests": 0, "tokens": 0}

    def exhausted(self) -> str | None:
        """The name of a budget with nothing left in this window, if any."""
        self._roll()
        return next((name for name, used in self._used.items() if used >= self._limits[name]), None)

    def spend(self, requests: int = 0, tokens: int = 0) -> None:
        self._roll()
        self._used["requests"] += requests
        self._used["tokens"] += tokens

    def snapshot(self) -> list[RateLimit]:
        self._roll()
        reset = round(max(0.0, self._window_start + WINDOW_SECONDS - self._clock.now()), 3)
        return [
            RateLimit(name, limit, max(0, limit - self._used[name]), reset)  # type: ignore[arg-type]
            for name, limit in self._limits.items()
        ]
