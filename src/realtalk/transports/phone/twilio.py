"""Twilio Media Streams (`<Connect><Stream>`, bidirectional), as Twilio documents its messages.

In: `connected`, `start` (`start.streamSid`, `start.callSid`, `start.mediaFormat` audio/x-mulaw 8000 mono,
`start.customParameters`), `media` (base64 μ-law, `track`, `chunk`, `timestamp`), `dtmf`, `mark` (echoed
once the audio before it has played, or at once on `clear`), `stop`. Out: `media`, `mark` and `clear`,
each naming the `streamSid`.
"""

from __future__ import annotations

from typing import Any

from realtalk.transports.phone.carrier import Carrier, Names, text


def _headers(start: dict[str, Any]) -> list[tuple[str, str]]:
    return [("X-Twilio-CallSid", text(start, "callSid")), ("X-Twilio-StreamSid", text(start, "streamSid"))]


TWILIO = Carrier(
    "twilio",
    Names(
        stream_id="streamSid",
        stream_id_in_start=True,
        media_format="mediaFormat",
        sample_rate="sampleRate",
        encoding="audio/x-mulaw",
        custom_parameters="customParameters",
        stream_id_out="streamSid",
    ),
    _headers,
)
