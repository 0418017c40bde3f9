"""The ``local`` provider: a GGUF model run in-process with llama-cpp-python.

Built for the small model that ``aiops models pull qwen2.5-coder-1.5b`` assembles, on a CPU with
two cores, where measurement shaped every choice here:

* **The tool call is constrained by a grammar.** Sampling under a GBNF grammar that only
  admits ``{"name": <one of the bound tools>, "arguments": <that tool's JSON schema>}``
  makes every call well-formed and valid against its schema; "name" comes first, so the
  arguments are held to the chosen tool's schema. On twelve simple requests it made the
  exact call every time (the slow tests).
* **Two kinds of call.** Under such a grammar the model always calls a tool, and with the tool
  list in its prompt it writes a poor final answer (it calls again, or echoes the results).
  So each step is one of: a *tool call* (constrained, tools in the prompt) when the last
  message is the user's request, or a *final answer* (free text, no tools in the prompt,
  the request and its tool results put to it as one message) once the results are in. See
  ``next_step`` for the policy, including greetings and questions about the assistant, which
  are answered without a tool, and ``render_answer_prompt`` for the answer's prompt.
* **Only grounded optional arguments.** The grammar keeps arguments valid, not wanted: the
  model also fills optional ones nobody asked for. Those are dropped unless the conversation
  supports them (``ground_arguments``), so the tool's default applies.
* **One loaded model per process, with its prompt cache.** Loading costs seconds and a
  gigabyte, and evaluating the prompt (the tool list alone is thousands of tokens) is most
  of a request's time on a CPU. One ``Llama`` instance per model file and settings is shared
  by every chat model built for it, used under a lock (llama.cpp contexts are not
  thread-safe), with a RAM prompt cache so that alternating between the two kinds of call,
  or between conversations, restores evaluated prefixes instead of recomputing them. The
  tool list comes *first* in the prompt, before the per-conversation system text, so that
  prefix is shared by every conversation with the same tools.
* **Inference runs off the event loop** (a worker thread), stops at the next token when the
  caller is cancelled, and stops with ``TimeoutError`` after ``timeout_seconds`` of
  generation, which the runtime treats as "model unavailable" and falls back on.

llama-cpp-python is an optional extra (it compiles llama.cpp for minutes): it is imported
only when a model is loaded, with an error that says how to install it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import importlib.util
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from agents.models.config import ModelConfig
from agents.models.local_store import models_dir, resolve_model_path

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "the 'local' model provider needs llama-cpp-python, the project's 'local' extra: "
    "CMAKE_ARGS='-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON' "
    "pip install '.[local]' (it compiles llama.cpp for several minutes; a native build "
    "enables AMX here, whose kernels crash and compute garbage on these machines)"
)

DEFAULT_CONTEXT_WINDOW = 8192
DEFAULT_MAX_OUTPUT_TOKENS = 512
DEFAULT_THREADS = 2
TOOL_CALL_MAX_TOKENS = 384
"""Enough for the longest arguments a tool takes here (a cronjob's command and arguments)."""
DEFAULT_PROMPT_CACHE_BYTES = 512 << 20
"""Prompt states kept in RAM: each is ~28 KiB per token for the 1.5B model (~160 MiB for a
prompt with the full tool list of 30 tools), so the states of both kinds of call fit."""

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."
TOOL_CALL_OPEN = "<tool_call>"
IM_START, IM_END = "<|im_start|>", "<|im_end|>"
STOP_STRINGS = [IM_END, "<|endoftext|>"]

# Schema keywords that do not constrain a value, or that would make the grammar enormous:
# llama.cpp expands a {0,65536} repetition into as many rules.
_DESCRIPTIVE_KEYS = frozenset({"description", "title", "default", "examples"})
_MAX_GRAMMAR_LENGTH = 1024

# The runtime's message when a call could not be parsed: the model is expected to call again.
_UNPARSED_CALL = "your call could not be parsed"

_GREETING = re.compile(
    r"^\s*(hi|hello|hey|hiya|yo|thanks|thank you|thx|cheers|good (morning|afternoon|evening)"
    r"|bye|goodbye|ok(ay)?|great|cool|nice)\b[\s!.,?]*(there|again|a lot|so much|very much)?"
    r"[\s!.,?]*$",
    re.IGNORECASE,
)
_ABOUT_ASSISTANT = re.compile(
    r"^\s*(help|\?|what can you do|what do you do|who are you|what are you|how do i use you"
    r"|what are your capabilities|how can you help( me)?)[\s!.?]*$",
    re.IGNORECASE,
)

Step = Literal["tool_call", "answer"]


class LocalModelError(RuntimeError):
    """The local model cannot run: llama-cpp-python or the model file is missing."""


# --------------------------------------------------------------------------- the policy


def next_step(messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]]) -> Step:
    """Whether the model's next message is a (constrained) tool call or the final answer.

    * No tools bound: answer.
    * The last message is the user's: a tool call, unless it is small talk (a greeting,
      thanks, or a question about the assistant itself), which the model answers in words:
      under the grammar it would otherwise call some tool for "hello".
    * The last message is a tool result: the final answer, written from the results. The
      one exception is the runtime's own "your call could not be parsed" result, which asks
      for the call again. So a step makes one round of tool calls; a request that needs
      several (an investigation) gets one, and its answer says what it found.
    * Anything else (the last message is the model's own): answer.
    """
    if not tools:
        return "answer"
    last = next((m for m in reversed(messages) if not isinstance(m, SystemMessage)), None)
    if isinstance(last, HumanMessage):
        return "answer" if is_small_talk(_text(last)) else "tool_call"
    if isinstance(last, ToolMessage):
        return "tool_call" if _UNPARSED_CALL in _text(last) else "answer"
    return "answer"


