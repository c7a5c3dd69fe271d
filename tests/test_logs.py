"""`configure_logging`, as `realtalk serve` and each of its `--workers N` workers call it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from realtalk.logs import DENIAL_NOISE, UVICORN_LOGGERS, configure_logging


@pytest.fixture
def configured() -> Iterator[logging.Logger]:
    """uvicorn's error logger once logging is configured twice, as a worker would; the test process's
    logging restored afterwards."""
    root = logging.getLogger()
    uvicorn_loggers = [logging.getLogger(name) for name in UVICORN_LOGGERS]
    before = (root.level, root.handlers[:], [(lg.handlers[:], lg.propagate, lg.filters[:]) for lg in uvicorn_loggers])
    configure_logging("info", "text")
    configure_logging("info", "json")
    yield logging.getLogger("uvicorn.error")
    root.setLevel(before[0])
    root.handlers[:] = before[1]
    for logger, (handlers, propagate, filters) in zip(uvicorn_loggers, before[2], strict=True):
        logger.handlers[:], logger.propagate, logger.filters[:] = handlers, propagate, filters


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.error", logging.ERROR, "", 0, message, None, None)


def test_uvicorns_line_after_a_refused_websocket_is_dropped(configured: logging.Logger) -> None:
    assert configured.filter(record(DENIAL_NOISE)) is False


def test_uvicorns_other_lines_are_kept(configured: logging.Logger) -> None:
    assert configured.filter(record("Exception in ASGI application")) is True


def test_configuring_again_installs_no_second_filter_of_the_noise(configured: logging.Logger) -> None:
    assert [type(f).__name__ for f in configured.filters if not f.filter(record(DENIAL_NOISE))] == [
        "_DenialNoiseFilter"
    ]
