"""`conversation.item.create / retrieve / delete / truncate` (PROTOCOL §3.1, §3.4)."""

from __future__ import annotations

import base64

from realtalk.protocol.session_config import SessionConfig
from tests.harness import SessionHarness, only, types


def text_item(text: str, role: str = "user", **extra: object) -> dict[str, object]:
    kind = "text" if role == "assistant" else "input_text"
    return {"type": "message", "role": role, "content": [{"type": kind, "text": text}], **extra}


async def started(**fields: object) -> SessionHarness:
    harness = SessionHarness(SessionConfig.model_validate({"model": "gpt-4o-realtime-preview", **fields}))
    await harness.start()
    return harness


async def create(harness: SessionHarness, item: dict[str, object], **extra: object) -> list[dict[str, object]]:
    return await harness.request({"type": "conversation.item.create", "item": item, **extra})


def order(harness: SessionHarness) -> list[str]:
    return [item.text() for item in harness.session.conversation.items]


async def test_created_item_is_echoed_completed_with_its_predecessor() -> None:
    harness = await started()
    first = only(await create(harness, text_item("one")), "conversation.item.created")
    second = only(await create(harness, text_item("two")), "conversation.item.created")
    assert first["previous_item_id"] is None
    assert second["previous_item_id"] == first["item"]["id"]
    item = second["item"]
    assert item["id"].startswith("item_") and item["object"] == "realtime.item"
    assert (item["type"], item["status"], item["role"]) == ("message", "completed", "user")
    assert item["content"] == [{"type": "input_text", "text": "two"}]


async def test_client_chosen_ids_are_kept() -> None:
    harness = await started()
    events = await create(harness, text_item("hi", id="item_mine"))
    assert only(events, "conversation.item.created")["item"]["id"] == "item_mine"
    duplicate = await create(harness, text_item("again", id="item_mine"))
    assert only(duplicate, "error")["error"]["code"] == "item_already_exists"


async def test_previous_item_id_places_the_item() -> None:
    harness = await started()
    a = only(await create(harness, text_item("a")), "conversation.item.created")["item"]["id"]
    await create(harness, text_item("c"))
    inserted = only(await create(harness, text_item("b"), previous_item_id=a), "conversation.item.created")
    assert inserted["previous_item_id"] == a
    first = only(await create(harness, text_item("start"), previous_item_id="root"), "conversation.item.created")
    assert first["previous_item_id"] is None
    assert order(harness) == ["start", "a", "b", "c"]


async def test_unknown_previous_item_id_adds_nothing() -> None:
    harness = await started()
    await create(harness, text_item("a"))
    events = await create(harness, text_item("b"), previous_item_id="item_nowhere", event_id="e7")
    error = only(events, "error")["error"]
    assert (error["code"], error["param"], error["event_id"]) == ("item_not_found", "previous_item_id", "e7")
    assert order(harness) == ["a"]


async def test_system_and_assistant_text_items_are_accepted() -> None:
    harness = await started()
    assert types(
        await create(
            harness, {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "rules"}]}
        )
    ) == ["conversation.item.created"]
    assert types(await create(harness, text_item("earlier answer", role="assistant"))) == ["conversation.item.created"]


async def test_role_content_rules_are_enforced() -> None:
    harness = await started()
    audio = base64.b64encode(b"\0" * 4800).decode()
    cases = [
        (
            {"type": "message", "role": "assistant", "content": [{"type": "audio", "audio": audio}]},
            "item.content[0].type",
        ),
        (
            {"type": "message", "role": "system", "content": [{"type": "input_audio", "audio": audio}]},
            "item.content[0].type",
        ),
        ({"type": "message", "role": "user", "content": [{"type": "text", "text": "x"}]}, "item.content[0].type"),
        ({"type": "message", "content": [{"type": "input_text", "text": "x"}]}, "item.role"),
        ({"type": "function_call", "name": "f"}, "item.call_id"),
        ({"type": "item_reference", "id": "item_x"}, "item.type"),
    ]
    for item, param in cases:
        assert only(await create(harness, item), "error")["error"]["param"] == param, item
    assert harness.session.conversation.items == []


async def test_user_audio_content_is_stored_and_retrievable() -> None:
    harness = await started()
    audio = base64.b64encode(b"\1\0" * 2400).decode()
    created = only(
        await create(
            harness, {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": audio}]}
        ),
        "conversation.item.created",
    )
    assert created["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    retrieved = only(
        await harness.request({"type": "conversation.item.retrieve", "item_id": created["item"]["id"]}),
        "conversation.item.retrieved",
    )
    assert retrieved["item"]["content"] == [{"type": "input_audio", "audio": audio, "transcript": None}]


async def test_retrieve_and_delete_unknown_items_are_errors() -> None:
    harness = await started()
    for kind in ("conversation.item.retrieve", "conversation.item.delete"):
        error = only(await harness.request({"type": kind, "item_id": "item_gone"}), "error")["error"]
        assert (error["code"], error["param"]) == ("item_not_found", "item_id")


async def test_delete_removes_the_item() -> None:
    harness = await started()
    item_id = only(await create(harness, text_item("bye")), "conversation.item.created")["item"]["id"]
    events = await harness.request({"type": "conversation.item.delete", "item_id": item_id})
    assert only(events, "conversation.item.deleted")["item_id"] == item_id
    assert harness.session.conversation.items == []


async def assistant_audio_item(harness: SessionHarness) -> dict[str, object]:
    await create(harness, text_item("hi there"))
    events = await harness.response()
    return only(events, "response.output_item.done")["item"]


async def test_truncate_trims_the_audio_and_removes_the_transcript() -> None:
    harness = await started()
    item = await assistant_audio_item(harness)
    events = await harness.request(
        {"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0, "audio_end_ms": 100}
    )
    assert only(events, "conversation.item.truncated") | {"event_id": None} == {
        "event_id": None,
        "type": "conversation.item.truncated",
        "item_id": item["id"],
        "content_index": 0,
        "audio_end_ms": 100,
    }
    retrieved = only(
        await harness.request({"type": "conversation.item.retrieve", "item_id": item["id"]}),
        "conversation.item.retrieved",
    )["item"]["content"][0]
    assert len(base64.b64decode(retrieved["audio"])) == 100 * 24 * 2
    assert retrieved["transcript"] is None


async def test_truncated_reply_is_what_the_model_reads_back() -> None:
    harness = await started()
    item = await assistant_audio_item(harness)  # "You said: hi there", 360 ms
    await harness.request(
        {"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0, "audio_end_ms": 180}
    )
    stored = harness.session.conversation.get(item["id"])
    assert stored.text() == "You said:"


async def test_truncate_past_the_audio_is_an_error() -> None:
    harness = await started()
    item = await assistant_audio_item(harness)
    events = await harness.request(
        {"type": "conversation.item.truncate", "item_id": item["id"], "content_index": 0, "audio_end_ms": 5000}
    )
    error = only(events, "error")["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "audio_end_ms")
    assert "360ms is already shorter than 5000ms" in error["message"]


async def test_only_assistant_audio_can_be_truncated() -> None:
    harness = await started()
    user = only(await create(harness, text_item("hi")), "conversation.item.created")["item"]["id"]
    events = await harness.request(
        {"type": "conversation.item.truncate", "item_id": user, "content_index": 0, "audio_end_ms": 0}
    )
    assert only(events, "error")["error"]["code"] == "unsupported_content_type"
