"""WebRTC calls against a live realtalk, from a real WebRTC client (aiortc): signalling, events, audio, control.

Every peer offers 127.0.0.1 host candidates only (the server is told so; the client shares its process).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aioice.ice
import httpx
import numpy as np
import orjson
import pytest
import websockets
from openai import AsyncOpenAI

from realtalk.config import Settings
from realtalk.engines.scripted.llm import ScriptedLLM, ScriptedTurn
from realtalk.server.app import create_app
from realtalk.transports.webrtc import call as webrtc_call
from tests.harness import scripted_engines
from tests.live import LiveServer
from tests.rtc_client import RtcClient, tone

pytestmark = pytest.mark.live
KEY = "sk-webrtc-test"
LONG = "This answer goes on for quite a while so that there is time to interrupt it. " * 3  # ~4.6 s of tone
SHORT = "Hello there."
AUTH = {"Authorization": f"Bearer {KEY}"}
CLOCK = {"type": "function", "name": "get_time", "description": "The time now", "parameters": {"type": "object"}}


@pytest.fixture
def server() -> Iterator[LiveServer]:
    llm = ScriptedLLM([ScriptedTurn(SHORT), *[ScriptedTurn(LONG)] * 8])
    settings = Settings(api_key=[KEY], webrtc_host_ip=["127.0.0.1"], speculate=False)
    with LiveServer(create_app(settings, engines=scripted_engines(llm=llm))) as live:
        yield live


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


async def mint(http: httpx.AsyncClient, session: dict[str, Any]) -> str:
    response = await http.post("/v1/realtime/client_secrets", json={"session": {"type": "realtime", **session}})
    assert response.status_code == 200, response.text
    return str(response.json()["value"])


async def post_offer(http: httpx.AsyncClient, sdp: str, token: str | None = KEY) -> httpx.Response:
    headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {token}" if token else ""}
    return await http.post("/v1/realtime/calls", content=sdp, headers=headers)


async def connect(http: httpx.AsyncClient, client: RtcClient, token: str = KEY) -> str:
    """Offer, answer, wait for `session.created`; the call's id."""
    response = await post_offer(http, await client.offer(), token)
    assert response.status_code == 201, response.text
    await client.accept(response.text)
    await client.next_event("session.created")
    return response.headers["location"].rsplit("/", 1)[-1]


async def health(http: httpx.AsyncClient) -> dict[str, Any]:
    return dict((await http.get("/healthz")).json())


async def until_no_calls(http: httpx.AsyncClient, seconds: float = 10.0) -> dict[str, Any]:
    for _ in range(int(seconds * 10)):
        state = await health(http)
        if not state["calls"]:
            return state
        await asyncio.sleep(0.1)
    return await health(http)


def manual() -> dict[str, Any]:
    """A session with no turn detection: the test says when to respond."""
    return {"audio": {"input": {"turn_detection": None}}}


# --- signalling ------------------------------------------------------------------------------------------


async def test_an_offer_with_an_ephemeral_key_is_answered_201_with_the_call_location(
    http: httpx.AsyncClient,
) -> None:
    secret = await mint(http, {"instructions": "Be brief.", "audio": {"output": {"voice": "coral"}}})
    async with RtcClient() as client:
        response = await post_offer(http, await client.offer(), secret)
        assert response.status_code == 201
        assert response.headers["content-type"].startswith("application/sdp")
        assert response.headers["location"].startswith("/v1/realtime/calls/rtc_")
        assert response.text.startswith("v=0") and "opus/48000" in response.text
        await client.accept(response.text)
        created = await client.next_event("session.created")
        await client.next_event("conversation.created")
    assert created["session"]["instructions"] == "Be brief."
    assert created["session"]["audio"]["output"]["voice"] == "coral"
    assert client.types()[:2] == ["session.created", "conversation.created"]


