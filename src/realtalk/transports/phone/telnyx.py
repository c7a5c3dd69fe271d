"""Telnyx media streaming (bidirectional: `stream_bidirectional_mode` rtp, codec PCMU), as Telnyx documents it.

Twilio's model in snake_case: `connected`, `start` (top-level `stream_id`; `start.call_control_id`,
`from`, `to`, `custom_parameters`, `media_format` PCMU 8000), `media` (base64 RTP payload), `dtmf`, `mark`
(echoed once played, or on `clear`), `error`, `stop`. Out: `media`, `mark` and `clear`, naming no stream.
"""

from __future__ import annotations

from typing import Any

from realtalk.transports.phone.carrier import Carrier, Names, text


def _headers(start: dict[str, Any]) -> list[tuple[str, str]]:
    parties = [(name.title(), start[name]) for name in ("from", "to") if isinstance(start.get(name), str)]
    return [("X-Telnyx-Call-Control-Id", text(start, "call_control_id")), *parties]


TELNYX = Carrier(
    "telnyx",
    Names(
        stream_id="stream_id",
        stream_id_in_start=False,
        media_format="media_format",
        sample_rate="sample_rate",
        encoding="PCMU",
        custom_parameters="custom_parameters",
        stream_id_out=None,
    ),
    _headers,
)
