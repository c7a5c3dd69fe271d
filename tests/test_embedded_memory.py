"""The embedded LLM holds on to conversations that left their slot only up to its prompt cache's size.

llama.cpp keeps a copy of every prompt a slot drops (22 KiB a token), and under sustained load those are
conversations long closed: the copies must stop adding up once the cache is full.
"""

from __future__ import annotations

import psutil
import pytest

from realtalk.engines.base import ChatMessage, LLMRequest
from realtalk.engines.embedded.smollm import SmolLM

pytestmark = pytest.mark.models

CONVERSATIONS = 16
CEILING_MIB = 192  # the most a server may keep of conversations that left their slots (with allocator slack)
KV_MIB_PER_TOKEN = 22 / 1024


def instructions(conversation: int) -> str:
    """About 1,500 tokens, different for each conversation, so no two share a cached prompt."""
    facts = (f"Fact {conversation}-{i}: the number {i * 7 + conversation} is interesting." for i in range(90))
    return f"Conversation {conversation}. " + " ".join(facts)


async def converse(llm: SmolLM, conversation: int) -> int:
    """One turn of a new conversation; the prompt's tokens."""
    messages = [ChatMessage("system", instructions(conversation)), ChatMessage("user", "Hi")]
    tokens = 0
    async for event in llm.stream(LLMRequest(messages, max_output_tokens=1)):
        tokens = getattr(event, "input_tokens", tokens)
    return tokens


@pytest.mark.timeout(900)
async def test_prompts_pushed_out_of_their_slots_are_kept_up_to_the_cache_size_only() -> None:
    llm = SmolLM(threads=2)
    process = psutil.Process()
    for conversation in range(2):  # both slots hold a conversation: each new one now pushes one out
        await converse(llm, conversation)
    before = process.memory_info().rss / 2**20
    tokens = [await converse(llm, conversation) for conversation in range(2, CONVERSATIONS)]
    pushed_out_mib = sum(tokens) * KV_MIB_PER_TOKEN
    assert pushed_out_mib > 2 * CEILING_MIB  # kept unbounded, they would break the ceiling twice over
    assert process.memory_info().rss / 2**20 - before < CEILING_MIB