async def test_the_sdk_multipart_form_opens_a_call_with_its_session(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    sdk = AsyncOpenAI(api_key=KEY, base_url=f"{server.http_url}/v1")
    async with RtcClient() as client:
        raw = await sdk.realtime.calls.with_raw_response.create(
            sdp=await client.offer(),
            session={"type": "realtime", "instructions": "Speak like a pirate.", "audio": {"output": {"voice": "ash"}}},
        )
        assert raw.status_code == 201
        call_id = raw.headers["location"].rsplit("/", 1)[-1]
        await client.accept(raw.http_response.text)
        created = await client.next_event("session.created")
        assert created["session"]["instructions"] == "Speak like a pirate."
        assert created["session"]["audio"]["output"]["voice"] == "ash"
        await sdk.realtime.calls.hangup(call_id)
        state = await until_no_calls(http)
    assert state["calls"] == 0


async def test_a_beta_era_offer_to_v1_realtime_gets_a_call_speaking_beta(http: httpx.AsyncClient) -> None:
    minted = await http.post("/v1/realtime/sessions", json={"model": "gpt-4o-realtime-preview", "voice": "verse"})
    secret = minted.json()["client_secret"]["value"]
    async with RtcClient() as client:
        response = await http.post(
            "/v1/realtime?model=gpt-4o-realtime-preview",
            content=await client.offer(),
            headers={"Content-Type": "application/sdp", "Authorization": f"Bearer {secret}"},
        )
        assert response.status_code == 201
        await client.accept(response.text)
        created = await client.next_event("session.created")
        client.send({"type": "response.create", "response": {"modalities": ["text"]}})
        done = await client.next_event("response.text.done")  # a beta name: GA says response.output_text.done
    assert created["session"]["voice"] == "verse"  # the beta session object: voice at the top
    assert done["text"] == SHORT


async def test_the_data_channel_carries_ga_events_and_the_answer_comes_as_audio(http: httpx.AsyncClient) -> None:
    async with RtcClient() as client:
        await connect(http, client)
        client.microphone.say(np.concatenate([tone(800), np.zeros(48_000, dtype=np.int16)]))
        done = await client.next_event("response.done")
        stopped = await client.next_event("output_audio_buffer.stopped")
        await asyncio.sleep(0.3)  # the last frames are still on their way
        types = client.types()
    spoken = [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "response.created",
        "response.done",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
    ]
    assert [t for t in types if t in spoken] == spoken
    assert "response.output_audio.delta" not in types  # the audio travels on the track, not as events
    assert "response.output_audio_transcript.done" in types
    assert stopped["response_id"] == done["response"]["id"]
    assert len(client.loud) >= 8  # the answer's tone (240 ms) arrived on the track


async def test_the_callers_words_are_transcribed_on_the_data_channel(http: httpx.AsyncClient) -> None:
    secret = await mint(http, {"audio": {"input": {"transcription": {"model": "whisper-1"}}}})
    async with RtcClient() as client:
        await connect(http, client, secret)
        client.microphone.say(np.concatenate([tone(600), np.zeros(48_000, dtype=np.int16)]))
        committed = await client.next_event("input_audio_buffer.committed")
        completed = await client.next_event("conversation.item.input_audio_transcription.completed")
    assert completed["item_id"] == committed["item_id"]
    assert completed["transcript"] == "Hello."  # what the scripted STT hears


async def test_the_answer_is_played_in_real_time(http: httpx.AsyncClient) -> None:
    async with RtcClient() as client:
        await connect(http, client)
        client.send({"type": "response.create"})  # the first scripted answer: 12 chars, 240 ms of tone
        await client.next_event("output_audio_buffer.stopped")
        client.send({"type": "response.create"})  # LONG: ~4.6 s of tone
        started = await client.next_event("output_audio_buffer.started", after=len(client.events) - 1)
        t0 = time.monotonic()
        await client.next_event("output_audio_buffer.stopped", within=15, after=client.events.index(started))
        played = time.monotonic() - t0
    assert 4.0 < played < 6.5, played


# --- barge-in and clearing -------------------------------------------------------------------------------


async def test_barge_in_clears_the_playback_and_truncates_the_answer_to_what_was_heard(
    http: httpx.AsyncClient,
) -> None:
    async with RtcClient() as client:
        await connect(http, client)
        client.send({"type": "response.create"})
        await client.next_event("output_audio_buffer.stopped")
        client.send({"type": "response.create"})
        started_at = len(client.events)
        await client.next_event("output_audio_buffer.started", after=started_at)
        await asyncio.sleep(1.0)
        client.microphone.say(tone(600))
        truncated = await client.next_event("conversation.item.truncated", after=started_at)
        types = client.types()[started_at:]
    assert types.index("input_audio_buffer.speech_started") < types.index("output_audio_buffer.cleared")
    assert types.index("output_audio_buffer.cleared") < types.index("conversation.item.truncated")
    assert "output_audio_buffer.stopped" not in types
    assert 900 < truncated["audio_end_ms"] < 2500  # ~1 s of listening plus the VAD's reaction, not 4.6 s
    assert truncated["content_index"] == 0


async def clear_the_long_answer(client: RtcClient, after: float) -> tuple[int, dict[str, Any]]:
    """Let the short first answer play out, start the long one, clear it `after` seconds into its playing.

    Returns where its events begin in `client.events`, and its `output_audio_buffer.started`.
    """
    client.send({"type": "response.create"})
    await client.next_event("output_audio_buffer.stopped")
    client.send({"type": "response.create"})
    mark = len(client.events)
    started = await client.next_event("output_audio_buffer.started", after=mark)
    await asyncio.sleep(after)
    client.send({"type": "output_audio_buffer.clear"})
    return mark, started


async def test_output_audio_buffer_clear_cuts_off_the_answer(http: httpx.AsyncClient) -> None:
    secret = await mint(http, manual())
    async with RtcClient() as client:
        await connect(http, client, secret)
        mark, started = await clear_the_long_answer(client, 0.5)
        cleared = await client.next_event("output_audio_buffer.cleared", after=mark)
        truncated = await client.next_event("conversation.item.truncated", after=mark)
        await asyncio.sleep(0.3)
        quiet_since = time.monotonic()
        await asyncio.sleep(0.5)
    assert cleared["response_id"] == started["response_id"]
    assert 400 < truncated["audio_end_ms"] < 1500
    assert not [t for t in client.loud if t > quiet_since]  # nothing more was played after the clear


async def test_the_conversation_keeps_only_the_audio_that_was_heard(http: httpx.AsyncClient) -> None:
    secret = await mint(http, manual())
    async with RtcClient() as client:
        await connect(http, client, secret)
        mark, _ = await clear_the_long_answer(client, 0.8)
        truncated = await client.next_event("conversation.item.truncated", after=mark)
        client.send({"type": "conversation.item.retrieve", "item_id": truncated["item_id"]})
        retrieved = await client.next_event("conversation.item.retrieved", after=mark)
    content = retrieved["item"]["content"][0]
    assert len(base64.b64decode(content["audio"])) == truncated["audio_end_ms"] * 24 * 2  # pcm16 at 24 kHz
    assert content["transcript"] is None  # as after conversation.item.truncate: the heard words go to the model


# --- call control ----------------------------------------------------------------------------------------


async def test_hangup_ends_the_call_and_frees_the_session(http: httpx.AsyncClient) -> None:
    async with RtcClient() as client:
        call_id = await connect(http, client)
        assert (await health(http))["calls"] == 1
        response = await http.post(f"/v1/realtime/calls/{call_id}/hangup")
        assert response.status_code == 200
        state = await until_no_calls(http)
        assert state["sessions"] == 0
        again = await http.post(f"/v1/realtime/calls/{call_id}/hangup")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "call_not_found"


async def test_the_ephemeral_key_that_opened_a_call_may_hang_it_up(http: httpx.AsyncClient) -> None:
    secret = await mint(http, {})
    async with RtcClient() as client:
        call_id = await connect(http, client, secret)
        other = await mint(http, {})
        refused = await http.post(f"/v1/realtime/calls/{call_id}/hangup", headers={"Authorization": f"Bearer {other}"})
        allowed = await http.post(f"/v1/realtime/calls/{call_id}/hangup", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401
    assert allowed.status_code == 200


async def test_a_peer_that_vanishes_ends_the_call(http: httpx.AsyncClient) -> None:
    client = RtcClient()
    await connect(http, client)
    await client.close()  # the tab closed: no hangup
    state = await until_no_calls(http)
    assert state["calls"] == 0 and state["sessions"] == 0


async def test_a_peer_whose_network_vanishes_is_dropped_when_ice_consent_expires(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.2)  # RFC 7675's checks, sped up: ~30 s → ~1 s
    monkeypatch.setattr(aioice.ice, "CONSENT_FAILURES", 3)
    client = RtcClient()
    await connect(http, client)
    client.unplug()  # no DTLS close, no RTCP BYE: the packets just stop
    state = await until_no_calls(http, 15.0)
    await client.close()
    assert state["calls"] == 0 and state["sessions"] == 0


async def test_a_peer_that_never_connects_is_dropped(http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webrtc_call, "CONNECT_SECONDS", 1.0)
    async with RtcClient() as client:
        response = await post_offer(http, await client.offer())
        assert response.status_code == 201
        assert (await health(http))["calls"] == 1
        state = await until_no_calls(http, 5.0)  # the answer is never applied: ICE cannot start
    assert state["calls"] == 0 and state["sessions"] == 0


@pytest.mark.parametrize("action", ["accept", "reject", "refer"])
async def test_sip_call_actions_are_refused_with_an_explanation(http: httpx.AsyncClient, action: str) -> None:
    async with RtcClient() as client:
        call_id = await connect(http, client)
        response = await http.post(f"/v1/realtime/calls/{call_id}/{action}", json={})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_call_action"
    assert "SIP" in response.json()["error"]["message"]


async def test_control_of_an_unknown_call_is_404(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/realtime/calls/rtc_nope/hangup")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


# --- the sideband ----------------------------------------------------------------------------------------


async def test_the_sideband_sees_the_calls_events_and_acts_on_its_session(
    server: LiveServer, http: httpx.AsyncClient
) -> None:
    async with RtcClient() as client:
        call_id = await connect(http, client)
        url = f"{server.ws_url}?call_id={call_id}"
        async with websockets.connect(url, additional_headers=AUTH) as sideband:
            first = orjson_loads(await sideband.recv())
            assert first["type"] == "session.created"
            mark = len(client.events)
            await sideband.send('{"type":"session.update","session":{"type":"realtime","instructions":"Sideband."}}')
            updated = orjson_loads(await sideband.recv())
            assert updated["type"] == "session.updated"
            assert updated["session"]["instructions"] == "Sideband."
            browser_saw = await client.next_event("session.updated", after=mark)
            assert browser_saw["session"]["instructions"] == "Sideband."
            await sideband.send('{"type":"response.create"}')
            seen = [orjson_loads(await sideband.recv())["type"] for _ in range(3)]
            assert seen[0] == "response.created"
        await client.next_event("output_audio_buffer.stopped", after=mark)  # the call outlives its sideband
        assert (await health(http))["calls"] == 1


async def test_the_sdk_joins_a_call_as_its_sideband_and_handles_its_tool_call() -> None:
    settings = Settings(api_key=[KEY], webrtc_host_ip=["127.0.0.1"], speculate=False)
    with LiveServer(create_app(settings, engines=scripted_engines(llm=ScriptedLLM()))) as server:
        await sideband_handles_a_tool_call(server)


async def sideband_handles_a_tool_call(server: LiveServer) -> None:
    sdk = AsyncOpenAI(
        api_key=KEY, base_url=f"{server.http_url}/v1", websocket_base_url=f"ws://127.0.0.1:{server.port}/v1"
    )
    async with RtcClient() as client, httpx.AsyncClient(base_url=server.http_url, headers=AUTH) as http:
        call_id = await connect(http, client)
        async with sdk.realtime.connect(call_id=call_id) as sideband:
            assert (await sideband.recv()).type == "session.created"
            await sideband.session.update(session={"type": "realtime", "tools": [CLOCK], "tool_choice": "required"})
            mark = len(client.events)
            await sideband.response.create()
            call = None
            async for event in sideband:
                if event.type == "response.function_call_arguments.done":
                    call = event
                if event.type == "response.done":
                    break
            assert call is not None and call.name == "get_time"
            await sideband.conversation.item.create(
                item={"type": "function_call_output", "call_id": call.call_id, "output": '{"time": "12:00"}'}
            )
            await sideband.session.update(session={"type": "realtime", "tool_choice": "none"})
            await sideband.response.create()
            async for event in sideband:
                if event.type == "response.done":
                    break
        said = await client.next_event("response.output_audio_transcript.done", after=mark)
    assert "12:00" in said["transcript"]  # the browser heard the answer its server's tool made possible


async def test_the_sideband_closes_when_the_call_ends(server: LiveServer, http: httpx.AsyncClient) -> None:
    async with RtcClient() as client:
        call_id = await connect(http, client)
        url = f"{server.ws_url}?call_id={call_id}"
        async with websockets.connect(url, additional_headers=AUTH) as sideband:
            await sideband.recv()
            await http.post(f"/v1/realtime/calls/{call_id}/hangup")
            with pytest.raises(websockets.ConnectionClosedOK):
                while True:
                    await asyncio.wait_for(sideband.recv(), 5)


async def test_the_sideband_needs_an_api_key_and_a_live_call(server: LiveServer, http: httpx.AsyncClient) -> None:
    secret = await mint(http, {})
    async with RtcClient() as client:
        call_id = await connect(http, client)
        url = f"{server.ws_url}?call_id={call_id}"
        with pytest.raises(websockets.InvalidStatus) as denied:
            await websockets.connect(url, additional_headers={"Authorization": f"Bearer {secret}"})
        assert denied.value.response.status_code == 401
    with pytest.raises(websockets.InvalidStatus) as unknown:
        await websockets.connect(f"{server.ws_url}?call_id=rtc_gone", additional_headers=AUTH)
    assert unknown.value.response.status_code == 404


async def test_a_page_on_another_origin_may_post_an_offer_and_read_the_call_location(
    http: httpx.AsyncClient,
) -> None:
    origin = {"Origin": "http://localhost:5173"}
    preflight = await http.options(
        "/v1/realtime/calls",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "http://localhost:5173")
    async with RtcClient() as client:
        sdp = await client.offer()
        response = await http.post(
            "/v1/realtime/calls", content=sdp, headers={**origin, **AUTH, "Content-Type": "application/sdp"}
        )
    assert response.status_code == 201
    assert "location" in response.headers["access-control-expose-headers"].lower()


# --- refusals --------------------------------------------------------------------------------------------


async def offer_without_audio() -> str:
    async with RtcClient(microphone=False) as client:
        sdp = await client.offer()
    kept, skipping = [], False
    for line in sdp.splitlines():
        if line.startswith("m="):
            skipping = line.startswith("m=audio")
        if not skipping:
            kept.append(line)
    return "\r\n".join(kept).replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 1") + "\r\n"


async def offer_with_only_g722() -> str:
    async with RtcClient() as client:
        sdp = await client.offer()
    lines = [line for line in sdp.splitlines() if not line.startswith(("a=rtpmap:96", "a=rtpmap:0", "a=rtpmap:8"))]
    return "\r\n".join(line.replace("SAVPF 96 9 0 8", "SAVPF 9") for line in lines) + "\r\n"


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: _const("hello, I am not SDP"), "invalid_sdp"),
        (lambda: _const(""), "invalid_sdp"),
        (offer_without_audio, "invalid_sdp"),
        (offer_with_only_g722, "unsupported_codec"),
    ],
    ids=["garbage", "empty", "no-audio", "g722-only"],
)
async def test_an_offer_realtalk_cannot_take_is_refused_400(http: httpx.AsyncClient, make: Any, code: str) -> None:
    response = await post_offer(http, await make())
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert (await health(http))["calls"] == 0


