"""Phone calls over Twilio Media Streams (and Telnyx's copy of them) against a live realtalk, no carrier needed.

`TwilioCaller` speaks Twilio's protocol exactly and plays the answer in real time as Twilio does; the
application's side is the sideband WebSocket, attached by the call id the call webhook announces.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import orjson
import pytest
import websockets
from openai.types.webhooks import RealtimeCallIncomingWebhookEvent

from realtalk.config import Settings
from realtalk.engines.scripted.llm import ScriptedLLM, ScriptedTurn
from realtalk.server.app import create_app
from realtalk.server.carrier_auth import twilio_signature
from tests.harness import scripted_engines
from tests.live import LiveServer
from tests.phone_client import CALL_SID, STREAM_SID, Notices, TwilioCaller, ulaw
from tests.signals import tone
from tests.test_webrtc_calls import until_no_calls

pytestmark = pytest.mark.live
KEY = "sk-phone-test"
TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://phone.example.org"
LONG = "This answer goes on for quite a while so that there is time to interrupt it. " * 3  # ~4.6 s of tone
SHORT = "Hello there."  # 240 ms of tone
PROFILES = {
    "concierge": {
        "type": "realtime",
        "instructions": "You are the hotel concierge.",
        "audio": {"output": {"voice": "coral"}},
    }
}


def _profiles(tmp_path: Path) -> Path:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(PROFILES))
    return path


@pytest.fixture
def server(notices: Notices, tmp_path: Path) -> Iterator[LiveServer]:
    llm = ScriptedLLM([ScriptedTurn(SHORT), *[ScriptedTurn(LONG)] * 8])
    settings = Settings(
        api_key=[KEY],
        speculate=False,
        twilio_auth_token=TOKEN,
        phone_profiles=_profiles(tmp_path),
        call_webhook=f"{notices.server.http_url}/calls",
        telnyx_stream_token="telnyx-token",
    )
    with LiveServer(create_app(settings, engines=scripted_engines(llm=llm))) as live:
        yield live


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http_url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


def stream_url(server: LiveServer) -> str:
    return f"ws://127.0.0.1:{server.port}/telephony/twilio/stream"


def caller(server: LiveServer, **parameters: str) -> TwilioCaller:
    return TwilioCaller(stream_url(server), parameters=parameters, auth_token=TOKEN)


async def sideband(server: LiveServer, call_id: str) -> Any:
    return await websockets.connect(
        f"{server.ws_url}?call_id={call_id}", additional_headers={"Authorization": f"Bearer {KEY}"}
    )


class Answered(NamedTuple):
    phone: TwilioCaller
    app: Any  # the application's sideband
    created: dict[str, Any]  # its `session.created`


@contextlib.asynccontextmanager
async def answered(server: LiveServer, notices: Notices, **parameters: str) -> AsyncIterator[Answered]:
    """A call from `caller(server, **parameters)` with the application's sideband on it, as the webhook says."""
    async with caller(server, **parameters) as phone:
        call_id = (await notices.next())["data"]["call_id"]
        async with await sideband(server, call_id) as app:
            yield Answered(phone, app, await next_event(app, "session.created"))


async def next_event(
    socket: Any, kind: str, seen: list[dict[str, Any]] | None = None, within: float = 10.0
) -> dict[str, Any]:
    async def find() -> dict[str, Any]:
        while True:
            event = orjson.loads(await socket.recv())
            if seen is not None:
                seen.append(event)
            if event["type"] == kind:
                return dict(event)

    return await asyncio.wait_for(find(), within)


# --- the voice webhook -----------------------------------------------------------------------------------

VOICE_FORM = {"CallSid": CALL_SID, "AccountSid": "AC0", "From": "+15551230001", "To": "+15559870002"}


