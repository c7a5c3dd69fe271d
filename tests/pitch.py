"""Median fundamental frequency of voiced speech, by autocorrelation: enough to tell voices apart."""

from __future__ import annotations

import numpy as np


def median_f0(samples: np.ndarray, rate: int, low: float = 60.0, high: float = 400.0) -> float:
    frame = int(0.04 * rate)
    pitches = []
    audio = samples.astype(np.float64)
    for start in range(0, len(audio) - frame, frame // 2):
        window = audio[start : start + frame]
        if np.sqrt(np.mean(window**2)) < 0.02 * 32768:
            continue  # unvoiced or silent
        window = window - window.mean()
        corr = np.correlate(window, window, "full")[frame - 1 :]
        lo, hi = int(rate / high), int(rate / low)
        lag = lo + int(np.argmax(corr[lo:hi]))
        if corr[lag] > 0.3 * corr[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches)) if pitches else 0.0
