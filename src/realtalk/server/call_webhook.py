"""`--call-webhook URL`: the application is told of each phone call as OpenAI tells it of a SIP call.

The notice is a `realtime.call.incoming` event, `{id, object: "event", created_at, type, data: {call_id,
sip_headers}}`, the carrier's call ids (and the caller and callee, where the carrier says them) as
headers; the application then attaches to the call with the sideband (`/v1/realtime?call_id=…`) to give
it tools and instructions. The post runs beside the call and never holds it up; a failure is logged.
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx

from realtalk.protocol import ids

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10.0


def incoming_call(call_id: str, headers: list[tuple[str, str]], created_at: int) -> dict[str, object]:
    return {
        "id": ids.new_id("evt"),
        "object": "event",
        "created_at": created_at,
        "type": "realtime.call.incoming",
        "data": {"call_id": call_id, "sip_headers": [{"name": name, "value": value} for name, value in headers]},
    }


class CallWebhook:
    def __init__(self, url: str | None) -> None:
        self._url = url
        self._posts: set[asyncio.Task[None]] = set()

    def incoming(self, call_id: str, headers: list[tuple[str, str]]) -> None:
        """Post the notice in the background (nothing to do without a URL)."""
        if self._url is None:
            return
        task = asyncio.create_task(self._post(self._url, incoming_call(call_id, headers, int(time.time()))))
        self._posts.add(task)
        task.add_done_callback(self._posts.discard)

    async def _post(self, url: str, notice: dict[str, object]) -> None:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
                response = await client.post(url, json=notice)
            if response.status_code >= 300:
                log.warning("call webhook answered %d for %s", response.status_code, notice["data"])
        except httpx.HTTPError as exc:
            log.warning("call webhook failed for %s: %s", notice["data"], exc or type(exc).__name__)

    async def close(self) -> None:
        for task in list(self._posts):
            task.cancel()
        await asyncio.gather(*self._posts, return_exceptions=True)
