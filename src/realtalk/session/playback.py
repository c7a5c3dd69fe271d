"""`Playback`: what a session knows of a transport that plays the answer itself.

Over a WebSocket the client plays the audio and tells the server what was heard
(`conversation.item.truncate`). Over WebRTC or a phone line the server plays it, so the transport can
say how much of the answer the listener heard when it is cut off, and the session keeps exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Heard:
    """How much of one assistant audio part had been played when playback was cut off."""

    response_id: str
    item_id: str
    content_index: int
    audio_end_ms: int


class Playback(Protocol):
    async def clear(self) -> Heard | None:
        """Stop playing at once and drop what is queued (announcing `output_audio_buffer.cleared`).

        Returns what was heard of the part being played, or None when nothing was playing.
        """
        ...
