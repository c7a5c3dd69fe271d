"""One worker process of `realtalk serve --workers N`: its app, built inside it.

uvicorn's supervisor spawns each worker as a fresh interpreter sharing the parent's listening socket,
and each builds its app from an import string (`WORKER_APP`, a factory). The parent's settings reach
it whole in one environment variable (`SETTINGS_VARIABLE`, JSON): flags given on the command line
included, which the worker could not read again. It holds the API keys, so it is never logged, and each
worker removes it from its own environment once read.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from realtalk.config import Settings
from realtalk.engines.registry import Engines, build_engines, warm_up_blocking
from realtalk.logs import configure_logging
from realtalk.observability.metrics import mark_worker_dead
from realtalk.server.app import create_app

log = logging.getLogger(__name__)
WORKER_APP = "realtalk.server.worker:create_worker_app"
SETTINGS_VARIABLE = "REALTALK_WORKER_SETTINGS_JSON"


def worker_environment(settings: Settings) -> dict[str, str]:
    """The variables a worker needs to rebuild `settings` (to add to the parent's environment)."""
    return {SETTINGS_VARIABLE: settings.model_dump_json()}


def create_worker_app() -> FastAPI:
    """The app of this worker, its engines loaded and warmed: each worker holds its own models."""
    if SETTINGS_VARIABLE not in os.environ:
        raise RuntimeError(f"{WORKER_APP} is the app of `realtalk serve --workers N`; {SETTINGS_VARIABLE} is unset")
    settings = Settings.model_validate_json(os.environ.pop(SETTINGS_VARIABLE))
    configure_logging(settings.log_level, settings.log_format, settings.api_key)
    return create_app(settings, engines=loaded_engines(settings), engines_warm=True)


def loaded_engines(settings: Settings) -> Engines:
    """The engines built and warmed up, with a log line rather than a progress display."""
    started = time.perf_counter()
    engines = build_engines(settings.engine_choice())
    # uvicorn calls a factory from inside its event loop, where `asyncio.run` cannot start another one
    with ThreadPoolExecutor(1, thread_name_prefix="warm-up") as pool:
        pool.submit(warm_up_blocking, engines).result()
    log.info("process %d: engines loaded and warmed up in %.1f s", os.getpid(), time.perf_counter() - started)
    return engines


class Supervisor(Multiprocess):
    """uvicorn's supervisor, which also tells the metrics when it replaces a worker that died: the dead
    worker's open sessions must stop counting as open (its counters stay in the totals)."""

    def keep_subprocess_alive(self) -> None:
        before = [process.pid for process in self.processes]
        super().keep_subprocess_alive()
        for pid, process in zip(before, self.processes, strict=True):
            if pid is not None and process.pid != pid:
                mark_worker_dead(pid)
