"""A REST request's JSON body, read so that any bytes a client sends get a 400, never a 500.

orjson rejects what the standard library would choke on: bytes that are not UTF-8 (including lone
surrogates) and nesting beyond 1,024 levels, which `json` follows until Python's recursion limit.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from realtalk.protocol.errors import ProtocolError


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}` (the defaults), anything else is refused."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"The request body is not valid JSON: {exc}.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ProtocolError("The request body must be a JSON object.", code="invalid_type")
    return data
