"""One pooled HTTP client per remote engine, with timeouts, bounded retries and errors that say what broke.

Retries happen only when a connection could not be made (nothing was sent, so repeating is safe); a
backend that answered badly, or went quiet mid-answer, fails the request at once with a clear message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

RemoteFailure = Literal["timeout", "connection", "bad_response"]


class RemoteEngineError(RuntimeError):
    """A remote backend failed; the message is what the client sees in `status_details.error`, and `kind`
    what went wrong, for the metrics: no answer in time, no connection, or an answer that made no sense."""

    def __init__(self, message: str, kind: RemoteFailure = "bad_response") -> None:
        super().__init__(message)
        self.kind: RemoteFailure = kind


@dataclass(frozen=True)
class RemoteEndpoint:
    """Where a remote engine lives and how patient to be with it."""

    base_url: str
    model: str
    api_key: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.25
    voices: dict[str, str] = field(default_factory=dict)
    sample_rate: int = 24_000
    context_tokens: int = 8192  # an LLM's window per request: the backend cannot be asked, so it is told


class RemoteClient:
    def __init__(self, endpoint: RemoteEndpoint, what: str) -> None:
        self.endpoint = endpoint
        self.what = what
        headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
        timeout = httpx.Timeout(endpoint.read_timeout, connect=endpoint.connect_timeout)
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._headers = headers
        self._timeout = timeout

    def _client(self) -> httpx.AsyncClient:
        """One pool per event loop (a pool cannot outlive the loop that opened its connections)."""
        loop = id(asyncio.get_running_loop())
        if loop not in self._clients:
            self._clients[loop] = httpx.AsyncClient(
                base_url=self.endpoint.base_url.rstrip("/") + "/",
                headers=self._headers,
                timeout=self._timeout,
                limits=httpx.Limits(max_keepalive_connections=20),
            )
        return self._clients[loop]

    @asynccontextmanager
    async def stream(self, path: str, **request: Any) -> AsyncIterator[httpx.Response]:
        """POST and stream the answer; a non-2xx answer or a timeout raises RemoteEngineError."""
        response = await self._with_retries(
            lambda: self._client().send(self._client().build_request("POST", path.lstrip("/"), **request), stream=True)
        )
        try:
            if response.status_code >= 400:
                body = (await response.aread()).decode(errors="replace")[:300]
                raise RemoteEngineError(f"{self.what} backend answered HTTP {response.status_code}: {body}")
            yield response
        except httpx.TimeoutException:
            raise RemoteEngineError(
                f"{self.what} backend went silent for more than {self.endpoint.read_timeout:g} s mid-answer",
                "timeout",
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise RemoteEngineError(
                f"{self.what} backend broke off its answer: {exc or type(exc).__name__}", "connection"
            ) from None
        finally:
            await response.aclose()

    async def _with_retries(self, send: Callable[[], Any]) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response: httpx.Response = await send()
                return response
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt >= self.endpoint.retries:
                    raise RemoteEngineError(
                        f"{self.what} backend at {self.endpoint.base_url} is unreachable "
                        f"({type(exc).__name__} after {attempt + 1} tries)",
                        "connection",
                    ) from None
                await asyncio.sleep(self.endpoint.backoff * 2**attempt)
                attempt += 1
            except httpx.TimeoutException:
                raise RemoteEngineError(
                    f"{self.what} backend did not answer within {self.endpoint.read_timeout:g} s", "timeout"
                ) from None
