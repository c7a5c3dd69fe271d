"""What a session is told when the server restarts under it (a drain): an `error` event, then the hangup.

A WebSocket is then closed with code 1012, "service restart" (RFC 6455), which tells a client the
server is going away on purpose and that reconnecting (to another instance) is the right answer.
"""

from __future__ import annotations

from realtalk.protocol import events as ev

CLOSE_CODE = 1012
CLOSE_REASON = "server restarting: reconnect"


def restart_notice() -> ev.Error:
    return ev.Error(
        "The server is restarting; reconnect to continue the conversation.",
        type="server_error",
        code="server_shutting_down",
    )
