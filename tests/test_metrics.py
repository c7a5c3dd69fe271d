"""Prometheus metrics at `/metrics`: what a live scripted server counts, with bounded labels, per worker or summed."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from realtalk.config import Settings
from realtalk.engines.base import ChatMessage, LLMEvent, LLMRequest, TextDelta
from realtalk.engines.registry import EngineChoice
from realtalk.engines.remote.http import RemoteEngineError
from realtalk.engines.scripted.llm import ScriptedLLM
from realtalk.observability.engine_metrics import instrument_engines
from realtalk.observability.metrics import (
    MULTIPROC_ENV,
    Metrics,
    mark_worker_dead,
    multiprocess_exposition,
    prepare_workers,
)
from realtalk.server.app import create_app
from tests.harness import scripted_engines
from tests.live import LiveServer
from tests.rtc_client import RtcClient
from tests.signals import silence, tone
from tests.test_auth import refused
from tests.test_webrtc_calls import connect
from tests.test_websocket import wait_until
from tests.wsclient import RealtimeClient

pytestmark = pytest.mark.live
KEY = "sk-realtalk-test-0123456789"
CHUNK_MS = 100
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def metrics_page(server: LiveServer) -> str:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.http_url}/metrics")
    assert response.status_code == 200
    return response.text


async def scrape(server: LiveServer) -> Samples:
    return parse(await metrics_page(server))


async def post(server: LiveServer, path: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.http_url, headers=bearer()) as http:
        return await http.post(path, **kwargs)  # type: ignore[arg-type]


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def bearer(token: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def server() -> Iterator[LiveServer]:
    settings = Settings(engines="scripted", api_key=[KEY], max_sessions_per_key=1)
    with LiveServer(create_app(settings)) as live:
        yield live


async def speak(client: RealtimeClient) -> None:
    """One spoken turn: 0.8 s of tone, then 1 s of silence, in 100 ms appends (faster than real time)."""
    audio = b"".join(samples.astype("<i2").tobytes() for samples in (tone(800), silence(1000)))
    step = 24 * 2 * CHUNK_MS
    for start in range(0, len(audio), step):
        chunk = base64.b64encode(audio[start : start + step]).decode()
        await client.send({"type": "input_audio_buffer.append", "audio": chunk})


async def spoken_turn(server: LiveServer) -> None:
    """One session, one spoken turn, transcribed and answered in audio; the session closed."""
    client = await RealtimeClient.open(server.ws_url, headers=bearer(), ga=True)
    await client.until("session.created")
    transcribed = {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}}
    await client.send({"type": "session.update", "session": transcribed})
    await client.until("session.updated")
    await speak(client)
    await client.until("response.done")
    await finish(server, client)


async def finish(server: LiveServer, client: RealtimeClient) -> None:
    """Close the session and wait until the server has too (its metrics are final then, its trace ended)."""
    await client.close()
    assert await wait_until(lambda: server.call(lambda: len(server.app.state.sessions)) == 0)


async def test_a_spoken_turn_is_counted_exactly(server: LiveServer) -> None:
    await spoken_turn(server)
    samples = await scrape(server)
    session = {"transport": "websocket", "dialect": "ga"}
    assert value(samples, "realtalk_sessions_opened_total", **session) == 1
    assert value(samples, "realtalk_sessions_closed_total", **session) == 1
    assert value(samples, "realtalk_active_sessions", **session) == 0
    assert value(samples, "realtalk_turns_total", transport="websocket") == 1
    assert value(samples, "realtalk_responses_total", status="completed") == 1
    assert value(samples, "realtalk_events_total", direction="in", type="update_session") == 1
    assert value(samples, "realtalk_events_total", direction="in", type="append_input_audio") == 18
    assert value(samples, "realtalk_events_total", direction="out", type="speech_stopped") == 1
    assert value(samples, "realtalk_events_total", direction="out", type="response_done") == 1
    assert value(samples, "realtalk_audio_seconds_total", direction="in", transport="websocket") == pytest.approx(1.8)
    assert value(samples, "realtalk_audio_seconds_total", direction="out", transport="websocket") > 0


async def test_each_stage_of_the_turn_is_timed_once(server: LiveServer) -> None:
    await spoken_turn(server)
    samples = await scrape(server)
    for stage in ("speech_stopped", "transcribed", "first_transcript", "first_audio"):
        assert value(samples, "realtalk_turn_stage_seconds_count", stage=stage) == 1, stage
    stopped = value(samples, "realtalk_turn_stage_seconds_sum", stage="speech_stopped")
    first_audio = value(samples, "realtalk_turn_stage_seconds_sum", stage="first_audio")
    assert 0 < stopped <= first_audio


async def test_each_engine_call_is_timed_by_engine_and_backend(server: LiveServer) -> None:
    await spoken_turn(server)
    samples = await scrape(server)
    for engine in ("llm", "stt", "tts"):
        labels = {"engine": engine, "backend": "scripted"}
        assert value(samples, "realtalk_engine_seconds_count", **labels) >= 1, engine
        assert value(samples, "realtalk_engine_first_output_seconds_count", **labels) >= 1, engine
        assert value(samples, "realtalk_engine_errors_total", kind="internal", **labels) == 0


async def test_no_label_names_a_session_an_item_or_a_key(server: LiveServer) -> None:
    await spoken_turn(server)
    text = await metrics_page(server)
    assert "sess_" not in text and KEY not in text
    assert not re.findall(r"[a-z]+_[A-Za-z0-9]{21}\b", text)  # no id of any kind (item_…, resp_…, rtc_…)


async def test_refused_sessions_are_counted_by_transport_and_reason(server: LiveServer) -> None:
    assert await refused(server.ws_url, ga=True) == 401
    assert await refused(server.ws_url, ga=True, headers=bearer("sk-wrong")) == 401
    held = await RealtimeClient.open(server.ws_url, headers=bearer(), ga=True)
    await held.until("session.created")
    assert await refused(server.ws_url, ga=True, headers=bearer()) == 429  # one session per key
    await held.close()
    assert await refused(server.ws_url + "?intent=bogus", ga=True, headers=bearer()) == 400
    offer = await post(server, "/v1/realtime/calls", content=b"v=0")
    assert offer.status_code == 400  # not application/sdp
    samples = await scrape(server)
    assert value(samples, "realtalk_sessions_refused_total", transport="websocket", reason="auth") == 2
    assert value(samples, "realtalk_sessions_refused_total", transport="websocket", reason="per_key") == 1
    assert value(samples, "realtalk_sessions_refused_total", transport="websocket", reason="bad_request") == 1
    assert value(samples, "realtalk_sessions_refused_total", transport="webrtc", reason="bad_request") == 1


async def test_a_webrtc_call_is_an_active_call_and_session_of_its_transport_until_hung_up() -> None:
    settings = Settings(engines="scripted", api_key=[KEY], webrtc_host_ip=["127.0.0.1"])
    call = {"transport": "webrtc", "dialect": "ga"}
    with LiveServer(create_app(settings)) as live:
        async with RtcClient() as caller, httpx.AsyncClient(base_url=live.http_url) as http:
            call_id = await connect(http, caller, token=KEY)
            during = await scrape(live)
            hangup = await http.post(f"/v1/realtime/calls/{call_id}/hangup", headers=bearer())
            assert hangup.status_code == 200
            assert await wait_until(lambda: live.call(lambda: len(live.app.state.calls)) == 0)
        after = await scrape(live)
    assert [value(during, name, **call) for name in ("realtalk_active_calls", "realtalk_active_sessions")] == [1, 1]
    assert [value(after, name, **call) for name in ("realtalk_active_calls", "realtalk_active_sessions")] == [0, 0]
    opened_closed = ("realtalk_sessions_opened_total", "realtalk_sessions_closed_total")
    assert [value(after, name, **call) for name in opened_closed] == [1, 1]


async def test_a_full_server_counts_a_capacity_refusal() -> None:
    with LiveServer(create_app(Settings(engines="scripted", max_connections=1))) as full:
        held = await RealtimeClient.open(full.ws_url, ga=True)
        await held.until("session.created")
        assert await refused(full.ws_url, ga=True) == 503
        await held.close()
        assert (
            value(await scrape(full), "realtalk_sessions_refused_total", transport="websocket", reason="capacity") == 1
        )


async def test_secrets_minted_and_rejected_are_counted(server: LiveServer) -> None:
    for _ in range(2):
        minted = await post(server, "/v1/realtime/client_secrets", json={})
        assert minted.status_code == 200
    assert await refused(server.ws_url, ga=True, headers=bearer("ek_not_a_secret_we_made")) == 401
    samples = await scrape(server)
    assert value(samples, "realtalk_secrets_minted_total") == 2
    assert value(samples, "realtalk_secrets_rejected_total", reason="unknown_or_expired") == 1


async def test_without_metrics_there_is_no_metrics_page() -> None:
    with LiveServer(create_app(Settings(engines="scripted", metrics=False))) as live:
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{live.http_url}/metrics")).status_code == 404


# --- engines ----------------------------------------------------------------------------------------------


class FailingLLM(ScriptedLLM):
    """Fails after its first word, as a backend that breaks off does."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        yield TextDelta("Hello")
        raise self.error


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (RemoteEngineError("backend did not answer", "timeout"), "timeout"),
        (RemoteEngineError("backend is unreachable", "connection"), "connection"),
        (RemoteEngineError("backend answered HTTP 500"), "bad_response"),
        (TimeoutError(), "timeout"),
        (ValueError("a bug"), "internal"),
    ],
)
async def test_an_engine_failure_is_counted_by_its_kind(error: Exception, kind: str) -> None:
    metrics = Metrics.create()
    engines = instrument_engines(scripted_engines(llm=FailingLLM(error)), EngineChoice(llm="remote"), metrics)
    with pytest.raises(type(error)):
        async for _ in engines.llm.stream(LLMRequest([ChatMessage("user", "Hi")])):
            pass
    samples = parse(generate_latest(metrics.registry).decode())
    labels = {"engine": "llm", "backend": "remote"}
    assert value(samples, "realtalk_engine_errors_total", kind=kind, **labels) == 1
    assert value(samples, "realtalk_engine_first_output_seconds_count", **labels) == 1
    assert value(samples, "realtalk_engine_seconds_count", **labels) == 0  # it never finished


