"""Smart Turn v3.2 (the int8 ONNX classifier inside the `pipecat-ai` wheel) on onnxruntime, without pipecat.

It hears the last 8 s of a turn and says how likely the speaker has finished, from the sound of the speech
(intonation, a drawn-out last word) as well as its words. Its input is the one pipecat feeds it: Whisper's
80-bin log-mel spectrogram of exactly 8 s, the audio padded with silence on the left and normalised to
zero mean and unit variance first. The spectrogram uses faster-whisper's numpy STFT and mel filters, in
float64 as pipecat does: the int8 model turns float32's rounding (~1e-6 in the features) into differences
of up to 0.04 in the probability.

A decision runs on one worker thread, never on the event loop; decisions are rare (one per pause), so
concurrent sessions simply take turns on it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt
from faster_whisper.feature_extractor import FeatureExtractor

from realtalk.engines.base import Samples
from realtalk.engines.embedded.onnx import InferenceModel, cpu_session
from realtalk.engines.embedded.packages import ModelInfo, located, package_dir

SAMPLE_RATE = 16_000
WINDOW = 8 * SAMPLE_RATE  # the model hears the last 8 s
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms: 800 frames in the window
N_MELS = 80
NORMALIZE_EPSILON = 1e-7
MODEL_FILE = "smart-turn-v3.2-cpu.onnx"

_HANN = np.hanning(N_FFT + 1)[:-1]  # periodic, as torch.hann_window
_MEL_FILTERS: npt.NDArray[np.float64] = FeatureExtractor.get_mel_filters(SAMPLE_RATE, N_FFT, n_mels=N_MELS)  # (80, 201)


def model_path() -> Path:
    """The ONNX file of the installed `pipecat-ai` package (located without importing it: that needs its
    dependencies, which are not installed)."""
    return package_dir("pipecat") / "audio" / "turn" / "smart_turn" / "data" / MODEL_FILE


def model_infos() -> list[ModelInfo]:
    return [ModelInfo("turn", "smart-turn-v3.2", ("pipecat-ai", "onnxruntime"), located(model_path))]


def features(audio: Samples) -> npt.NDArray[np.float32]:
    """The model's (80, 800) input for the last 8 s of `audio`: what pipecat computes, as transformers'
    WhisperFeatureExtractor(chunk_length=8) does with do_normalize=True.

    Padding goes on the left, so the end of the turn is always at the end of the window; the padding counts
    in the normalisation, as it does in pipecat.
    """
    recent = audio[-WINDOW:].astype(np.float32) / 32768.0
    window = np.pad(recent, (WINDOW - len(recent), 0))
    normalized = (window - window.mean()) / np.sqrt(window.var() + NORMALIZE_EPSILON)
    spectrum = FeatureExtractor.stft(normalized.astype(np.float64), N_FFT, HOP, window=_HANN, return_complex=True)
    power: npt.NDArray[np.float64] = np.abs(spectrum[:, :-1]) ** 2  # Whisper drops the last frame
    log_mel: npt.NDArray[np.float64] = np.log10(np.maximum(_MEL_FILTERS @ power, 1e-10))
    log_mel = np.maximum(log_mel, log_mel.max() - 8.0)  # an 80 dB range below the loudest bin
    return ((log_mel + 4.0) / 4.0).astype(np.float32)


class SmartTurn:
    sample_rate = SAMPLE_RATE

    def __init__(self, model: InferenceModel | None = None, threads: int = 1) -> None:
        """`model` is the Smart Turn ONNX session, by default the packaged one; a caller may wrap or share it."""
        self._session = model or cpu_session(str(model_path()), threads)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="smart-turn")

    async def probability(self, audio: Samples) -> float:
        # A copy: the caller may go on writing into its buffer while the worker reads.
        recent = audio[-WINDOW:].copy()
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._decide, recent)

    def _decide(self, audio: Samples) -> float:
        (output,) = self._session.run(None, {"input_features": features(audio)[np.newaxis]})
        return float(output[0, 0])  # the graph ends in a sigmoid: already a probability
