"""`--log-format json`: every line of a live server's log is a JSON object; lines logged in a session carry
its id; no API key, ephemeral secret or audio ever reaches the log."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import httpx
import pytest

from tests.server_process import realtalk_serve
from tests.wsclient import RealtimeClient

pytestmark = pytest.mark.live
KEY = "sk-json-log-key-0123456789"
AUDIO = base64.b64encode(bytes(range(256)) * 40).decode()  # 10 KiB of "audio", unmistakable in a log
APPEND = json.dumps({"type": "input_audio_buffer.append", "audio": AUDIO})


async def test_json_log_lines_carry_session_ids_and_no_secret_or_audio(tmp_path: Path) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    with realtalk_serve(
        tmp_path, "--engines", "scripted", "--log-format", "json", "--log-level", "debug", "--api-key", KEY
    ) as server:
        secret = (await asyncio.to_thread(
            httpx.post, server.http_url + "/v1/realtime/client_secrets", headers=auth, json={}
        )).json()["value"]  # fmt: skip
        refused = await asyncio.to_thread(server.get, f"/v1/models?api_key={KEY}&client_secret={secret}")
        client = await RealtimeClient.open(server.ws_url, headers={"Authorization": f"Bearer {secret}"}, ga=True)
        created = (await client.until("session.created"))[-1]["session"]["id"]
        await client.send(APPEND)
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        await client.until("response.done")
        await client.close()
        server.signal()
        await asyncio.to_thread(server.exit_code, 10)
    lines = server.json_log()
    text = server.log_path.read_text()
    assert refused.status_code == 401
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    in_session = [line for line in lines if line.get("session_id") == created]
    assert {line["message"] for line in in_session} >= {"session started (ga)", "session closed (1000)"}
    assert f"client event input_audio_buffer.append, {len(APPEND)} bytes" in [line["message"] for line in in_session]
    assert any(
        line["logger"] == "uvicorn.access" and "/v1/models?api_key=[REDACTED]" in line["message"] for line in lines
    )
    assert KEY not in text and secret not in text
    assert AUDIO[:16] not in text and AUDIO[-16:] not in text