# --- several workers -----------------------------------------------------------------------------------

WORKER = """
from realtalk.observability.metrics import Metrics
from realtalk.observability.session_observer import ObservedSession, SessionMetrics
from realtalk.protocol import events as ev
from realtalk.protocol.config import SessionConfig

metrics = SessionMetrics(Metrics.create())
created = ev.SessionCreated(ev.SessionInfo("sess_x", 0, SessionConfig()))
for _ in range({sessions}):  # sessions started, and open until the process ends
    ObservedSession(metrics, None, "websocket", "ga").sent(created)
print(__import__("os").getpid())
"""


def run_worker(folder: Path, sessions: int) -> int:
    """A process that opens `sessions` sessions and exits; its pid."""
    done = subprocess.run(
        [sys.executable, "-c", WORKER.format(sessions=sessions)],
        env={**os.environ, MULTIPROC_ENV: str(folder)},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_workers_values_are_summed_and_a_dead_workers_sessions_no_longer_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    first = run_worker(tmp_path, 2)
    run_worker(tmp_path, 3)
    session = {"transport": "websocket", "dialect": "ga"}
    summed = parse(multiprocess_exposition(tmp_path).decode())
    assert value(summed, "realtalk_sessions_opened_total", **session) == 5
    assert value(summed, "realtalk_active_sessions", **session) == 5
    mark_worker_dead(first)
    after = parse(multiprocess_exposition(tmp_path).decode())
    assert value(after, "realtalk_active_sessions", **session) == 3
    assert value(after, "realtalk_sessions_opened_total", **session) == 5


def test_preparing_several_workers_names_a_fresh_metrics_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MULTIPROC_ENV, "")  # so that the variable prepare_workers sets is removed afterwards
    monkeypatch.delenv(MULTIPROC_ENV)
    assert prepare_workers(1) is None
    assert MULTIPROC_ENV not in os.environ
    folder = prepare_workers(4)
    assert folder is not None and folder.is_dir() and not any(folder.iterdir())
    assert os.environ[MULTIPROC_ENV] == str(folder)
