"""A plain WebSocket client for live-server tests: JSON events out, JSON events in (each validated)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.oracle import validate_beta_server_event, validate_ga_server_event

RECEIVE_SECONDS = 10.0


class RealtimeClient:
    """Speaks beta (sending `OpenAI-Beta: realtime=v1`, as beta clients do) unless `ga=True`."""

    def __init__(self, connection: ClientConnection, ga: bool) -> None:
        self.connection = connection
        self.validate = validate_ga_server_event if ga else validate_beta_server_event

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        subprotocols: list[str] | None = None,
        ga: bool = False,
    ) -> RealtimeClient:
        beta = (
            {} if ga or (subprotocols and "openai-beta.realtime-v1" in subprotocols) else {"OpenAI-Beta": "realtime=v1"}
        )
        connection = await connect(
            url,
            additional_headers={**beta, **(headers or {})},
            subprotocols=subprotocols,  # type: ignore[arg-type]
            max_size=None,
        )
        return cls(connection, ga)

    async def send(self, event: dict[str, Any] | str) -> None:
        await self.connection.send(event if isinstance(event, str) else json.dumps(event))

    async def receive(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), RECEIVE_SECONDS))
        self.validate(event)
        return event

    async def until(self, event_type: str) -> list[dict[str, Any]]:
        events = []
        while True:
            events.append(await self.receive())
            if events[-1]["type"] == event_type:
                return events

    async def close(self) -> None:
        await self.connection.close()