def is_small_talk(text: str) -> bool:
    """A greeting, thanks, or a question about the assistant: answered without a tool."""
    return bool(_GREETING.match(text) or _ABOUT_ASSISTANT.match(text))


# --------------------------------------------------------------------------- the prompt


def render_prompt(
    messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]] | None = None
) -> str:
    """The tool-calling prompt: Qwen2.5's ChatML, ending where the assistant's turn starts.

    With ``tools``, the system turn carries Qwen's tool section (the function signatures in
    ``<tools>`` and the ``<tool_call>`` convention), placed before the conversation's own
    system text so that it is a prefix shared by every conversation (see the module doc).
    Past tool calls are rendered as ``<tool_call>`` blocks and tool results as
    ``<tool_response>`` blocks in a user turn, as Qwen's template does.
    """
    system_parts = [_text(m) for m in messages if isinstance(m, SystemMessage)]
    system = "\n\n".join(p for p in system_parts if p.strip()) or DEFAULT_SYSTEM_PROMPT
    if tools:
        system = _tools_section(tools) + "\n\n" + system
    out = [f"{IM_START}system\n{system}{IM_END}\n"]
    pending_results: list[str] = []

    def flush_results() -> None:
        if pending_results:
            body = "\n".join(
                f"<tool_response>\n{result}\n</tool_response>" for result in pending_results
            )
            out.append(f"{IM_START}user\n{body}{IM_END}\n")
            pending_results.clear()

    for message in messages:
        if isinstance(message, SystemMessage):
            continue
        if isinstance(message, ToolMessage):
            pending_results.append(_text(message))
            continue
        flush_results()
        if isinstance(message, AIMessage):
            parts = [_text(message).strip()] if _text(message).strip() else []
            parts += [
                f"{TOOL_CALL_OPEN}\n"
                + json.dumps({"name": call["name"], "arguments": call["args"]})
                + "\n</tool_call>"
                for call in message.tool_calls
            ]
            out.append(f"{IM_START}assistant\n" + "\n".join(parts) + f"{IM_END}\n")
        else:
            out.append(f"{IM_START}user\n{_text(message)}{IM_END}\n")
    flush_results()
    out.append(f"{IM_START}assistant\n")
    return "".join(out)


