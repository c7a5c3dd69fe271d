"""Chat with realtalk in text through the official openai SDK's Realtime client.

make serve                     # in one terminal
.venv/bin/python examples/text_chat.py "What can you do?"
"""

from __future__ import annotations

import asyncio
import os
import sys

from openai import AsyncOpenAI

BASE = os.environ.get("REALTALK_ADDRESS", "127.0.0.1:8000")  # host:port of the server


async def main(question: str) -> None:
    client = AsyncOpenAI(api_key="local", base_url=f"http://{BASE}/v1", websocket_base_url=f"ws://{BASE}/v1")
    async with client.beta.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(session={"modalities": ["text"]})
        await conn.conversation.item.create(
            item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": question}]}
        )
        await conn.response.create()
        async for event in conn:
            if event.type == "response.text.delta":
                print(event.delta, end="", flush=True)
            elif event.type == "error":
                print(f"\nerror: {event.error.message}", file=sys.stderr)
            elif event.type == "response.done":
                print()
                break


if __name__ == "__main__":
    asyncio.run(main(" ".join(sys.argv[1:]) or "Hello!"))
