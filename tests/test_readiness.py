"""`/readyz`: 200 only when the engines are warm, shared state is reachable and the server is not draining;
503 with every reason otherwise. `/healthz` (alive) answers either way."""

from __future__ import annotations

import os
from typing import Any

import httpx
from fastapi import FastAPI

from realtalk.config import Settings
from realtalk.server.app import create_app


def app(**given: Any) -> FastAPI:
    return create_app(Settings(engines="scripted"), **given)


async def get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://realtalk") as client:
        return await client.get(path)


async def test_a_warm_server_is_ready() -> None:
    answer = await get(app(engines_warm=True), "/readyz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ready"})


async def test_engines_not_yet_warm_make_it_not_ready_yet_alive() -> None:
    cold = app()
    answer = await get(cold, "/readyz")
    assert (answer.status_code, answer.json()) == (
        503,
        {"status": "not_ready", "reasons": ["engines: not warmed up yet"]},
    )
    assert (await get(cold, "/healthz")).status_code == 200


async def test_a_draining_server_is_not_ready_and_every_failing_check_is_named() -> None:
    draining = app()
    await draining.state.drain.run()  # no sessions open: over at once, and draining from then on

    async def unreachable() -> str | None:
        return "redis: connection refused"

    draining.state.readiness.append(unreachable)
    answer = await get(draining, "/readyz")
    assert (answer.status_code, answer.json()["reasons"]) == (
        503,
        ["engines: not warmed up yet", "draining: the server is shutting down", "redis: connection refused"],
    )


async def test_healthz_names_the_process_that_answered() -> None:
    assert (await get(app(), "/healthz")).json()["pid"] == os.getpid()
