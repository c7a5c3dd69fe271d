from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from realtalk.engines.registry import PRESETS, EngineChoice, Engines, build_engines
from realtalk.protocol.beta import BetaDialect
from tests.harness import OPEN_HARNESSES
from tests.oracle import validate_beta_server_event


@pytest.fixture(autouse=True)
def every_beta_event_is_validated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever a test does, each beta server event realtalk encodes must pass the official types."""
    failures: list[str] = []
    encode = BetaDialect.encode

    def checked(self: BetaDialect, event: Any) -> dict[str, Any]:
        data = encode(self, event)
        try:
            validate_beta_server_event(data)
        except Exception as exc:  # recorded, then re-raised where the event was made
            failures.append(f"{data.get('type')}: {exc}")
            raise
        return data

    monkeypatch.setattr(BetaDialect, "encode", checked)
    yield
    assert not failures, "server events that fail the openai types:\n" + "\n".join(failures)


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
