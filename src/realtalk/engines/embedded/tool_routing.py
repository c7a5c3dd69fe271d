"""Which declared tool a request is for, if any: by the words the request shares with each tool's declaration.

SmolLM2-135M cannot make that choice itself. Offered `{"message": ...}` beside a call for each tool, it called
a tool for most requests that needed none and for few that needed one; asked to pick a tool's name (or
`none`) under a grammar, it answered `none` nearly always; scored by the likelihood of each choice, even
corrected for its bias with a content-free request, it did no better than chance. So the engine routes first
(for the packaged model only: a larger model of the user's own decides as before), and the model then only
answers in words or fills the chosen tool's arguments.

The match is plain lexical overlap, the same for any tools: a request's content words, lower case, stemmed
and without function words, against the words of each tool's name and description (a whole point each) and
of its parameters' names and descriptions (half a point: "minutes" alone must not start a timer when the
user asks how many minutes an hour has). The best tool with at least a point wins; ties go to the tool that
shares more words with its name, then to the one declared first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from realtalk.engines.base import ChatMessage, FunctionSpec, ToolChoiceSpec

NAME_WEIGHT = 1.0
DESCRIPTION_WEIGHT = 0.5
PARAMETER_WEIGHT = 0.25
THRESHOLD = 1.0
# English function words, and the light verbs and courtesies a request to any tool is phrased with
_STOPWORDS = """a about above after again against all also am an and any are as at be been before being below between
    both but by can could did do does doing down during each even ever few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just let lets me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too under until
    up very was we were what when where which while who whom why will with would you your yours yourself
    yourselves get got give make made please want need like tell say use set know thank thanks hello hi okay ok
    yes e g eg"""
STOPWORDS = frozenset(_STOPWORDS.split())
_WORD = re.compile(r"[A-Za-z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def route(text: str, tools: Sequence[FunctionSpec]) -> FunctionSpec | None:
    """The tool `text` asks for, or None when no tool shares enough of its words."""
    said = set(terms(text))
    scored = [
        (sum(weights.get(word, 0.0) for word in said), len(said & set(terms(tool.name))), -index, tool)
        for index, tool in enumerate(tools)
        for weights in (tool_terms(tool),)
    ]
    score, _, _, best = max(scored, key=lambda s: s[:3], default=(0.0, 0, 0, None))
    return best if score >= THRESHOLD else None


def tool_terms(tool: FunctionSpec) -> dict[str, float]:
    """Each stemmed word of the tool's declaration, with the weight of the place it is most telling in."""
    weights: dict[str, float] = {}
    properties = (tool.parameters or {}).get("properties", {})
    parts: list[tuple[Iterable[str], float]] = [
        (terms(tool.name), NAME_WEIGHT),
        (terms(tool.description), DESCRIPTION_WEIGHT),
        (terms(" ".join(properties)), PARAMETER_WEIGHT),
        (terms(" ".join(_description(spec) for spec in properties.values())), PARAMETER_WEIGHT),
    ]
    for words, weight in parts:
        for word in words:
            weights[word] = max(weights.get(word, 0.0), weight)
    return weights


def terms(text: str) -> list[str]:
    """Content words, stemmed: `get_weather` → weather, "It's raining" → rain, "shares" → shar."""
    words = _WORD.findall(_CAMEL.sub(" ", text.replace("'s", "")).replace("_", " "))
    return [stem(word) for word in (w.lower() for w in words) if word not in STOPWORDS]


def stem(word: str) -> str:
    """A light suffix stripper: plural, -ing and -ed go, then a final e, so the forms of a word agree."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _description(spec: Any) -> str:
    return str(spec.get("description", "")) if isinstance(spec, dict) else ""


def routed_choice(
    messages: Sequence[ChatMessage], tools: Sequence[FunctionSpec], choice: ToolChoiceSpec
) -> ToolChoiceSpec:
    """The session's tool choice narrowed by the router: after a tool's result, answer in words (one call a
    turn: the small model, offered the same tool again, calls it again); else the tool the user's last message
    routes to, or words where none fits (`auto`) or the model's own pick among them all (`required`)."""
    if not tools or choice.mode not in ("auto", "required"):
        return choice
    if messages and messages[-1].role == "tool" and choice.mode == "auto":
        return ToolChoiceSpec("none")
    tool = route(last_said(messages), tools)
    if tool is not None:
        return ToolChoiceSpec("function", tool.name)
    return ToolChoiceSpec("none") if choice.mode == "auto" else choice


def last_said(messages: Sequence[ChatMessage]) -> str:
    """The user's last message: what a request is routed by, and its arguments taken from."""
    return next((m.content for m in reversed(messages) if m.role == "user"), "")
