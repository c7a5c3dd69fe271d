"""The playground in Debian's Chromium: a spoken question over WebRTC, answered aloud, timed in the page.

Chromium's fake microphone plays a WAV made here with espeak-ng; the server is `realtalk serve` in its own
process on a free loopback port, offering only loopback ICE candidates (`--webrtc-host-ip 127.0.0.1`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from realtalk.bench.server import ServerProcess, serve
from tests.browser import browser_page, spoken_wav

pytestmark = pytest.mark.live

QUESTION = "What is the capital of France?"
KEY = "sk-playground-test"

AUDIO_STATS = """async () => {
  const report = await window.playground.pc.getStats();
  let found = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      found = {bytesReceived: s.bytesReceived, packetsReceived: s.packetsReceived,
               totalAudioEnergy: s.totalAudioEnergy, audioLevel: s.audioLevel};
    }
  });
  return found;
}"""
ANSWERED = """() => {
  const p = window.playground;
  const done = p.events.some((e) => e.type === "response.done");
  const said = p.messages.some((m) => m.role === "assistant" && m.text.trim());
  const heard = p.messages.some((m) => m.role === "user" && m.text.trim());
  return done && said && heard && p.turns.length > 0;
}"""


def sessions(server: ServerProcess) -> int:
    return int(server.health()["sessions"])


def wait_until(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def hang_up(page: Any, server: ServerProcess) -> None:
    """Hang up from the page; the server frees the call."""
    page.click("#hangup")
    page.wait_for_function("() => window.playground.state === 'ended'", timeout=10_000)
    assert page.evaluate("window.playground.reason") == "you hung up"
    wait_until(lambda: sessions(server) == 0, 10, "the server to free the call")


@pytest.mark.models
@pytest.mark.timeout(300)  # the embedded server loads and warms up every model first
def test_a_spoken_question_is_answered_aloud_and_timed(tmp_path: Path) -> None:
    microphone = spoken_wav(tmp_path / "question.wav", 1000, QUESTION, 3000)
    with (
        serve("--webrtc-host-ip", "127.0.0.1", "--seed", "7", startup_seconds=240) as server,
        browser_page(tmp_path / "profile", microphone) as page,
    ):
        page.goto(server.base + "/")
        started = time.monotonic()
        page.click("#connect")
        page.wait_for_function("() => window.playground.state === 'live'", timeout=30_000)
        assert sessions(server) == 1
        page.wait_for_function(ANSWERED, timeout=60_000)
        answered = time.monotonic() - started
        page.wait_for_function(
            "() => window.playground.events.some((e) => e.type === 'output_audio_buffer.stopped')", timeout=30_000
        )
        page.screenshot(path=str(tmp_path / "playground.png"))
        if os.environ.get("REALTALK_PLAYGROUND_SCREENSHOT"):
            page.screenshot(path=os.environ["REALTALK_PLAYGROUND_SCREENSHOT"])

        messages = page.evaluate("window.playground.messages")
        user = " ".join(m["text"] for m in messages if m["role"] == "user")
        assistant = " ".join(m["text"] for m in messages if m["role"] == "assistant")
        assert "france" in user.lower() or "capital" in user.lower(), user
        assert assistant.strip()

        audio = page.evaluate(AUDIO_STATS)
        assert audio is not None and audio["bytesReceived"] > 0, audio
        assert audio["totalAudioEnergy"] > 0 or audio["audioLevel"] > 0, audio

        turn = page.evaluate("window.playground.turns[0]")
        assert not turn["endOfSpeechEstimated"], "the end of speech was heard on the microphone"
        assert 0 < turn["latencyMs"] < 15_000 and turn["detectionMs"] >= 0
        assert turn["serverMs"] is not None and 0 <= turn["serverMs"] <= turn["latencyMs"]
        types = [e["type"] for e in page.evaluate("window.playground.events")]
        for expected in ("session.created", "input_audio_buffer.speech_stopped", "output_audio_buffer.started"):
            assert expected in types
        print(
            f"\nplayground: answered {answered:.1f} s after connect; end of speech → first audio heard "
            f"{turn['latencyMs']:.0f} ms (turn detection {turn['detectionMs']:.0f} ms, server "
            f"{turn['serverMs']:.0f} ms); user said {user!r}; assistant said {assistant!r}"
        )
        hang_up(page, server)


@pytest.mark.timeout(120)
def test_the_page_asks_for_the_api_key_and_sends_it_nowhere_else(tmp_path: Path) -> None:
    microphone = spoken_wav(tmp_path / "hello.wav", 500, "Hello there.", 1000)
    with (
        serve("--engines", "scripted", "--api-key", KEY, "--webrtc-host-ip", "127.0.0.1") as server,
        browser_page(tmp_path / "profile", microphone) as page,
    ):
        sent: list[tuple[str, str]] = []
        page.on("request", lambda request: sent.append((request.url, request.headers.get("authorization", ""))))
        page.goto(server.base + "/")
        page.click("#connect")
        page.wait_for_function("() => window.playground.state === 'needs_key'", timeout=10_000)
        assert page.is_visible("#keycard") and page.is_visible("#api-key")

        page.fill("#api-key", "sk-wrong")
        page.press("#api-key", "Enter")
        page.wait_for_function("() => window.playground.state === 'needs_key'", timeout=10_000)
        page.wait_for_selector("#key-error:not([hidden])")
        assert "refused" in page.inner_text("#key-error")

        page.fill("#api-key", KEY)
        page.press("#api-key", "Enter")
        page.wait_for_function("() => window.playground.state === 'live'", timeout=30_000)
        assert page.input_value("#api-key") == "" and not page.is_visible("#keycard")
        assert sessions(server) == 1
        hang_up(page, server)

    assert all(url.startswith(server.base + "/") for url, _ in sent), sent
    with_key = {url.removeprefix(server.base) for url, auth in sent if KEY in auth}
    assert with_key == {"/v1/realtime/client_secrets"}  # the call and its hangup use the ephemeral secret
    call = [auth for url, auth in sent if url.endswith("/v1/realtime/calls") or url.endswith("/hangup")]
    assert len(call) == 2 and all(auth.startswith("Bearer ek_") for auth in call)


@pytest.mark.timeout(120)
def test_changes_during_a_call_go_out_as_session_updates(tmp_path: Path) -> None:
    """Voice, turn detection, the demo tool and instructions change mid-call; a refused change is shown."""
    microphone = spoken_wav(tmp_path / "hello.wav", 2000, "Hello there.", 2000)
    with (
        serve("--engines", "scripted", "--webrtc-host-ip", "127.0.0.1") as server,
        browser_page(tmp_path / "profile", microphone) as page,
    ):
        page.goto(server.base + "/")
        page.click("#connect")
        page.wait_for_function("() => window.playground.state === 'live'", timeout=30_000)
        page.select_option("#voice", "ash")
        page.check("input[name=turn][value=semantic_vad]")
        page.select_option("#eagerness", "high")
        page.check("#tool")
        page.fill("#instructions", "Answer in one word.")
        page.locator("#instructions").blur()
        page.wait_for_function(
            """() => {
              const s = window.playground.events.filter((e) => e.type === "session.updated").pop();
              return s && s.session.audio.output.voice === "ash" && s.session.tools.length === 1 &&
                s.session.audio.input.turn_detection.type === "semantic_vad" &&
                s.session.audio.input.turn_detection.eagerness === "high" &&
                s.session.instructions === "Answer in one word.";
            }""",
            timeout=10_000,
        )
        assert not [e for e in page.evaluate("window.playground.events") if e["type"] == "error"]
        assert page.is_visible("text=Session updated: voice ash")

        page.wait_for_function(
            "() => window.playground.events.some((e) => e.type === 'output_audio_buffer.started')", timeout=30_000
        )
        page.select_option("#voice", "cedar")  # the assistant has spoken: the server refuses
        page.wait_for_selector(".sys-error", timeout=10_000)
        assert "voice" in page.inner_text(".sys-error").lower()
        assert page.input_value("#voice") == "ash"  # the page shows the voice the session still has
        hang_up(page, server)


@pytest.mark.timeout(120)
def test_interrupt_stops_the_answer_and_marks_it_cut_off(tmp_path: Path) -> None:
    microphone = spoken_wav(tmp_path / "hello.wav", 500, "Hello there.", 3000)
    with (
        serve("--engines", "scripted", "--webrtc-host-ip", "127.0.0.1") as server,
        browser_page(tmp_path / "profile", microphone) as page,
    ):
        page.goto(server.base + "/")
        page.click("#connect")
        page.wait_for_function(
            "() => window.playground.events.some((e) => e.type === 'output_audio_buffer.started')", timeout=30_000
        )
        page.click("#interrupt")
        page.wait_for_function(
            "() => window.playground.events.some((e) => e.type === 'output_audio_buffer.cleared')", timeout=10_000
        )
        truncated = page.wait_for_function(
            "() => window.playground.events.find((e) => e.type === 'conversation.item.truncated')", timeout=10_000
        ).json_value()
        assert page.is_visible(".tag-cut")
        cut = [m for m in page.evaluate("window.playground.messages") if m["cut"]]
        assert [m["itemId"] for m in cut] == [truncated["item_id"]] and cut[0]["role"] == "assistant"
        assert page.is_disabled("#interrupt")
        hang_up(page, server)


def test_the_page_explains_an_unreachable_server(tmp_path: Path) -> None:
    """Errors reach the user in plain words: here the server went away between loading the page and calling."""
    with serve("--engines", "scripted") as server:
        base = server.base
        with browser_page(tmp_path / "profile") as page:
            page.goto(base + "/")
            server.process.terminate()
            server.process.wait(10)
            wait_until(lambda: not _answers(base), 10, "the server to stop")
            page.click("#connect")
            page.wait_for_function("() => window.playground.state === 'error'", timeout=10_000)
            assert "cannot be reached" in page.inner_text("#status-text")


def _answers(base: str) -> bool:
    try:
        httpx.get(base + "/healthz", timeout=1)
    except httpx.TransportError:
        return False
    return True
