"""Checks on the model files a user names (`--llm-gguf`, `--whisper-model`, `--kokoro-model`, …).

Files are read as given and nothing is downloaded, so a wrong path must stop the server at startup with
a message naming the file and what is wrong with it, not fail deep inside a model runtime on the first
call. Each check reads only a file's first bytes (or, for GGUF, its metadata).
"""

from __future__ import annotations

import json
from pathlib import Path

from realtalk.engines.embedded import gguf


class ModelFileError(ValueError):
    """A model file is missing, unreadable or of the wrong format; the message names it."""


def _readable_file(path: Path) -> bytes:
    """The first bytes of `path`, a readable non-empty file."""
    if not path.exists():
        raise ModelFileError(f"{path}: no such file")
    if not path.is_file():
        raise ModelFileError(f"{path}: not a file")
    try:
        with path.open("rb") as file:
            head = file.read(8)
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if not head:
        raise ModelFileError(f"{path}: the file is empty")
    return head


def gguf_file(path: Path) -> Path:
    """A GGUF model llama.cpp can load: the magic, and metadata that can be read up to its chat template,
    or to its end."""
    _readable_file(path)
    try:
        gguf.chat_template(path)
    except gguf.GGUFError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return path


def onnx_file(path: Path) -> Path:
    """An ONNX model: a protobuf whose first field is the IR version (tag byte 0x08)."""
    if _readable_file(path)[0] != 0x08:
        raise ModelFileError(f"{path}: not an ONNX model")
    return path


def numpy_voices(path: Path) -> Path:
    """Kokoro's voices: a NumPy archive (.npz, a zip) of style vectors."""
    if not _readable_file(path).startswith((b"PK\x03\x04", b"\x93NUMPY")):
        raise ModelFileError(f"{path}: not a NumPy voices file (.npz or .bin of style vectors)")
    return path


def piper_voice(path: Path) -> Path:
    """A Piper voice: the ONNX model and, beside it, its `.onnx.json` configuration."""
    onnx_file(path)
    config = path.with_name(path.name + ".json")
    _readable_file(config)
    try:
        rate = json.loads(config.read_text())["audio"]["sample_rate"]
    except (ValueError, KeyError, TypeError):
        raise ModelFileError(f"{config}: not a Piper voice configuration (no audio.sample_rate)") from None
    if not isinstance(rate, int):
        raise ModelFileError(f"{config}: audio.sample_rate is not a number")
    return path


def whisper_dir(path: Path) -> Path:
    """A CTranslate2 Whisper model: a directory with `model.bin`, `config.json` and `tokenizer.json`."""
    if not path.is_dir():
        raise ModelFileError(f"{path}: no such directory")
    for name in ("model.bin", "config.json", "tokenizer.json"):
        if not (path / name).is_file():
            raise ModelFileError(f"{path}: not a CTranslate2 Whisper model (it has no {name})")
    return path
