"""Make docs/playground.png: the playground in Chromium, mid-conversation with the embedded models.

    PYTHONPATH=src:. .venv/bin/python scripts/playground_screenshot.py [docs/playground.png]

A fresh `realtalk serve` on a free loopback port, Debian's chromium with a WAV of spoken questions
(espeak-ng) as its microphone; the picture is taken when the last answer has played.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from tests.browser import browser_page, spoken_wav  # noqa: E402

from realtalk.bench.server import serve  # noqa: E402

# Questions and the silences after them (ms): each answer plays out before the next question.
CONVERSATION: list[str | int] = [
    1000,
    "What is the capital of France?",
    8000,
    "What color is the sky on a clear day?",
    9000,
    "Can you name three fruits?",
    8000,
]
QUESTIONS = sum(isinstance(part, str) for part in CONVERSATION)
PLAYED_OUT = f"""() => {{
  const p = window.playground;
  const played = p.events.filter((e) => e.type.startsWith("output_audio_buffer.")).pop();
  return p.turns.length >= {QUESTIONS} && played && played.type === "output_audio_buffer.stopped";
}}"""


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "playground.png"
    with tempfile.TemporaryDirectory() as tmp:
        microphone = spoken_wav(Path(tmp) / "conversation.wav", *CONVERSATION)
        with (
            serve("--webrtc-host-ip", "127.0.0.1", "--seed", "7", startup_seconds=240) as server,
            browser_page(Path(tmp) / "profile", microphone) as page,
        ):
            page.goto(server.base + "/")
            page.click("#connect")
            try:
                page.wait_for_function(PLAYED_OUT, timeout=90_000)
            except PlaywrightTimeout:
                print("warning: not every question was answered aloud in 90 s", file=sys.stderr)
            page.wait_for_timeout(300)
            page.screenshot(path=str(out))
            turns = page.evaluate("window.playground.turns")
            said = page.evaluate("window.playground.messages")
    for message in said:
        print(f"{message['role']:>9}: {message['text']}")
    print("latency (ms):", [round(turn["latencyMs"]) for turn in turns])
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