def render_answer_prompt(messages: Sequence[BaseMessage]) -> str:
    """The final-answer prompt: no tools, and this request's tool results as a digest.

    Measured: given the raw ``<tool_response>`` turns without the tool section, the model
    often misreads them (it answered "Thank you for your help!" to a scaling result), and with
    the tool section it tries to call again or echoes the results. Put as one user message,
    "the request, the results of the tools called for it, answer from them", it answers
    from the results every time. Earlier exchanges keep their requests and final answers;
    their tool traffic is left out (the answers summarise it).
    """
    system_parts = [_text(m) for m in messages if isinstance(m, SystemMessage)]
    system = "\n\n".join(p for p in system_parts if p.strip()) or DEFAULT_SYSTEM_PROMPT
    out = [f"{IM_START}system\n{system}{IM_END}\n"]
    conversation = [m for m in messages if not isinstance(m, SystemMessage)]
    current = max(
        (i for i, m in enumerate(conversation) if isinstance(m, HumanMessage)), default=-1
    )
    for message in conversation[: max(current, 0)]:
        if isinstance(message, HumanMessage):
            out.append(f"{IM_START}user\n{_text(message)}{IM_END}\n")
        elif isinstance(message, AIMessage) and _text(message).strip():
            out.append(f"{IM_START}assistant\n{_text(message).strip()}{IM_END}\n")
    if current >= 0:
        request = _text(conversation[current])
        results = _results_digest(conversation[current + 1 :])
        body = (
            f"{request}\n\nResults of the tools called for this request:\n\n{results}\n\n"
            "Answer the request from these results, briefly."
            if results
            else request
        )
        out.append(f"{IM_START}user\n{body}{IM_END}\n")
    out.append(f"{IM_START}assistant\n")
    return "".join(out)


def _results_digest(exchange: Sequence[BaseMessage]) -> str:
    calls = {
        call["id"]: call
        for message in exchange
        if isinstance(message, AIMessage)
        for call in message.tool_calls
    }
    entries = []
    for message in exchange:
        if not isinstance(message, ToolMessage):
            continue
        call = calls.get(message.tool_call_id)
        if call is not None:
            label = f"{call['name']}({json.dumps(call['args'], ensure_ascii=False)})"
        else:
            label = message.name or "a tool"
        entries.append(f"{label} returned:\n{_text(message)}")
    return "\n\n".join(entries)


def _tools_section(tools: Sequence[dict[str, Any]]) -> str:
    signatures = "\n".join(json.dumps(tool, ensure_ascii=False) for tool in tools)
    return (
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n"
        f"<tools>\n{signatures}\n</tools>\n\n"
        "For each function call, return a json object with function name and arguments "
        "within <tool_call></tool_call> XML tags:\n<tool_call>\n"
        '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
    )


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content)


# --------------------------------------------------------------------------- the grammar


