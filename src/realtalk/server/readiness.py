"""`/readyz`: may this process take new sessions now? A list of checks, each naming what is wrong or None.

`/healthz` says the process is alive (restart it if not); `/readyz` says whether to send it traffic: a
load balancer or orchestrator stops routing to a process that is warming up, draining, or cut off from
the state it shares with the others. A new check is one more async callable on `app.state.readiness`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from fastapi.responses import JSONResponse

ReadinessCheck = Callable[[], Awaitable[str | None]]


async def readiness(checks: Sequence[ReadinessCheck]) -> JSONResponse:
    """200 `{"status": "ready"}`, or 503 `{"status": "not_ready", "reasons": [...]}`, each check run in turn."""
    reasons = [reason for check in checks if (reason := await check()) is not None]
    if reasons:
        return JSONResponse({"status": "not_ready", "reasons": reasons}, status_code=503)
    return JSONResponse({"status": "ready"})
