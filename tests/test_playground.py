"""The playground page is served as package data, self-contained, with the server's default instructions.

The page itself is driven in Chromium by tests/test_playground_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from realtalk.config import Settings
from realtalk.protocol.config import DEFAULT_INSTRUCTIONS
from realtalk.server.app import create_app
from realtalk.server.playground import ASSETS


def client_for(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(create_app(settings)), base_url="http://realtalk")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(Settings(engines="scripted")) as http:
        yield http


@pytest.mark.parametrize("path", ["/", "/playground"])
async def test_the_page_is_served_at_the_root_and_at_playground(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "connect-src 'self'" in response.headers["content-security-policy"]
    page = response.text
    assert '<script src="/playground/playground.js" defer></script>' in page
    assert '<link rel="stylesheet" href="/playground/playground.css">' in page
    assert DEFAULT_INSTRUCTIONS in page and "{{" not in page


@pytest.mark.parametrize(("name", "kind"), [("playground.js", "text/javascript"), ("playground.css", "text/css")])
async def test_assets_are_served_with_their_types(client: httpx.AsyncClient, name: str, kind: str) -> None:
    response = await client.get(f"/playground/{name}")
    assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
    assert response.content == (ASSETS / name).read_bytes()
    assert (await client.head(f"/playground/{name}")).status_code == 200


async def test_unknown_assets_are_404s_in_openai_shape(client: httpx.AsyncClient) -> None:
    for path in ("/playground/secrets.txt", "/playground/../config.py", "/playground/index.html"):
        response = await client.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


async def test_the_servers_instructions_are_filled_in_escaped() -> None:
    async with client_for(Settings(engines="scripted", instructions='Be <b>"terse"</b> & kind.')) as http:
        page = (await http.get("/")).text
    assert "Be &lt;b&gt;&quot;terse&quot;&lt;/b&gt; &amp; kind." in page and "<b>" not in page


async def test_the_page_needs_no_key_but_the_secrets_it_mints_do() -> None:
    async with client_for(Settings(engines="scripted", api_key=["sk-local"])) as http:
        assert (await http.get("/")).status_code == 200
        refused = await http.post("/v1/realtime/client_secrets", json={"session": {"type": "realtime"}})
        assert refused.status_code == 401
        minted = await http.post(
            "/v1/realtime/client_secrets",
            json={"session": {"type": "realtime"}},
            headers={"Authorization": "Bearer sk-local"},
        )
        assert minted.status_code == 200 and minted.json()["value"].startswith("ek_")


async def test_the_session_the_page_asks_for_is_accepted(client: httpx.AsyncClient) -> None:
    """The GA session object playground.js builds, with every choice its controls offer."""
    voices = re.findall(r"<option(?: selected)?>(\w+)</option>", (ASSETS / "index.html").read_text())
    assert voices == ["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"]
    tool = {
        "type": "function",
        "name": "get_time",
        "description": "Get the current local date and time.",
        "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": []},
    }
    detections = [{"type": "server_vad"}] + [
        {"type": "semantic_vad", "eagerness": eagerness} for eagerness in ("auto", "low", "medium", "high")
    ]
    for voice, detection in zip(voices, detections * 2, strict=True):
        session = {
            "type": "realtime",
            "instructions": "Answer briefly.",
            "audio": {
                "input": {"transcription": {"model": "whisper-1"}, "turn_detection": detection},
                "output": {"voice": voice},
            },
            "tools": [tool],
        }
        response = await client.post("/v1/realtime/client_secrets", json={"session": session})
        assert response.status_code == 200, response.text
        shown = response.json()["session"]
        assert shown["audio"]["output"]["voice"] == voice
        assert shown["audio"]["input"]["turn_detection"]["type"] == detection["type"]


def test_the_page_loads_nothing_from_elsewhere() -> None:
    for name in ("index.html", "playground.css", "playground.js"):
        text = (ASSETS / name).read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), name
        assert not re.search(r"""(url\(|@import|import\s*\(|fetch\(\s*["'`]https?:)""", text), name
