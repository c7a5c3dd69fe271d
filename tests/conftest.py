from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from realtalk.engines.registry import PRESETS, EngineChoice, Engines, build_engines
from realtalk.protocol.beta import BetaDialect
from realtalk.protocol.ga import GADialect
from tests.harness import CURRENT, OPEN_HARNESSES
from tests.oracle import validate_beta_server_event, validate_ga_server_event
from tests.phone_client import Notices
from tests.redis_server import RedisServer

SESSION_LOG = "realtalk.session.session"


@pytest.fixture(autouse=True)
def every_event_is_validated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever a test does, each server event realtalk encodes must pass the official types of its dialect."""
    failures: list[str] = []
    for dialect, validate in ((BetaDialect, validate_beta_server_event), (GADialect, validate_ga_server_event)):
        monkeypatch.setattr(dialect, "encode", _validating(dialect.encode, validate, failures))
    yield
    assert not failures, "server events that fail the openai types:\n" + "\n".join(failures)


@pytest.fixture(autouse=True)
def no_internal_errors(request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """An `internal_error` is a bug: a test in which the session's catch-all fires fails, unless it is
    marked `internal_error` (it breaks an engine on purpose)."""
    yield
    if request.node.get_closest_marker("internal_error") is None:
        failed = [
            r.getMessage() for r in caplog.get_records("call") if r.name == SESSION_LOG and "failed to handle" in r.msg
        ]
        assert not failed, "the session's catch-all answered internal_error:\n" + "\n".join(failed)


def _validating(encode: Any, validate: Any, failures: list[str]) -> Any:
    def checked(self: Any, event: Any) -> list[dict[str, Any]]:
        encoded: list[dict[str, Any]] = encode(self, event)
        for data in encoded:
            try:
                validate(data)
            except Exception as exc:  # recorded, then re-raised where the event was made
                failures.append(f"{self.name} {data.get('type')}: {exc}")
                raise
        return encoded

    return checked


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`pytest.mark.dialects("ga", "beta")`: run the test once per dialect, GA first."""
    marker = metafunc.definition.get_closest_marker("dialects")
    if marker is not None:
        metafunc.parametrize("session_dialect", marker.args, indirect=True)


@pytest.fixture(autouse=True)
def session_dialect(request: pytest.FixtureRequest) -> Iterator[str]:
    """The dialect `SessionHarness()` speaks in this test (GA unless the test runs in several)."""
    CURRENT["dialect"] = getattr(request, "param", "ga")
    yield CURRENT["dialect"]
    CURRENT["dialect"] = "ga"


@pytest.fixture(autouse=True)
async def sessions_are_closed() -> AsyncIterator[None]:
    """Each in-memory session a test opened is closed after it, so none outlives its event loop."""
    yield
    while OPEN_HARNESSES:
        await OPEN_HARNESSES.pop().close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fast core first; tests that load real models run last."""
    items.sort(key=lambda item: item.get_closest_marker("models") is not None)


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Engines:
    """The real offline models, loaded once for the whole run (data directory in a temporary folder)."""
    preset = PRESETS["embedded"]
    return build_engines(
        EngineChoice(
            **preset,
            data_dir=tmp_path_factory.mktemp("realtalk-data"),
            seed=int(os.environ.get("REALTALK_TEST_SEED", "7")),
        )
    )


@pytest.fixture
def notices() -> Iterator[Notices]:
    """A phone application's webhook receiver (`--call-webhook`), serving for one test."""
    receiver = Notices()
    with receiver.server:
        yield receiver


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh `redis-server` of this test's own (loopback, no persistence), killed after it."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
