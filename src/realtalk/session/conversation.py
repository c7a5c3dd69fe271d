"""`ConversationStore`: the default conversation's items in order, and the edits the protocol allows.

It owns the items (insert after a given item, look up, delete, truncate what the listener did not
hear) and nothing else: it neither emits events nor knows which dialect is spoken.
"""

from __future__ import annotations

from realtalk.audio.formats import FORMATS
from realtalk.protocol import ids
from realtalk.protocol.errors import PARAM, ProtocolError
from realtalk.protocol.items import Item

ROOT = "root"


class ConversationStore:
    def __init__(self, max_items: int) -> None:
        self.id = ids.conversation_id()
        self.items: list[Item] = []
        self._by_id: dict[str, Item] = {}
        self._max_items = max_items

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._by_id

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: str, param: str = "item_id") -> Item:
        item = self._by_id.get(item_id)
        if item is None:
            raise ProtocolError(f"Item with item_id '{item_id}' not found.", code="item_not_found", path=(param,))
        return item

    def insert(self, item: Item, previous_item_id: str | None = None) -> str | None:
        """Place `item` after `previous_item_id` (`root`: first; None: last); return its predecessor's id."""
        if item.id in self._by_id:
            raise ProtocolError(
                f"Item with id '{item.id}' already exists.", code="item_already_exists", path=("item", "id")
            )
        self.check_room()
        if previous_item_id is None:
            index = len(self.items)
        elif previous_item_id == ROOT:
            index = 0
        else:
            index = self.items.index(self.get(previous_item_id, "previous_item_id")) + 1
        self.items.insert(index, item)
        self._by_id[item.id] = item
        return self.items[index - 1].id if index > 0 else None

    def check_room(self) -> None:
        """Refuse a new item before anything is done to make it (a commit takes the buffered audio)."""
        if len(self.items) >= self._max_items:
            raise ProtocolError(
                f"The conversation holds at most {self._max_items} items; delete some first.", code="conversation_full"
            )

    def delete(self, item_id: str) -> None:
        self.items.remove(self.get(item_id))
        del self._by_id[item_id]

    def has_call(self, call_id: str | None) -> bool:
        return any(i.type == "function_call" and i.call_id == call_id for i in self.items)

    def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        """Cut an assistant audio part to what was played, and its transcript to the words heard by then."""
        item = self.get(item_id)
        if (
            item.role != "assistant"
            or content_index >= len(item.content)
            or item.content[content_index].type != "output_audio"
        ):
            raise ProtocolError(
                "Only model output audio messages can be truncated.", code="unsupported_content_type", path=("item_id",)
            )
        part = item.content[content_index]
        fmt = FORMATS[part.audio_format or "pcm16"]
        audio = part.audio or b""
        duration = fmt.duration_ms(len(audio))
        if audio_end_ms > duration:
            raise ProtocolError(
                f"Invalid value for {PARAM}: audio content of {duration:.0f}ms is already shorter than "
                f"{audio_end_ms}ms.",
                code="invalid_value",
                path=("audio_end_ms",),
            )
        part.audio = bytes(audio[: fmt.bytes_for_ms(audio_end_ms)])
        part.text = heard_prefix(
            part.text if part.text is not None else part.transcript or "",
            audio_end_ms / duration if duration else 0.0,
        )
        part.transcript = None


def heard_prefix(text: str, fraction: float) -> str:
    """The words of `text` that fit in `fraction` of it: what the listener heard before truncation."""
    cut = int(len(text) * max(0.0, min(1.0, fraction)))
    if cut >= len(text) or text[cut] == " ":
        return text[:cut]
    return text[:cut].rsplit(" ", 1)[0] if " " in text[:cut] else ""