async def test_a_failure_to_answer_is_a_500_in_the_error_shape_and_frees_the_call(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: webrtc_call.WebRTCCall, offer: object) -> str:
        raise OSError("no interface to gather candidates on")

    monkeypatch.setattr(webrtc_call.WebRTCCall, "answer", broken)
    async with RtcClient() as client:
        response = await post_offer(http, await client.offer())
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "server_error"
    assert (await health(http))["sessions"] == 0


async def _const(text: str) -> str:
    return text


@pytest.mark.parametrize(
    ("token", "code"), [(None, "missing_api_key"), ("sk-wrong", "invalid_api_key"), ("ek_expired", "invalid_api_key")]
)
async def test_an_offer_with_a_wrong_key_is_refused_401(http: httpx.AsyncClient, token: str | None, code: str) -> None:
    async with RtcClient() as client:
        response = await post_offer(http, await client.offer(), token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


async def test_an_offer_of_another_content_type_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/realtime/calls", json={"sdp": "v=0"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_content_type"


async def test_a_form_with_a_bad_session_names_the_field_as_ga_does(http: httpx.AsyncClient) -> None:
    async with RtcClient() as client:
        sdp = await client.offer()
    files = {
        "sdp": (None, sdp, "application/sdp"),
        "session": (None, '{"type":"realtime","audio":{"output":{"voice":"zeus"}}}', "application/json"),
    }
    response = await http.post("/v1/realtime/calls", files=files)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "session.audio.output.voice"


async def test_a_form_without_sdp_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/realtime/calls", files={"session": (None, '{"type":"realtime"}', "application/json")}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_required_parameter"
    assert response.json()["error"]["param"] == "sdp"


def orjson_loads(text: str | bytes) -> dict[str, Any]:
    return dict(orjson.loads(text))
