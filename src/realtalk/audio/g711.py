"""ITU-T G.711 μ-law and A-law, bit-exact with the reference (Sun) implementation, as lookup tables.

Encoding a 16-bit sample is one table lookup (65,536 entries per law), decoding one lookup of 256;
`audioop` (gone in Python 3.13) computes the same tables, which the tests check code by code.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]

_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
_ALL_PCM = np.arange(-32768, 32768, dtype=np.int64)


def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    value = _ALL_PCM >> 2  # the reference works on 14-bit samples
    mask = np.where(value < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(value), 8159) + (0x84 >> 2)
    seg = np.searchsorted(_ULAW_SEG_END, magnitude, side="left")
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((magnitude >> (np.minimum(seg, 7) + 1)) & 0xF))
    return (code ^ mask).astype(np.uint8)


def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    value = _ALL_PCM >> 3  # the reference works on 13-bit samples
    mask = np.where(value >= 0, 0xD5, 0x55)
    magnitude = np.where(value >= 0, value, -value - 1)
    seg = np.searchsorted(_ALAW_SEG_END, magnitude, side="left")
    shift = np.where(seg < 2, 1, np.minimum(seg, 7))
    code = np.where(seg >= 8, 0x7F, (seg << 4) | ((magnitude >> shift) & 0xF))
    return (code ^ mask).astype(np.uint8)


def _ulaw_decode_table() -> Int16Array:
    u = ~np.arange(256, dtype=np.int64) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def _alaw_decode_table() -> Int16Array:
    a = np.arange(256, dtype=np.int64) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, np.where(seg == 1, t + 0x108, (t + 0x108) << np.maximum(seg - 1, 0)))
    return np.where(a & 0x80, t, -t).astype(np.int16)


ULAW_ENCODE = _ulaw_encode_table()
ALAW_ENCODE = _alaw_encode_table()
ULAW_DECODE = _ulaw_decode_table()
ALAW_DECODE = _alaw_decode_table()


def encode(samples: Int16Array, table: npt.NDArray[np.uint8]) -> bytes:
    """16-bit samples → one G.711 byte each (index by the sample's unsigned 16-bit pattern)."""
    return bytes(table[samples.astype(np.int16).view(np.uint16) ^ 0x8000])


def decode(data: bytes, table: Int16Array) -> Int16Array:
    return table[np.frombuffer(data, dtype=np.uint8)]
