"""Beta conversation items: assistant content is `text` / `audio` on this wire (`output_*` in the core)."""

from __future__ import annotations

from typing import Any

from realtalk.protocol.common import ContentNames, item_param
from realtalk.protocol.errors import FieldPath
from realtalk.protocol.items import ContentType, ItemParam

CONTENT_NAMES: ContentNames = {"output_text": "text", "output_audio": "audio"}
_CONTENT_TYPES: dict[str, ContentType] = {
    "input_text": "input_text",
    "input_audio": "input_audio",
    "text": "output_text",
    "audio": "output_audio",
}


def item(value: Any, at: FieldPath) -> ItemParam:
    return item_param(value, at, _CONTENT_TYPES)
