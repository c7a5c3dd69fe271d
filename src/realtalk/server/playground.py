"""The voice playground: a browser page that talks to this server over WebRTC, as OpenAI's quickstart does.

`GET /` and `GET /playground` serve the page; its script and style live under `/playground/`. The files
ship as package data (plain HTML, CSS and JavaScript: no build step, nothing loaded from elsewhere).
The page mints an ephemeral secret at `/v1/realtime/client_secrets`, then posts its SDP offer to
`/v1/realtime/calls`, like any browser app pointed at the OpenAI Realtime API.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response

from realtalk import __version__
from realtalk.config import Settings
from realtalk.protocol.config import DEFAULT_INSTRUCTIONS

ASSETS = Path(__file__).with_name("playground")
_TYPES = {"playground.js": "text/javascript; charset=utf-8", "playground.css": "text/css; charset=utf-8"}
# Nothing but this server: no inline script, no other origin; media from the call's own streams.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def add_playground_routes(app: FastAPI, settings: Settings) -> None:
    """Serve the playground page, with the server's default instructions filled in."""
    page = render_page(settings).encode()
    assets = {name: (ASSETS / name).read_bytes() for name in _TYPES}

    async def index() -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=_HEADERS)

    for path in ("/", "/playground"):
        app.api_route(path, methods=["GET", "HEAD"], include_in_schema=False)(index)
    for name, media_type in _TYPES.items():
        route = app.api_route(f"/playground/{name}", methods=["GET", "HEAD"], include_in_schema=False)
        route(_asset(assets[name], media_type))


def render_page(settings: Settings) -> str:
    template = (ASSETS / "index.html").read_text(encoding="utf-8")
    values = {"instructions": settings.instructions or DEFAULT_INSTRUCTIONS, "version": __version__}
    for name, value in values.items():
        template = template.replace("{{" + name + "}}", html.escape(value))
    return template


def _asset(body: bytes, media_type: str) -> Callable[[], Awaitable[Response]]:
    async def asset() -> Response:
        return Response(body, media_type=media_type, headers=_HEADERS)

    return asset
