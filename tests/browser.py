"""Debian's Chromium, driven headless by Playwright, with a WAV file as its microphone.

Playwright never downloads a browser here: it launches `/usr/bin/chromium` (installed by
scripts/install-test-tools.sh, as `make test` does) with a fresh profile.
"""

from __future__ import annotations

import shutil
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pytest

from realtalk.audio.formats import Resampler
from tests.speech import RATE, speak

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
MIC_RATE = 48_000


def chromium() -> Path:
    """Debian's Chromium; a test that needs it fails without it on Debian (where `make test` installs it)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if Path("/etc/debian_version").exists() or shutil.which("apt-get"):
        pytest.fail("chromium is not installed: run scripts/install-test-tools.sh (make test does)")
    pytest.skip("the browser tests drive Debian's chromium package (/usr/bin/chromium); this is not Debian")


def chromium_args(microphone: Path | None) -> list[str]:
    args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        "--allow-loopback-in-peer-connection",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if microphone is not None:
        args.append(f"--use-file-for-fake-audio-capture={microphone}%noloop")
    return args


def spoken_wav(path: Path, *parts: str | int) -> Path:
    """A WAV for the fake microphone (48 kHz mono 16-bit): strings are spoken by espeak-ng, ints are ms of silence."""
    pieces = []
    for part in parts:
        if isinstance(part, int):
            pieces.append(np.zeros(MIC_RATE * part // 1000, dtype=np.int16))
        else:
            pieces.append(Resampler(RATE, MIC_RATE).process(speak(part).samples, last=True))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(MIC_RATE)
        out.writeframes(np.concatenate(pieces).astype("<i2").tobytes())
    return path


@contextmanager
def browser_page(
    profile: Path,
    microphone: Path | None = None,
    width: int = 1440,
    height: int = 900,
    scheme: Literal["dark", "light"] = "dark",
) -> Iterator[Page]:
    """A page in a fresh headless Chromium whose microphone plays `microphone` once (then silence)."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=chromium_args(microphone),
            viewport={"width": width, "height": height},
            color_scheme=scheme,
            permissions=["microphone"],
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()
