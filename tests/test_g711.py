"""G.711 is bit-exact with the reference: every code decodes, and every 16-bit sample encodes, as audioop does.

`audioop` (Python ≤ 3.12) is the oracle here only; realtalk's codec is its own lookup tables.
"""

from __future__ import annotations

import sys
import warnings
from typing import get_args

import numpy as np
import pytest

from realtalk.audio import formats, g711
from realtalk.audio.formats import FORMATS
from realtalk.protocol import config as protocol_config

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    audioop = pytest.importorskip("audioop") if sys.version_info < (3, 13) else None

ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))

pytestmark = pytest.mark.skipif(audioop is None, reason="audioop, the reference, left Python in 3.13")


def test_mu_law_encodes_all_65536_samples_like_the_reference() -> None:
    assert g711.encode(ALL_SAMPLES, g711.ULAW_ENCODE) == audioop.lin2ulaw(ALL_SAMPLES.tobytes(), 2)


def test_a_law_encodes_all_65536_samples_like_the_reference() -> None:
    assert g711.encode(ALL_SAMPLES, g711.ALAW_ENCODE) == audioop.lin2alaw(ALL_SAMPLES.tobytes(), 2)


def test_mu_law_decodes_all_256_codes_like_the_reference() -> None:
    assert g711.decode(ALL_CODES, g711.ULAW_DECODE).astype("<i2").tobytes() == audioop.ulaw2lin(ALL_CODES, 2)


def test_a_law_decodes_all_256_codes_like_the_reference() -> None:
    assert g711.decode(ALL_CODES, g711.ALAW_DECODE).astype("<i2").tobytes() == audioop.alaw2lin(ALL_CODES, 2)


def test_a_law_decoding_then_encoding_returns_every_code() -> None:
    fmt = FORMATS["g711_alaw"]
    assert fmt.encode(fmt.decode(ALL_CODES)) == ALL_CODES


def test_mu_law_round_trip_is_exact_but_for_its_negative_zero() -> None:
    fmt = FORMATS["g711_ulaw"]
    expected = ALL_CODES.replace(b"\x7f", b"\xff")  # 0x7F is -0, which decodes to 0 and encodes as +0
    assert fmt.encode(fmt.decode(ALL_CODES)) == expected


def test_format_durations() -> None:
    assert FORMATS["pcm16"].duration_ms(4800) == 100.0
    assert FORMATS["g711_ulaw"].duration_ms(800) == 100.0
    assert FORMATS["g711_alaw"].bytes_for_ms(20) == 160


def test_every_format_the_protocol_names_is_one_audio_knows() -> None:
    protocol_names = set(get_args(protocol_config.AudioFormatName))
    assert protocol_names == set(get_args(formats.AudioFormatName)) == set(FORMATS)
