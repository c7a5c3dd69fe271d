"""Real servers as backends: llama.cpp's own OpenAI-compatible server (xllamacpp) as the remote LLM, and
realtalk's transcription endpoint on the embedded Whisper."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from openai import AsyncOpenAI

from realtalk.audio.files import OUTPUT_FORMATS, StreamingEncoder
from realtalk.bench.server import free_port, stop, wait_healthy
from realtalk.config import Settings
from realtalk.engines.base import ChatMessage, Completion, LLMRequest, TextDelta
from realtalk.engines.registry import Engines, build_engines
from realtalk.server.app import create_app
from tests.live import LiveServer
from tests.signals import silence
from tests.wer import word_error_rate

pytestmark = [pytest.mark.models, pytest.mark.live]

LLAMA_SERVER = """
import sys, time, xllamacpp
from realtalk.engines.embedded.smollm import model_path
params = xllamacpp.CommonParams()
params.model.path = str(model_path())
params.hostnames = ["127.0.0.1"]
params.port = int(sys.argv[1])
params.n_ctx = 2048
params.verbosity = 0
params.cpuparams.n_threads = 1
server = xllamacpp.Server(params)
time.sleep(3600)
"""


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", LLAMA_SERVER, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(process, base + "/health", 60)
        yield base + "/v1"
    finally:
        stop(process)


async def test_llama_cpp_server_is_a_remote_llm(llama_server: str) -> None:
    engines = build_engines(
        Settings(engines="scripted", llm="remote", llm_url=llama_server, llm_model="smollm2").engine_choice()
    )
    request = LLMRequest(
        [ChatMessage("system", "Answer briefly."), ChatMessage("user", "Name a colour.")], max_output_tokens=20
    )
    events = [event async for event in engines.llm.stream(request)]
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    completion = events[-1]
    assert text.strip() and isinstance(completion, Completion)
    assert completion.input_tokens > 5 and 0 < completion.output_tokens <= 20


async def test_transcription_endpoint_on_whisper_hears_an_mp3(embedded: Engines) -> None:
    question = "What is the capital of France?"
    speech = np.concatenate([c async for c in embedded.tts.synthesize(question, voice="alloy", speed=1.0)])
    encoder = StreamingEncoder(OUTPUT_FORMATS["mp3"], 24_000)
    mp3 = encoder.encode(np.concatenate([silence(300), speech, silence(500)])) + encoder.encode(silence(0), last=True)
    with LiveServer(create_app(Settings(engines="scripted"), engines=embedded)) as live:
        client = AsyncOpenAI(api_key="local", base_url=f"{live.http_url}/v1")
        result = await client.audio.transcriptions.create(
            model="whisper-1", file=("question.mp3", mp3), response_format="verbose_json"
        )
    assert word_error_rate(question, result.text) <= 0.2
    assert result.segments and result.segments[0].end > result.segments[0].start
