"""`--tls-cert/--tls-key`: realtalk serves https and wss itself (the `openai` SDK connects as to OpenAI)."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
import trustme
from openai import AsyncOpenAI

from realtalk import cli
from tests.server_process import realtalk_serve

pytestmark = pytest.mark.live


def certificate(folder: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 from a throwaway CA: its PEM files, and a client context trusting the CA."""
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1")
    cert, key = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(key))
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    return cert, key, trusting


async def test_the_openai_sdk_completes_a_response_over_wss_and_healthz_answers_over_https(tmp_path: Path) -> None:
    cert, key, trusting = certificate(tmp_path)
    with realtalk_serve(
        tmp_path, "--engines", "scripted", "--tls-cert", str(cert), "--tls-key", str(key), tls=trusting
    ) as server:
        assert server.get("/healthz").json()["status"] == "ok"
        client = AsyncOpenAI(
            api_key="unused",
            base_url=f"{server.http_url}/v1",
            http_client=httpx.AsyncClient(verify=trusting),
        )
        connection = client.realtime.connect(
            model="gpt-realtime",
            websocket_connection_options={"ssl": trusting},  # type: ignore[typeddict-unknown-key]
        )
        async with connection as conn:
            await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
            await conn.response.create()
            async for event in conn:
                if event.type == "response.done":
                    break
    assert server.ws_url.startswith("wss://")
    assert (event.response.status, event.response.output[0].content[0].text) == (  # type: ignore[union-attr]
        "completed",
        "Hello! How can I help?",
    )


def test_a_certificate_without_its_key_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    cert, _, _ = certificate(tmp_path)
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--tls-cert", str(cert)])
    assert "TLS needs both a certificate (--tls-cert) and its private key (--tls-key)" in str(exited.value)


def test_a_missing_certificate_file_is_refused_before_serving(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--tls-cert", str(tmp_path / "absent.pem"), "--tls-key", str(tmp_path / "absent.key")])
    assert "tls_cert" in str(exited.value) and "Path does not point to a file" in str(exited.value)
