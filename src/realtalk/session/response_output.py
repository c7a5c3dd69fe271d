"""A response's output: the items it writes (a message, tool calls) and the events that stream them.

`ResponseRun` decides what happens (the LLM's events, cancellation, status); this writes it down: items
added to the response and the conversation, text streamed or cut into clauses and spoken through the
TTS (or taken from the speech a speculation prepared), and every item closed with its `*.done` events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from realtalk.audio.formats import FORMATS, AudioEncoder
from realtalk.engines.base import TTSEngine
from realtalk.engines.speech_text import SentenceChunker
from realtalk.protocol import events as ev
from realtalk.protocol import ids
from realtalk.protocol.items import Content, Item
from realtalk.session.conversation import ConversationStore
from realtalk.session.speculation import Prefetch

_EMPTY = np.zeros(0, dtype=np.int16)


@dataclass
class _OpenMessage:
    item: Item
    output_index: int
    audio: bool
    text: str = ""
    speech: bytearray = field(default_factory=bytearray)  # grows in place: no copy per chunk
    chunker: SentenceChunker = field(default_factory=SentenceChunker)
    encoder: AudioEncoder | None = None


@dataclass
class _OpenCall:
    item: Item
    output_index: int


class ResponseOutput:
    def __init__(
        self,
        response: ev.Response,
        emit: ev.Emit,
        tts: TTSEngine,
        conversation: ConversationStore | None,
        speed: float,
        on_audio: Callable[[], None],
    ) -> None:
        self._response = response
        self._emit = emit
        self._tts = tts
        self._conversation = conversation
        self._speed = speed
        self._on_audio = on_audio
        self._message: _OpenMessage | None = None
        self._call: _OpenCall | None = None
        self._previous: dict[str, str | None] = {}
        self.muted = False  # set at barge-in: not one more delta goes out
        self.audio_ms = 0.0  # how long the speech written so far lasts
        self.calls = 0
        self.prefetch: Prefetch | None = None  # speech a speculation prepared, if the response took one

    async def call_arguments(self, delta: str) -> None:
        call = self._call
        if call is None:
            return
        call.item.arguments = (call.item.arguments or "") + delta
        await self._emit(
            ev.FunctionArgumentsDelta(
                self._response.id, call.item.id, call.output_index, call.item.call_id or "", delta
            )
        )

    async def _add_output(self, item: Item) -> int:
        if self._conversation is not None:
            self._conversation.require_room()  # refused before the item is announced anywhere
        output_index = len(self._response.output)
        self._response.output.append(item)
        await self._emit(ev.OutputItemAdded(self._response.id, output_index, item))
        conversation = self._conversation
        if conversation is not None:
            previous = conversation.insert(item)
            self._previous[item.id] = previous
            await self._emit(ev.ItemCreated(item, previous))
        return output_index

    async def _item_done(self, index: int, item: Item) -> None:
        await self._emit(ev.OutputItemDone(self._response.id, index, item))
        if item.id in self._previous:
            await self._emit(ev.ItemDone(item, self._previous[item.id]))

    async def text(self, text: str) -> None:
        """More of the answer's text: streamed as text, or cut into clauses and spoken."""
        if self._call is not None:
            return  # text after a tool call is not part of any item the protocol can express
        message = self._message or await self._open_message()
        message.text += text
        if not message.audio:
            message.item.content[0].text = message.text
            await self._stream(message, "text", text)
            return
        for clause in message.chunker.push(text):
            await self._speak(message, clause)

    async def _open_message(self) -> _OpenMessage:
        """The item is announced with no content (as OpenAI does), then its one content part is added."""
        audio = self._response.modality == "audio"
        item = Item(ids.item_id(), "message", "in_progress", "assistant", [])
        output_index = await self._add_output(item)
        message = _OpenMessage(item, output_index, audio)
        if audio:
            fmt = self._response.output_format
            item.content.append(Content("output_audio", transcript="", audio=message.speech, audio_format=fmt))
            message.encoder = AudioEncoder(self._tts.sample_rate, FORMATS[fmt])
        else:
            item.content.append(Content("output_text", text=""))
        self._message = message
        await self._emit(ev.ContentPartAdded(self._response.id, item.id, output_index, 0, "audio" if audio else "text"))
        return self._message

    async def _speak(self, message: _OpenMessage, clause: str) -> None:
        part = message.item.content[0]
        part.transcript = (part.transcript or "") + clause
        await self._stream(message, "transcript", clause)
        if not clause.strip():
            return
        assert message.encoder is not None
        tts, text, voice, speed = self._tts, clause.strip(), self._response.voice, self._speed
        prepared = self.prefetch.speech(text, voice, speed) if self.prefetch is not None else None
        async for samples in prepared or tts.synthesize(text, voice=voice, speed=speed):
            await self._audio(message, message.encoder.encode(samples), len(samples) * 1000 / tts.sample_rate)

    async def _audio(self, message: _OpenMessage, data: bytes, ms: float) -> None:
        self.audio_ms += ms
        if not data:
            return
        message.speech += data
        self._on_audio()
        await self._stream(message, "audio", data)

    async def _stream(self, message: _OpenMessage, kind: ev.StreamKind, delta: str | bytes) -> None:
        if not self.muted:
            await self._emit(ev.ContentDelta(self._response.id, message.item.id, message.output_index, 0, kind, delta))

    async def open_call(self, call_id: str, name: str) -> None:
        """A tool call begins: whatever message was open is finished first."""
        await self.close("completed")
        item = Item(ids.item_id(), "function_call", "in_progress", call_id=call_id, name=name, arguments="")
        self.calls += 1
        self._call = _OpenCall(item, await self._add_output(item))

    async def close(self, status: Literal["completed", "incomplete"]) -> None:
        """Finish whatever is open (a cancelled or failed response leaves its items `incomplete`)."""
        if self._message is not None:
            await self._close_message(self._message, status)
            self._message = None
        if self._call is not None:
            call, self._call = self._call, None
            item = call.item
            item.status = status
            await self._emit(
                ev.FunctionArgumentsDone(
                    self._response.id,
                    item.id,
                    call.output_index,
                    item.call_id or "",
                    item.name or "",
                    item.arguments or "",
                )
            )
            await self._item_done(call.output_index, item)

    async def _close_message(self, message: _OpenMessage, status: Literal["completed", "incomplete"]) -> None:
        item, index = message.item, message.output_index
        if message.audio and status == "completed":
            rest = message.chunker.flush()
            if rest:
                await self._speak(message, rest)
            assert message.encoder is not None
            await self._audio(message, message.encoder.encode(_EMPTY, last=True), 0.0)
        part = item.content[0]
        if message.audio:
            await self._emit(ev.ContentDone(self._response.id, item.id, index, 0, "audio"))
            await self._emit(ev.ContentDone(self._response.id, item.id, index, 0, "transcript", part.transcript or ""))
        else:
            await self._emit(ev.ContentDone(self._response.id, item.id, index, 0, "text", part.text or ""))
        await self._emit(
            ev.ContentPartDone(
                self._response.id,
                item.id,
                index,
                0,
                "audio" if message.audio else "text",
                (part.transcript if message.audio else part.text) or "",
            )
        )
        item.status = status
        await self._item_done(index, item)
