"""Fitting a conversation into the model's context window, the way OpenAI's `truncation` setting does.

The instructions (a leading system message) and the last user turn (the last user message and all after
it) always stay. Older turns go whole, oldest first; a cut never falls between an assistant's tool call and
the tool's output, so the model never sees an answer to a call it did not make. Token counts come from the
engine (`LLMEngine.count_tokens`), so this module knows no tokenizer and does no I/O.

The session remembers how many messages were dropped (`len(messages) - len(kept)`, all of them right after
the instructions) and leaves them out of later turns: with a retention ratio, the room freed then lets the
next turns fit without another cut, which keeps the prompt's prefix stable for caching.
"""

from __future__ import annotations

from collections.abc import Sequence

from realtalk.engines.base import ChatMessage, TokenCount

DEFAULT_ANSWER_SHARE = 4  # with no output limit, a quarter of the window is kept for the answer


class ContextTooLong(ValueError):
    """The conversation cannot be fitted: truncation is disabled, or what must stay is already too long.

    `dropping` says which: True when every older turn was dropped and what must stay still does not fit.
    """

    def __init__(self, needed: int, limit: int, what: str, *, dropping: bool = False) -> None:
        super().__init__(f"{what} needs {needed} tokens, more than the {limit} allowed")
        self.needed = needed
        self.limit = limit
        self.dropping = dropping


def answer_reserve(max_output_tokens: int | None, window: int) -> int:
    """Room to keep for the answer: the response's output limit, at most half the window.

    Capped at half, since an output limit is a ceiling, not an estimate: a client asking for "up to 4096"
    from a 4096-token model should get an answer cut short, not a refusal of every request.
    """
    if max_output_tokens is None:
        return window // DEFAULT_ANSWER_SHARE
    return min(max_output_tokens, window // 2)


def fit_context(
    messages: Sequence[ChatMessage],
    counts: TokenCount,
    *,
    window: int,
    reserve: int,
    enabled: bool = True,
    retention_ratio: float | None = None,
    post_instructions_limit: int | None = None,
) -> list[ChatMessage]:
    """The messages to send, in order: all of them if they fit, else the instructions and the newest turns.

    What fits: `counts.overhead`, the instructions, the rest and `reserve` within `window`, and the rest (the
    post-instruction messages) within `post_instructions_limit` when one is given. `enabled=False` (the
    `disabled` setting) never drops: a conversation that does not fit raises ContextTooLong. Otherwise the
    oldest turns are dropped: just enough (`auto`), or, with `retention_ratio` r, until the rest uses at most
    r of its budget, so that the next turns fit without another cut. When even the instructions, the last
    user turn and the reserve do not fit, ContextTooLong says by how much.
    """
    if len(counts.per_message) != len(messages):
        raise ValueError(f"{len(counts.per_message)} token counts for {len(messages)} messages")
    if retention_ratio is not None and not 0.0 <= retention_ratio <= 1.0:
        raise ValueError(f"retention_ratio must be within 0 and 1, not {retention_ratio}")
    head = 1 if messages and messages[0].role == "system" else 0
    budget = window - reserve - counts.overhead - sum(counts.per_message[:head])
    if post_instructions_limit is not None:
        budget = min(budget, post_instructions_limit)
    rest = _suffix_sums(counts.per_message)
    if rest[head] <= budget:
        return list(messages)
    if not enabled:
        raise _too_long(rest[head], budget, counts, reserve, window, post_instructions_limit, dropping=False)
    cuts = _cuts(messages, head)
    target = budget if retention_ratio is None else int(retention_ratio * budget)
    cut = next((c for c in cuts if rest[c] <= target), None)
    if cut is None:
        cut = next((c for c in cuts if rest[c] <= budget), None)
    if cut is None:
        raise _too_long(rest[cuts[-1]], budget, counts, reserve, window, post_instructions_limit, dropping=True)
    return [*messages[:head], *messages[cut:]]


def _suffix_sums(counts: Sequence[int]) -> list[int]:
    """`sums[i]` is what messages i… cost together; one pass, so fitting stays linear."""
    sums = [0] * (len(counts) + 1)
    for i in range(len(counts) - 1, -1, -1):
        sums[i] = sums[i + 1] + counts[i]
    return sums


def _cuts(messages: Sequence[ChatMessage], head: int) -> list[int]:
    """Where the kept part may begin, oldest first: right after the instructions, or at a user message up
    to the last one, unless a tool output at or after it answers a call made before it."""
    last_user = max((i for i in range(head, len(messages)) if messages[i].role == "user"), default=None)
    blocked = _blocked_cuts(messages)
    cuts = [head]
    if last_user is not None:
        cuts += [i for i in range(head + 1, last_user + 1) if messages[i].role == "user" and not blocked[i]]
    return cuts


def _blocked_cuts(messages: Sequence[ChatMessage]) -> list[bool]:
    """`blocked[i]`: starting at message i would keep a tool output but drop the call it answers.

    A call at h answered at j blocks every start in h+1…j; the spans are summed with a difference array, so
    many calls cost one pass rather than one pass each.
    """
    callers = {call.call_id: i for i, m in enumerate(messages) for call in m.tool_calls}
    spans = [0] * (len(messages) + 1)
    for j, message in enumerate(messages):
        h = callers.get(message.tool_call_id or "") if message.role == "tool" else None
        if h is not None and h < j:
            spans[h + 1] += 1
            spans[j + 1] -= 1
    blocked, open_spans = [], 0
    for i in range(len(messages)):
        open_spans += spans[i]
        blocked.append(open_spans > 0)
    return blocked


def _too_long(
    rest: int,
    budget: int,
    counts: TokenCount,
    reserve: int,
    window: int,
    post_instructions_limit: int | None,
    *,
    dropping: bool,
) -> ContextTooLong:
    """Say which limit is broken: the post-instructions limit when it is the tighter one, else the window."""
    if post_instructions_limit is not None and rest > post_instructions_limit:
        what = "the conversation after the instructions"
        return ContextTooLong(rest, post_instructions_limit, what, dropping=dropping)
    needed = window - budget + rest
    what = f"the conversation (with {reserve} tokens kept for the answer)"
    return ContextTooLong(needed, window, what, dropping=dropping)
