"""Free-form JSON a client hands over (a tool's parameters, tracing metadata) is refused when it is nested
too deep or too long to be echoed: accepted, it made every later `session.updated` fail to encode."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from realtalk.config import Settings
from realtalk.protocol.config import MAX_JSON_BYTES, MAX_JSON_DEPTH
from realtalk.server.app import create_app
from tests.harness import SessionHarness, only, types
from tests.virtual_clock import VirtualClock

pytestmark = pytest.mark.dialects("ga", "beta")


def nested(depth: int) -> dict[str, Any]:
    """A JSON object `depth` objects deep: {"a": {"a": ... {}}}."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def deep_schema(levels: int) -> dict[str, Any]:
    """An object schema whose properties nest `levels` objects deep, as a recursive data type unrolled."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"child": schema}}
    return schema


def tool(parameters: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "name": "lookup", "description": "Look it up.", "parameters": parameters}


async def started() -> SessionHarness:
    harness = SessionHarness()
    await harness.start()
    return harness


async def update(harness: SessionHarness, session: dict[str, Any]) -> list[dict[str, Any]]:
    """`session.update` with `session` (GA adds its `type`), sent as text: too deep for the harness's encoder."""
    body = {"type": "realtime", **session} if harness.ga else session
    await harness.send(json.dumps({"type": "session.update", "session": body}))
    return harness.drain()


def error_of(events: list[dict[str, Any]]) -> tuple[str, str, str]:
    error = only(events, "error")["error"]
    return error["type"], error["code"], error["param"]


async def test_a_deeply_nested_tool_schema_is_refused_and_the_session_stays_usable() -> None:
    harness = await started()
    before = harness.session.config
    events = await update(harness, {"tools": [tool(deep_schema(300))]})
    assert types(events) == ["error"]
    assert error_of(events) == ("invalid_request_error", "invalid_value", "session.tools[0].parameters")
    assert f"nested more than {MAX_JSON_DEPTH} levels deep" in events[0]["error"]["message"]
    assert harness.session.config == before
    assert types(await update(harness, {"instructions": "Be brief."})) == ["session.updated"]


async def test_tool_schemas_may_nest_up_to_the_limit() -> None:
    harness = await started()
    assert types(await update(harness, {"tools": [tool(nested(MAX_JSON_DEPTH))]})) == ["session.updated"]
    events = await update(harness, {"tools": [tool({"type": "object"}), tool(nested(MAX_JSON_DEPTH + 1))]})
    assert error_of(events) == ("invalid_request_error", "invalid_value", "session.tools[1].parameters")


async def test_a_tool_schema_too_long_as_json_is_refused() -> None:
    harness = await started()
    description = "x" * MAX_JSON_BYTES
    events = await update(harness, {"tools": [tool({"type": "string", "description": description})]})
    assert error_of(events) == ("invalid_request_error", "invalid_value", "session.tools[0].parameters")
    assert f"longer than {MAX_JSON_BYTES} bytes" in events[0]["error"]["message"]


async def test_a_response_with_a_deeply_nested_tool_schema_is_refused() -> None:
    harness = await started()
    await harness.send(json.dumps({"type": "response.create", "response": {"tools": [tool(deep_schema(300))]}}))
    events = harness.drain()
    assert error_of(events) == ("invalid_request_error", "invalid_value", "response.tools[0].parameters")
    assert harness.session.responder.default is None


async def test_deeply_nested_tracing_metadata_is_refused() -> None:
    harness = await started()
    tracing = {"workflow_name": "w", "metadata": nested(MAX_JSON_DEPTH + 1)}
    events = await update(harness, {"tracing": tracing})
    assert error_of(events) == ("invalid_request_error", "invalid_value", "session.tracing.metadata")


@pytest.mark.dialects("ga")
async def test_client_secrets_refuse_a_deeply_nested_tool_schema_with_a_400() -> None:
    app = create_app(Settings(engines="scripted"), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://realtalk") as http:
        body = json.dumps({"session": {"type": "realtime", "tools": [tool(deep_schema(300))]}})
        response = await http.post(
            "/v1/realtime/client_secrets", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "session.tools[0].parameters")
