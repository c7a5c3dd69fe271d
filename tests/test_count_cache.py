"""The embedded LLM's cache of token counts keeps at most its budget of message text, forgetting the oldest."""

from __future__ import annotations

from realtalk.engines.embedded.count_cache import CountCache


def test_counts_are_remembered_by_role_and_content() -> None:
    cache = CountCache(budget_chars=100)
    cache.remember({("user", "Hello there."): 4, ("assistant", "Hi!"): 3})
    assert (cache.get(("user", "Hello there.")), cache.get(("assistant", "Hi!"))) == (4, 3)
    assert cache.get(("assistant", "Hello there.")) is None
    assert (len(cache), cache.chars) == (2, 15)


def test_past_its_budget_the_oldest_messages_are_forgotten_first() -> None:
    cache = CountCache(budget_chars=30)
    for turn in range(10):
        cache.remember({("user", f"message {turn}"): turn})  # 9 characters each
    assert (len(cache), cache.chars) == (3, 27)
    assert [cache.get(("user", f"message {turn}")) for turn in (6, 7, 8, 9)] == [None, 7, 8, 9]


def test_a_message_counted_again_takes_no_more_of_the_budget() -> None:
    cache = CountCache(budget_chars=30)
    for _ in range(5):
        cache.remember({("user", "message 1"): 3})
    assert (len(cache), cache.chars) == (1, 9)


def test_a_message_larger_than_the_budget_is_not_kept() -> None:
    cache = CountCache(budget_chars=30)
    cache.remember({("user", "short"): 1})
    cache.remember({("tool", "x" * 1000): 250})
    assert (len(cache), cache.chars) == (0, 0)
