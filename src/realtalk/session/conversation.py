"""The default conversation: an ordered list of items with lookup by id."""

from __future__ import annotations

from realtalk.protocol import ids
from realtalk.protocol.errors import ProtocolError
from realtalk.protocol.items import Item

ROOT = "root"


class Conversation:
    def __init__(self, max_items: int) -> None:
        self.id = ids.conversation_id()
        self.items: list[Item] = []
        self._max_items = max_items

    def get(self, item_id: str, param: str = "item_id") -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise ProtocolError(f"Item with item_id '{item_id}' not found.", code="item_not_found", param=param)

    def __contains__(self, item_id: str) -> bool:
        return any(item.id == item_id for item in self.items)

    def insert(self, item: Item, previous_item_id: str | None = None) -> str | None:
        """Place `item` after `previous_item_id` (`root`: first; None: last); return its predecessor's id."""
        if item.id in self:
            raise ProtocolError(
                f"Item with id '{item.id}' already exists.", code="item_already_exists", param="item.id"
            )
        if len(self.items) >= self._max_items:
            raise ProtocolError(
                f"The conversation holds at most {self._max_items} items; delete some first.", code="conversation_full"
            )
        if previous_item_id is None:
            index = len(self.items)
        elif previous_item_id == ROOT:
            index = 0
        else:
            index = self.items.index(self.get(previous_item_id, "previous_item_id")) + 1
        self.items.insert(index, item)
        return self.items[index - 1].id if index > 0 else None

    def delete(self, item_id: str) -> None:
        self.items.remove(self.get(item_id))

    def last_id(self) -> str | None:
        return self.items[-1].id if self.items else None
