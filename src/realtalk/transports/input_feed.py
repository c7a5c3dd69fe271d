"""`InputFeed`: a line that never stops talking (a WebRTC microphone, a phone call) into a session.

Each chunk is appended through the session as `input_audio_buffer.append` would be, so turn detection,
noise reduction and transcription see exactly what a WebSocket client would send. A live line cannot
be told to wait: when nothing commits the buffer (no turn detection) and it fills up, the caller hears
`input_audio_buffer_full` once, and the sound is dropped until something commits or clears it.
"""

from __future__ import annotations

from realtalk.protocol import client_events as ce
from realtalk.session.session import RealtimeSession


class InputFeed:
    def __init__(self, session: RealtimeSession) -> None:
        self._session = session
        self._refused = False

    async def append(self, audio: bytes) -> None:
        """Append `audio` (in the session's current input format)."""
        if not audio:
            return
        full = not self._session.input.buffer.has_room(len(audio))
        if not (full and self._refused):
            await self._session.handle(ce.AppendInputAudio(None, audio))
        self._refused = full
