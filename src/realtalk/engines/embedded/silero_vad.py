"""Silero VAD v6 (the ONNX file inside the `silero-vad` wheel) on onnxruntime, without torch.

Every session keeps its own recurrent state and 64-sample context; the model is shared. Frames that
sessions submit at the same time are run as one batch on one worker thread, so a hundred sessions cost
a few inference calls per 32 ms frame rather than a hundred, and the event loop never waits on them.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from realtalk.engines.base import Samples
from realtalk.engines.embedded.onnx import InferenceModel, cpu_session
from realtalk.engines.embedded.packages import ModelInfo, located, package_dir

SAMPLE_RATE = 16_000
FRAME = 512
CONTEXT = 64
STATE_SHAPE = (2, 1, 128)
Float32Array = npt.NDArray[np.float32]


def model_path() -> Path:
    """The ONNX file of the installed `silero-vad` package (located without importing it: that needs torch)."""
    return package_dir("silero_vad") / "data" / "silero_vad.onnx"


def model_infos() -> list[ModelInfo]:
    return [ModelInfo("vad", "silero-v6", ("silero-vad", "onnxruntime"), located(model_path))]


@dataclass
class SileroStream:
    engine: SileroVAD
    state: Float32Array = field(default_factory=lambda: np.zeros(STATE_SHAPE, dtype=np.float32))
    context: Float32Array = field(default_factory=lambda: np.zeros(CONTEXT, dtype=np.float32))

    async def process(self, frames: Samples) -> list[float]:
        return await self.engine.submit(self, frames)


@dataclass
class _Request:
    stream: SileroStream
    frames: Float32Array  # (n, FRAME)
    future: asyncio.Future[list[float]]


class SileroVAD:
    sample_rate = SAMPLE_RATE
    frame_samples = FRAME

    def __init__(self, model: InferenceModel | None = None, max_batch: int = 256) -> None:
        """`model` is the Silero ONNX session, by default the packaged one; a caller may wrap or share it."""
        self._session = model or cpu_session(str(model_path()))
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="silero")
        self._max_batch = max_batch
        self._pending: list[_Request] = []
        self._worker: asyncio.Task[None] | None = None

    def open_stream(self) -> SileroStream:
        return SileroStream(self)

    async def submit(self, stream: SileroStream, frames: Samples) -> list[float]:
        """Probabilities for whole frames of int16 audio at 16 kHz (a partial tail frame is not allowed)."""
        if frames.size == 0:
            return []
        if frames.size % FRAME:
            raise ValueError(f"Silero takes whole frames of {FRAME} samples")
        loop = asyncio.get_running_loop()
        if self._worker is not None and self._worker.get_loop() is not loop:  # an earlier event loop's leftovers
            self._pending, self._worker = [], None
        future: asyncio.Future[list[float]] = loop.create_future()
        audio = (frames.astype(np.float32) / 32768.0).reshape(-1, FRAME)
        self._pending.append(_Request(stream, audio, future))
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work(), name="silero batcher")
        return await future

    async def _work(self) -> None:
        """Drain what is pending, a batch at a time, then stop (the next request starts a new worker)."""
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            live = [r for r in batch if not r.future.done()]
            if not live:
                continue
            try:
                results = await loop.run_in_executor(self._executor, self._run, live)
            except Exception as exc:  # a model failure fails these requests, not the engine
                for request in live:
                    if not request.future.done():
                        request.future.set_exception(exc)
                continue
            for request, probabilities in zip(live, results, strict=True):
                if not request.future.done():
                    request.future.set_result(probabilities)

    def _run(self, requests: list[_Request]) -> list[list[float]]:
        """Step all streams through their frames together: one inference per step, batch = streams."""
        results: list[list[float]] = [[] for _ in requests]
        steps = max(len(r.frames) for r in requests)
        for step in range(steps):
            active = [i for i, r in enumerate(requests) if step < len(r.frames)]
            chunk = np.stack([np.concatenate([requests[i].stream.context, requests[i].frames[step]]) for i in active])
            state = np.concatenate([requests[i].stream.state for i in active], axis=1)
            output, new_state = self._session.run(
                None, {"input": chunk, "state": state, "sr": np.array(SAMPLE_RATE, dtype=np.int64)}
            )
            for row, i in enumerate(active):
                stream = requests[i].stream
                stream.state = new_state[:, row : row + 1, :]
                stream.context = chunk[row, -CONTEXT:]
                results[i].append(float(output[row, 0]))
        return results