async def post_voice(http: httpx.AsyncClient, query: str = "", signature: str | None = "sign") -> httpx.Response:
    """The webhook as Twilio posts it (to the public URL, which `--public-url` names), signed with the token."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        signature = twilio_signature(TOKEN, f"{PUBLIC}/telephony/twilio/voice{query}", VOICE_FORM.items())
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return await http.post(
        f"/telephony/twilio/voice{query}", content=urllib.parse.urlencode(VOICE_FORM), headers=headers
    )


async def test_the_voice_webhook_connects_the_call_to_the_stream_with_its_parameters(
    notices: Notices, tmp_path: Path
) -> None:
    settings = Settings(twilio_auth_token=TOKEN, public_url=PUBLIC, phone_profiles=_profiles(tmp_path))
    with LiveServer(create_app(settings, engines=scripted_engines())) as live:
        async with httpx.AsyncClient(base_url=live.http_url) as http:
            response = await post_voice(http, "?profile=concierge")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert response.text == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
        '<Stream url="wss://phone.example.org/telephony/twilio/stream">'
        '<Parameter name="profile" value="concierge"/>'
        '<Parameter name="From" value="+15551230001"/><Parameter name="To" value="+15559870002"/>'
        "</Stream></Connect></Response>"
    )


@pytest.mark.parametrize(
    ("signature", "code"), [("bm90IGl0", "invalid_signature"), (None, "missing_signature")], ids=["bad", "missing"]
)
async def test_a_voice_webhook_twilio_did_not_sign_is_refused_403(
    tmp_path: Path, signature: str | None, code: str
) -> None:
    settings = Settings(twilio_auth_token=TOKEN, public_url=PUBLIC)
    with LiveServer(create_app(settings, engines=scripted_engines())) as live:
        async with httpx.AsyncClient(base_url=live.http_url) as http:
            response = await post_voice(http, signature=signature)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == code


async def test_without_a_token_phone_requests_are_refused_unless_allowed_for_testing() -> None:
    with LiveServer(create_app(Settings(), engines=scripted_engines())) as live:
        async with httpx.AsyncClient(base_url=live.http_url) as http:
            refused = await post_voice(http, signature=None)
        with pytest.raises(websockets.InvalidStatus) as denied:
            await websockets.connect(stream_url(live))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "phone_not_configured"
    assert "--allow-unsigned-phone-streams" in refused.json()["error"]["message"]
    assert denied.value.response.status_code == 403
    with LiveServer(create_app(Settings(allow_unsigned_phone_streams=True), engines=scripted_engines())) as live:
        async with httpx.AsyncClient(base_url=live.http_url) as http:
            allowed = await post_voice(http, signature=None)
            async with TwilioCaller(stream_url(live)) as phone:
                await phone.silence(100)
                assert (await http.get("/healthz")).json()["calls"] == 1
    assert allowed.status_code == 200


# --- the stream's upgrade --------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["wrong-token", None], ids=["bad", "missing"])
async def test_a_stream_twilio_did_not_sign_is_refused_before_the_upgrade(
    server: LiveServer, http: httpx.AsyncClient, token: str | None
) -> None:
    with pytest.raises(websockets.InvalidStatus) as denied:
        await TwilioCaller(stream_url(server), auth_token=token).connect()
    assert denied.value.response.status_code == 403
    assert (await http.get("/healthz")).json()["sessions"] == 0


async def test_a_signed_stream_opens_a_call_and_the_application_is_told(
    server: LiveServer, notices: Notices, http: httpx.AsyncClient
) -> None:
    async with caller(server, From="+15551230001", To="+15559870002"):
        notice = await notices.next()
        assert (await http.get("/healthz")).json()["calls"] == 1
    RealtimeCallIncomingWebhookEvent.model_validate(notice)
    assert notice["type"] == "realtime.call.incoming" and notice["object"] == "event"
    assert notice["data"]["call_id"].startswith("rtc_")
    assert notice["data"]["sip_headers"] == [
        {"name": "X-Twilio-CallSid", "value": CALL_SID},
        {"name": "X-Twilio-StreamSid", "value": STREAM_SID},
        {"name": "From", "value": "+15551230001"},
        {"name": "To", "value": "+15559870002"},
    ]


# --- a conversation --------------------------------------------------------------------------------------


async def test_the_callers_words_are_heard_and_the_answer_comes_back_as_marked_media(
    server: LiveServer, notices: Notices
) -> None:
    async with answered(server, notices) as (phone, app, created):
        await app.send(
            '{"type":"session.update","session":{"type":"realtime","audio":{"input":{"transcription":{"model":"whisper-1"}}}}}'
        )
        seen: list[dict[str, Any]] = []
        await phone.say(ulaw(tone(800)))
        await phone.silence(1000)
        done = await next_event(app, "response.done", seen)
        stopped = await next_event(app, "output_audio_buffer.stopped", seen)
    formats = created["session"]["audio"]
    assert formats["input"]["format"] == {"type": "audio/pcmu"} and formats["output"]["format"] == {
        "type": "audio/pcmu"
    }
    types = [event["type"] for event in seen]
    spoken = [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "response.created",
        "response.done",
        "output_audio_buffer.stopped",
    ]
    assert [t for t in types if t in spoken] == spoken
    assert types.index("response.created") < types.index("output_audio_buffer.started")  # with its first media
    transcribed = next(e for e in seen if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert transcribed["transcript"] == "Hello."  # what the scripted STT hears
    assert "response.output_audio.delta" not in types  # the audio went to the caller
    assert stopped["response_id"] == done["response"]["id"]
    media, marks = phone.events("media"), phone.events("mark")
    assert {m["streamSid"] for m in media + marks} == {STREAM_SID}
    assert sum(len(base64.b64decode(m["media"]["payload"])) for m in media) == 240 * 8  # SHORT: 240 ms of μ-law
    assert [m["event"] for m in phone.received] == ["media", "mark"] * len(media)  # a mark after each chunk
    assert phone.echoed == [m["mark"]["name"] for m in marks]  # every mark came back, in order
    assert phone.loud_ms() >= 200


async def test_a_call_whose_session_turns_to_pcm16_is_still_heard_and_answered_in_ulaw(
    server: LiveServer, notices: Notices
) -> None:
    pcm16 = {"type": "audio/pcm", "rate": 24000}
    update = {"type": "realtime", "audio": {"input": {"format": pcm16}, "output": {"format": pcm16}}}
    async with answered(server, notices) as (phone, app, _):
        await app.send(orjson.dumps({"type": "session.update", "session": update}).decode())
        await next_event(app, "session.updated")
        await phone.say(ulaw(tone(800)))
        await phone.silence(1000)
        committed = await next_event(app, "input_audio_buffer.committed")
        await next_event(app, "output_audio_buffer.stopped")
        await app.send(orjson.dumps({"type": "conversation.item.retrieve", "item_id": committed["item_id"]}).decode())
        retrieved = await next_event(app, "conversation.item.retrieved")
    kept = base64.b64decode(retrieved["item"]["content"][0]["audio"])
    assert len(kept) % 48 == 0 and len(kept) >= 800 * 48  # pcm16 at 24 kHz: 48 bytes a millisecond
    assert sum(len(base64.b64decode(m["media"]["payload"])) for m in phone.events("media")) == 240 * 8


async def test_the_answer_is_played_out_in_real_time_before_it_stops(server: LiveServer, notices: Notices) -> None:
    async with answered(server, notices) as (_, app, _):
        await app.send('{"type":"response.create"}')
        await next_event(app, "output_audio_buffer.stopped")  # SHORT
        await app.send('{"type":"response.create"}')
        await next_event(app, "output_audio_buffer.started")
        started = asyncio.get_running_loop().time()
        await next_event(app, "output_audio_buffer.stopped", within=15)
        played = asyncio.get_running_loop().time() - started
    assert 4.0 < played < 6.5, played  # LONG: ~4.6 s, stopped once its last mark came back


async def start_the_long_answer(app: Any) -> dict[str, Any]:
    """From the sideband: let SHORT play out, then start LONG; its `output_audio_buffer.started`."""
    await app.send('{"type":"response.create"}')
    await next_event(app, "output_audio_buffer.stopped")
    await app.send('{"type":"response.create"}')
    return await next_event(app, "output_audio_buffer.started")


async def test_barge_in_clears_the_line_at_once_and_truncates_the_answer_to_what_was_played(
    server: LiveServer, notices: Notices
) -> None:
    async with answered(server, notices) as (phone, app, _):
        await start_the_long_answer(app)
        await asyncio.sleep(1.0)
        heard_before = len(phone.played)
        seen: list[dict[str, Any]] = []
        speaking = asyncio.create_task(phone.say(ulaw(tone(600))))
        started = await next_event(app, "input_audio_buffer.speech_started", seen)
        started_at = asyncio.get_running_loop().time()
        truncated = await next_event(app, "conversation.item.truncated", seen)
        await speaking
    types = [event["type"] for event in seen]
    assert types.index("input_audio_buffer.speech_started") < types.index("output_audio_buffer.cleared")
    assert types.index("output_audio_buffer.cleared") < types.index("conversation.item.truncated")
    assert "output_audio_buffer.stopped" not in types
    assert len(phone.cleared_at) == 1
    assert phone.cleared_at[0] - started_at < 0.02  # the clear left with speech_started, within one frame
    heard_ms = len(phone.played) / 8 - 240  # less SHORT, played before
    assert abs(truncated["audio_end_ms"] - heard_ms) <= 40, (truncated, heard_ms, heard_before)
    assert started["item_id"] != truncated["item_id"]


async def test_output_audio_buffer_clear_from_the_sideband_clears_the_line(
    server: LiveServer, notices: Notices
) -> None:
    async with answered(server, notices) as (phone, app, _):
        await app.send(
            '{"type":"session.update","session":{"type":"realtime","audio":{"input":{"turn_detection":null}}}}'
        )
        started = await start_the_long_answer(app)
        await asyncio.sleep(0.5)
        await app.send('{"type":"output_audio_buffer.clear"}')
        cleared = await next_event(app, "output_audio_buffer.cleared")
        truncated = await next_event(app, "conversation.item.truncated")
        played = len(phone.played)
        await asyncio.sleep(0.3)
    assert cleared["response_id"] == started["response_id"]
    assert 400 < truncated["audio_end_ms"] < 900
    assert len(phone.played) == played  # nothing more was played after the clear


async def test_dtmf_digits_reach_the_sideband(server: LiveServer, notices: Notices) -> None:
    async with answered(server, notices) as (phone, app, _):
        await phone.press("5")
        await phone.press("#")
        first = await next_event(app, "input_audio_buffer.dtmf_event_received")
        second = await next_event(app, "input_audio_buffer.dtmf_event_received")
    assert (first["event"], second["event"]) == ("5", "#")
    assert abs(first["received_at"] - time.time()) < 10


async def test_a_profile_gives_the_call_its_session(server: LiveServer, notices: Notices) -> None:
    async with answered(server, notices, profile="concierge") as (_, _, created):
        session = created["session"]
    assert session["instructions"] == "You are the hotel concierge."
    assert session["audio"]["output"] == {"format": {"type": "audio/pcmu"}, "voice": "coral", "speed": 1.0}


async def test_an_unknown_profile_closes_the_stream(server: LiveServer, http: httpx.AsyncClient) -> None:
    async with caller(server, profile="nobody") as phone:
        await asyncio.wait_for(phone.closed.wait(), 5)
    assert phone._socket.close_code == 1008
    assert (await http.get("/healthz")).json()["sessions"] == 0


# --- the end of a call -----------------------------------------------------------------------------------


async def test_stop_ends_the_call_and_frees_everything(server: LiveServer, http: httpx.AsyncClient) -> None:
    async with caller(server) as phone:
        await phone.silence(100)
        assert (await http.get("/healthz")).json()["calls"] == 1
        await phone.hang_up()
        state = await until_no_calls(http)
        await asyncio.wait_for(phone.closed.wait(), 5)
    assert state["calls"] == 0 and state["sessions"] == 0


async def test_a_vanished_stream_ends_the_call(server: LiveServer, http: httpx.AsyncClient) -> None:
    phone = caller(server)
    await phone.connect()
    await phone.silence(100)
    await phone.close()  # no stop: the socket just goes
    state = await until_no_calls(http)
    assert state["calls"] == 0 and state["sessions"] == 0


async def test_hangup_closes_the_stream(server: LiveServer, notices: Notices, http: httpx.AsyncClient) -> None:
    async with caller(server) as phone:
        call_id = (await notices.next())["data"]["call_id"]
        response = await http.post(f"/v1/realtime/calls/{call_id}/hangup")
        await asyncio.wait_for(phone.closed.wait(), 5)
        state = await until_no_calls(http)
    assert response.status_code == 200
    assert state["calls"] == 0 and state["sessions"] == 0


async def test_bad_messages_are_logged_and_ignored(
    server: LiveServer, notices: Notices, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "realtalk.transports.phone.call")
    async with answered(server, notices) as (phone, app, _):
        await phone.send_raw("this is not JSON")
        await phone.send_raw("[1, 2]")
        await phone.send({"event": "ringing", "streamSid": STREAM_SID})
        await phone.send({"event": "media", "streamSid": STREAM_SID, "media": {"payload": "%%%"}})
        await phone.send({"event": "mark", "streamSid": STREAM_SID, "mark": {}})
        await phone.send({"event": "mark", "streamSid": STREAM_SID, "mark": {"name": "not-ours"}})
        await app.send('{"type":"response.create"}')
        stopped = await next_event(app, "output_audio_buffer.stopped")
    assert stopped["type"] == "output_audio_buffer.stopped"  # the call went on
    ignored = [r.getMessage() for r in caplog.records if "ignored a twilio message" in r.getMessage()]
    assert len(ignored) == 5, ignored
    assert "not JSON" in ignored[0] and "unknown event 'ringing'" in ignored[2] and "not base64" in ignored[3]


# --- Telnyx ----------------------------------------------------------------------------------------------


async def test_a_telnyx_stream_is_bridged_the_same_way(server: LiveServer, notices: Notices) -> None:
    url = f"ws://127.0.0.1:{server.port}/telephony/telnyx/stream"
    with pytest.raises(websockets.InvalidStatus) as denied:
        await websockets.connect(url, additional_headers={"x-telnyx-streaming-auth-token": "wrong"})
    assert denied.value.response.status_code == 403
    async with websockets.connect(url, additional_headers={"x-telnyx-streaming-auth-token": "telnyx-token"}) as telnyx:
        await telnyx.send('{"event":"connected","version":"1.0.0"}')
        start = {
            "event": "start",
            "sequence_number": "1",
            "stream_id": "32DE0DEA-53CB-4B21-89A4-9E1819C043BC",
            "start": {
                "user_id": "3E6F995F-85F7-4705-9741-53B116D28237",
                "call_control_id": "v3:control-id",
                "call_session_id": "ff55a038-6f5d-11ef-9692-02420aeffb1f",
                "from": "+13122010094",
                "to": "+13122123456",
                "client_state": "aGF2ZSBhIG5pY2UgZGF5ID1d",
                "custom_parameters": {"profile": "concierge"},
                "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1},
            },
        }
        await telnyx.send(json.dumps(start))
        notice = await notices.next()
        async with await sideband(server, notice["data"]["call_id"]) as app:
            created = await next_event(app, "session.created")
            await app.send('{"type":"response.create"}')
            first = orjson.loads(await asyncio.wait_for(telnyx.recv(), 10))
            second = orjson.loads(await asyncio.wait_for(telnyx.recv(), 10))
    assert created["session"]["instructions"] == "You are the hotel concierge."
    assert notice["data"]["sip_headers"][:3] == [
        {"name": "X-Telnyx-Call-Control-Id", "value": "v3:control-id"},
        {"name": "From", "value": "+13122010094"},
        {"name": "To", "value": "+13122123456"},
    ]
    assert first["event"] == "media" and set(first) == {"event", "media"}
    assert second == {"event": "mark", "mark": {"name": "1"}}


# --- profiles at startup ---------------------------------------------------------------------------------


def test_a_bad_profile_stops_the_server_at_startup_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps({"sales": {"type": "realtime", "audio": {"output": {"voice": "zeus"}}}}))
    with pytest.raises(ValueError, match=r"profile 'sales': .*\(session\.audio\.output\.voice\)"):
        create_app(Settings(phone_profiles=path), engines=scripted_engines())


# --- capacity and a failing application ------------------------------------------------------------------


async def test_a_full_server_refuses_a_stream_503_before_the_upgrade() -> None:
    settings = Settings(max_connections=1, allow_unsigned_phone_streams=True)
    with LiveServer(create_app(settings, engines=scripted_engines())) as live:
        async with TwilioCaller(stream_url(live)) as first:
            await first.silence(100)
            with pytest.raises(websockets.InvalidStatus) as denied:
                await websockets.connect(stream_url(live))
    assert denied.value.response.status_code == 503


async def test_a_call_webhook_that_fails_is_logged_and_the_call_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "realtalk.server.call_webhook")
    settings = Settings(allow_unsigned_phone_streams=True, call_webhook="http://127.0.0.1:9/calls")  # discard port
    with LiveServer(create_app(settings, engines=scripted_engines())) as live:
        async with TwilioCaller(stream_url(live)) as phone, httpx.AsyncClient(base_url=live.http_url) as http:
            for _ in range(100):
                if any("call webhook failed" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)
            await phone.silence(100)
            assert (await http.get("/healthz")).json()["calls"] == 1
    assert any("call webhook failed" in r.getMessage() for r in caplog.records)