def tool_call_schema(tools: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The JSON schema of one call to any of ``tools``: the grammar is built from it.

    A union of ``{"name": <const>, "arguments": <the tool's parameters>}``, ``name`` first so
    that the model picks the tool before its arguments, which are then held to that tool's
    schema. Descriptions are dropped (the prompt has them), references inlined, and huge
    length bounds lifted (the grammar would expand them into thousands of rules).
    """
    options = []
    for tool in tools:
        function = tool.get("function", tool)
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        options.append(
            {
                "type": "object",
                "properties": {
                    "name": {"const": function["name"]},
                    "arguments": _grammar_schema(parameters, parameters.get("$defs", {})),
                },
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
        )
    return options[0] if len(options) == 1 else {"oneOf": options}


def _grammar_schema(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    if depth > 32:
        raise ValueError("tool schema nests too deeply (a recursive $ref?)")
    if isinstance(node, list):
        return [_grammar_schema(item, defs, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        return _grammar_schema(defs[reference.removeprefix("#/$defs/")], defs, depth + 1)
    cleaned: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DESCRIPTIVE_KEYS or key == "$defs":
            continue
        too_long = isinstance(value, int) and value > _MAX_GRAMMAR_LENGTH
        if key in ("maxLength", "maxItems") and too_long:
            continue
        if key == "properties" and isinstance(value, dict):
            cleaned[key] = {
                name: _grammar_schema(prop, defs, depth + 1) for name, prop in value.items()
            }
        else:
            cleaned[key] = _grammar_schema(value, defs, depth + 1)
    return cleaned


def parse_tool_call(text: str, tools: Sequence[dict[str, Any]]) -> tuple[str, dict[str, Any]] | str:
    """``(name, arguments)`` from the constrained output, or why it is unusable.

    The grammar makes this almost always succeed; it can still fail when the output was cut
    off at the token limit.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return f"not valid JSON ({error.msg})"
    if not isinstance(data, dict):
        return "not a JSON object"
    name, arguments = data.get("name"), data.get("arguments", {})
    known = {t.get("function", t).get("name") for t in tools}
    if name not in known:
        return f"unknown tool {name!r}"
    if not isinstance(arguments, dict):
        return "arguments are not a JSON object"
    return str(name), arguments


def grounding_text(messages: Sequence[BaseMessage]) -> str:
    """What optional arguments may come from: what the user wrote and what tools returned."""
    return "\n".join(
        _text(m) for m in messages if isinstance(m, (HumanMessage, ToolMessage))
    ).lower()


def ground_arguments(
    arguments: dict[str, Any], parameters: dict[str, Any], evidence: str
) -> tuple[dict[str, Any], list[str]]:
    """Keep the required arguments, and the optional ones the conversation supports.

    Under the grammar every argument is valid, but the small model also fills optional
    arguments nobody asked for, and those change what a tool does: measured, it added
    ``pod: "api-0"`` and ``container: "api"`` to a request for api's logs, ``to_revision: 1``
    to "roll back to the previous revision", quotas of one pod to "create a project called
    analytics", and the organization's name as a workspace. So an optional argument is kept
    only when it differs from the tool's default and its value (a string, a number, each
    item of a list) appears in what the user wrote or a tool returned; a boolean is kept
    when it differs from the default. What is dropped falls back to the tool's default,
    which is also what the offline planner would use. Returns the arguments kept and the
    names of those dropped.
    """
    required = set(parameters.get("required", []))
    properties = parameters.get("properties", {})
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for name, value in arguments.items():
        schema = properties.get(name, {})
        if name in required or (value != schema.get("default") and _grounded(value, evidence)):
            kept[name] = value
        else:
            dropped.append(name)
    return kept, dropped


def _grounded(value: Any, evidence: str) -> bool:
    if isinstance(value, bool):
        return True  # differs from the default (checked before): the model chose to set it
    if isinstance(value, int | float):
        return re.search(rf"(?<![\w.]){re.escape(str(value))}(?![\w]|\.\d)", evidence) is not None
    if isinstance(value, str):
        needle = value.strip().lower()
        if not needle:
            return False
        return re.search(rf"(?<![\w-]){re.escape(needle)}(?![\w-])", evidence) is not None
    if isinstance(value, list):
        return bool(value) and all(_grounded(item, evidence) for item in value)
    return False  # an object: nothing in this project's tools takes one as an option


# --------------------------------------------------------------------------- the engine


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    seconds: float


@dataclass
class _Engine:
    """One loaded ``Llama`` with its prompt cache, used by one thread at a time."""

    llama: Any  # llama_cpp.Llama: the library is untyped, this is the boundary
    llama_cpp: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    grammars: dict[str, Any] = field(default_factory=dict)

    def grammar_for(self, tools: Sequence[dict[str, Any]]) -> Any:
        """The tool-call grammar for this tool set, built once (it takes a while to build)."""
        # Not key-sorted: the converter keeps the properties' order, and "name" must come
        # before "arguments" (sorted, the model would write arguments for a tool not yet named).
        schema = json.dumps(tool_call_schema(tools))
        grammar = self.grammars.get(schema)
        if grammar is None:
            grammar = self.llama_cpp.LlamaGrammar.from_json_schema(schema, verbose=False)
            self.grammars[schema] = grammar
        return grammar

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        temperature: float,
        grammar: Any = None,
        deadline_seconds: float,
        cancel: threading.Event,
        on_text: Callable[[str], None] | None = None,
    ) -> Completion:
        """Generate from ``prompt`` under the lock; stops on cancel, raises on the deadline."""
        with self.lock:
            if cancel.is_set():
                raise asyncio.CancelledError
            started = time.monotonic()
            tokens: list[int] = self.llama.tokenize(prompt.encode(), add_bos=False, special=True)
            room = self.llama.n_ctx() - len(tokens)
            if room < 16:
                raise LocalModelError(
                    f"the prompt has {len(tokens)} tokens and the context window "
                    f"{self.llama.n_ctx()}: raise context_window or shorten the conversation"
                )
            sampled = 0
            timed_out = False
            deadline: float | None = None

            def stop(input_ids: Any, logits: Any) -> bool:
                nonlocal sampled, timed_out, deadline
                sampled = max(sampled, len(input_ids) - len(tokens) + 1)
                now = time.monotonic()
                # The deadline counts from the first token: evaluating a long uncached prompt
                # cannot be interrupted, and is not what a stuck generation looks like.
                deadline = deadline or now + deadline_seconds
                timed_out = now > deadline
                return cancel.is_set() or timed_out

            stream = self.llama.create_completion(
                tokens,
                max_tokens=min(max_tokens, room),
                temperature=temperature,
                top_k=1 if temperature == 0 else 40,
                repeat_penalty=1.0,
                stop=STOP_STRINGS,
                grammar=grammar,
                stream=True,
                stopping_criteria=self.llama_cpp.StoppingCriteriaList([stop]),
            )
            pieces: list[str] = []
            finish = "stop"
            for chunk in stream:
                choice = chunk["choices"][0]
                piece = choice.get("text") or ""
                if piece:
                    pieces.append(piece)
                    if on_text is not None:
                        on_text(piece)
                finish = choice.get("finish_reason") or finish
            if timed_out:
                raise TimeoutError(f"the local model generated for over {deadline_seconds:.0f} s")
            if cancel.is_set():
                raise asyncio.CancelledError
            return Completion(
                "".join(pieces), len(tokens), sampled, finish, time.monotonic() - started
            )


class LeanPromptCache:
    """llama-cpp-python's RAM prompt cache, without the logits it stores for nothing.

    ``Llama.save_state`` copies the logits buffer with every saved prompt state: n_batch rows
    of the whole vocabulary (512 x 151,936 floats, 311 MB for Qwen2.5), which the cache does
    not count against its capacity. A restored state is always re-evaluated from its last
    token before sampling (``Llama.load_state`` marks it so), so those logits are never read:
    only the last row is kept (``load_state`` broadcasts it back). Measured: with the full
    rows, six cached prompts took the process to 6.4 GB; the KV data alone is ~28 KB a token.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @property
    def cache_size(self) -> int:
        return int(self.inner.cache_size)

    def __getitem__(self, key: Sequence[int]) -> Any:
        return self.inner[key]

    def __contains__(self, key: Sequence[int]) -> bool:
        return key in self.inner

    def __setitem__(self, key: Sequence[int], state: Any) -> None:
        state.scores = state.scores[-1:].copy()
        self.inner[key] = state


_ENGINES: dict[tuple[str, int, int], _Engine] = {}
_ENGINES_LOCK = threading.Lock()


LLAMA_CPP_MODULE = "llama_cpp"


def _import_llama_cpp() -> Any:
    # llama.cpp's OpenMP workers spin while they wait for each other. With two cores shared
    # with the service (and with anything else on the machine), a spinning worker steals the
    # core its peer needs: measured under load, a 30-token reply took 34 s spinning and 6 s
    # passive. libgomp reads this when the library loads, so it is set before the import;
    # an operator's own setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        return importlib.import_module(LLAMA_CPP_MODULE)
    except ImportError as error:
        raise LocalModelError(INSTALL_HINT) from error


def llama_cpp_available() -> bool:
    return importlib.util.find_spec(LLAMA_CPP_MODULE) is not None


def load_engine(
    path: Path, *, context_window: int, threads: int, cache_bytes: int = DEFAULT_PROMPT_CACHE_BYTES
) -> _Engine:
    """The process-wide engine for this model file and settings, loaded on first use."""
    key = (str(path.resolve()), context_window, threads)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            llama_cpp = _import_llama_cpp()
            logger.info("loading local model %s (n_ctx=%d, threads=%d)", path, *key[1:])
            llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=context_window,
                n_threads=threads,
                n_threads_batch=threads,
                n_batch=512,
                # Read, not mapped: the CPU backend repacks the weights into memory of its own
                # anyway, and a mapping would keep the file's pages too (2.0 GB RSS vs 1.4 GB).
                use_mmap=False,
                verbose=False,
            )
            llama.set_cache(LeanPromptCache(llama_cpp.LlamaRAMCache(capacity_bytes=cache_bytes)))
            if not _ENGINES:
                atexit.register(close_engines)
            engine = _ENGINES[key] = _Engine(llama=llama, llama_cpp=llama_cpp)
        return engine


def close_engines() -> None:
    """Free every loaded model (waiting for a generation in progress to finish).

    Registered at exit: left to ``Llama.__del__`` during interpreter shutdown, freeing runs
    after llama_cpp's module globals are gone and fails with a traceback.
    """
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        with engine.lock:
            engine.llama.close()


# --------------------------------------------------------------------------- the chat model


class LocalChatModel(BaseChatModel):
    """A GGUF chat model run in-process; tools are bound the usual way (``bind_tools``)."""

    model_path: str
    context_window: int = DEFAULT_CONTEXT_WINDOW
    threads: int = DEFAULT_THREADS
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS
    tool_call_max_tokens: int = TOOL_CALL_MAX_TOKENS
    temperature: float = 0.0
    timeout_seconds: float = 60.0
    prompt_cache_bytes: int = DEFAULT_PROMPT_CACHE_BYTES

    @property
    def _llm_type(self) -> str:
        return "local-llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "context_window": self.context_window}

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def engine(self) -> _Engine:
        return load_engine(
            Path(self.model_path),
            context_window=self.context_window,
            threads=self.threads,
            cache_bytes=self.prompt_cache_bytes,
        )

    def warm_up(self, tools: Sequence[Any]) -> None:
        """Load the model and evaluate the tool list once, before the first request.

        The first tool call after a start evaluates the whole tool list (~5,800 tokens for
        the 30 tools): minutes on two busy cores, longer than a turn's time budget. The list
        is the prompt's first part, so one throwaway call leaves it in the prompt cache for
        every conversation. Blocking: run it in a thread at start-up.
        """
        schemas = [convert_to_openai_tool(t) for t in tools]
        self.respond([HumanMessage("list the workspaces")], schemas)

    def respond(
        self,
        messages: list[BaseMessage],
        tools: Sequence[dict[str, Any]],
        *,
        cancel: threading.Event | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> AIMessage:
        """The model's next message (blocking): a tool call or the final answer."""
        engine = self.engine()
        cancel = cancel or threading.Event()
        if next_step(messages, tools) == "tool_call":
            completion = engine.complete(
                render_prompt(messages, tools) + f"{TOOL_CALL_OPEN}\n",
                max_tokens=self.tool_call_max_tokens,
                temperature=self.temperature,
                grammar=engine.grammar_for(tools),
                deadline_seconds=self.timeout_seconds,
                cancel=cancel,
            )
            return self._tool_call_message(completion, tools, grounding_text(messages))
        completion = engine.complete(
            render_answer_prompt(messages),
            max_tokens=self.max_output_tokens,
            temperature=self.temperature,
            deadline_seconds=self.timeout_seconds,
            cancel=cancel,
            on_text=on_text,
        )
        return AIMessage(content=completion.text.strip(), usage_metadata=_usage(completion))

    def _tool_call_message(
        self, completion: Completion, tools: Sequence[dict[str, Any]], evidence: str
    ) -> AIMessage:
        call_id = f"call_{uuid.uuid4().hex[:12]}"
        parsed = parse_tool_call(completion.text, tools)
        if isinstance(parsed, str):
            logger.warning("local model wrote an unusable tool call: %s", parsed)
            return AIMessage(
                content="",
                invalid_tool_calls=[
                    {
                        "name": None,
                        "args": completion.text,
                        "id": call_id,
                        "error": parsed,
                        "type": "invalid_tool_call",
                    }
                ],
                usage_metadata=_usage(completion),
            )
        name, arguments = parsed
        tool = next(t.get("function", t) for t in tools if t.get("function", t)["name"] == name)
        arguments, dropped = ground_arguments(arguments, tool.get("parameters") or {}, evidence)
        if dropped:
            logger.debug("local model: dropped ungrounded arguments %s of %s", dropped, name)
        return AIMessage(
            content="",
            tool_calls=[{"name": name, "args": arguments, "id": call_id, "type": "tool_call"}],
            usage_metadata=_usage(completion),
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self.respond(messages, kwargs.get("tools") or [])
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        cancel = threading.Event()
        try:
            message = await asyncio.to_thread(
                self.respond, messages, kwargs.get("tools") or [], cancel=cancel
            )
        finally:
            cancel.set()  # cancelled while waiting: the worker stops at its next token
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        """Final answers stream token by token; a tool call arrives whole at the end."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | AIMessage | BaseException] = asyncio.Queue()
        cancel = threading.Event()
        tools = kwargs.get("tools") or []

        def put(item: str | AIMessage | BaseException) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            try:
                put(self.respond(messages, tools, cancel=cancel, on_text=put))
            except BaseException as error:  # handed to the consumer, re-raised there
                put(error)

        worker = loop.run_in_executor(None, work)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, str):
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=item))
                    if run_manager is not None:
                        await run_manager.on_llm_new_token(item, chunk=chunk)
                    yield chunk
                    continue
                yield ChatGenerationChunk(message=_closing_chunk(item))
                break
        finally:
            cancel.set()
            if worker.done():
                await worker
            # else: the worker finishes at its next token and nobody needs its result


def _closing_chunk(message: AIMessage) -> AIMessageChunk:
    """The streamed tail of ``message``: its tool calls and usage (the text came before)."""
    calls = [
        {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
        for i, c in enumerate(message.tool_calls)
    ] + [
        # As a JSON string literal: it must stay invalid when the stream is re-assembled
        # (raw text would be "repaired" by langchain's partial-JSON parser into a bogus call).
        {
            "name": c["name"],
            "args": json.dumps(c["args"]),
            "id": c["id"],
            "index": len(message.tool_calls) + i,
        }
        for i, c in enumerate(message.invalid_tool_calls)
    ]
    return AIMessageChunk(
        content="",
        tool_call_chunks=calls,
        usage_metadata=message.usage_metadata,
        chunk_position="last",
    )


def _usage(completion: Completion) -> UsageMetadata:
    return UsageMetadata(
        input_tokens=completion.prompt_tokens,
        output_tokens=completion.completion_tokens,
        total_tokens=completion.prompt_tokens + completion.completion_tokens,
    )


def build_local_model(
    config: ModelConfig, *, models_directory: Path | None = None
) -> BaseChatModel:
    """The ``local`` provider's chat model for ``config`` (cheap: the model loads on first use).

    ``config.model`` is a known model's name (pulled into ``models_directory``, by default
    ``<data_dir>/models`` of the service's settings) or a path to a GGUF file. A missing
    file or a missing llama-cpp-python is reported here, as the configuration error it is,
    rather than on the first request.
    """
    if models_directory is None:
        from platform_core.config import get_settings

        models_directory = models_dir(get_settings().data_dir)
    path = resolve_model_path(config.model, models_directory)
    if not llama_cpp_available():
        raise LocalModelError(INSTALL_HINT)
    return LocalChatModel(
        model_path=str(path),
        context_window=config.context_window or DEFAULT_CONTEXT_WINDOW,
        max_output_tokens=config.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS,
        temperature=config.temperature,
        timeout_seconds=config.timeout_seconds,
    )
