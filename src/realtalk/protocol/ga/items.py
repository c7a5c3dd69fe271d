"""GA conversation items: assistant content is `output_text` / `output_audio`, as in the core."""

from __future__ import annotations

from typing import Any

from realtalk.protocol.common import ContentNames, item_param, refused
from realtalk.protocol.errors import FieldPath
from realtalk.protocol.ga.fields import WHY
from realtalk.protocol.items import ContentType, ItemParam

CONTENT_NAMES: ContentNames = {}  # GA spells every content type as the core does
_CONTENT_TYPES: dict[str, ContentType] = {kind: kind for kind in ("input_text", "input_audio", "output_text")}
_REFUSED_CONTENT = {"input_image": "image", "output_audio": "output_audio"}


def item(value: Any, at: FieldPath) -> ItemParam:
    """A GA item as the core's `ItemParam`; MCP items, images and client-made assistant audio are refused."""
    if isinstance(value, dict):
        if str(value.get("type", "")).startswith("mcp_"):
            raise refused(WHY["mcp"], path=(*at, "type"))
        content = value.get("content")
        for index, part in enumerate(content if isinstance(content, list) else ()):
            kind = part.get("type") if isinstance(part, dict) else None
            why = _REFUSED_CONTENT.get(kind) if isinstance(kind, str) else None
            if why is not None:
                raise refused(WHY[why], path=(*at, "content", index, "type"))
    return item_param(value, at, _CONTENT_TYPES)
