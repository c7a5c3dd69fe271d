"""A plain WebSocket client for live-server tests: JSON events out, JSON events in (each validated)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.oracle import validate_beta_server_event

RECEIVE_SECONDS = 10.0


class RealtimeClient:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    @classmethod
    async def open(
        cls, url: str, *, headers: dict[str, str] | None = None, subprotocols: list[str] | None = None
    ) -> RealtimeClient:
        connection = await connect(
            url,
            additional_headers=headers,
            subprotocols=subprotocols,  # type: ignore[arg-type]
            max_size=None,
        )
        return cls(connection)

    async def send(self, event: dict[str, Any] | str) -> None:
        await self.connection.send(event if isinstance(event, str) else json.dumps(event))

    async def receive(self) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), RECEIVE_SECONDS))
        validate_beta_server_event(event)
        return event

    async def until(self, event_type: str) -> list[dict[str, Any]]:
        events = []
        while True:
            events.append(await self.receive())
            if events[-1]["type"] == event_type:
                return events

    async def close(self) -> None:
        await self.connection.close()
