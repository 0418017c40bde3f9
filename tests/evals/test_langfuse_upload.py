"""Uploading a suite run to Langfuse, against a local endpoint speaking Langfuse's public API.

The fake answers the calls the SDK makes for a dataset run: create the dataset, upsert its items,
look the project up, receive the experiment's traces (OTLP) and the scores. What is asserted is
what Langfuse would have stored: one item per case with a stable id, one run (experiment) whose
item traces point at those items, and the case's scores.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from evals.langfuse_upload import DATASET, LangfuseTarget, item_id, upload
from evals.models import ModelChoice
from evals.runner import RunOptions, SuiteRun
from evals.scenario import Scenario
from evals.score import CaseResult
from platform_core.config import Settings
from tests.support.otlp import TRACES_PATH, CapturedSpan, decode

NOW = "2026-01-01T00:00:00.000Z"


@dataclass
class FakeLangfuse:
    url: str
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    spans: list[CapturedSpan] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, method: str, path: str) -> list[Any]:
        with self.lock:
            return [body for m, p, body in self.calls if m == method and p.startswith(path)]


def _answer(method: str, path: str, body: Any) -> Any:
    if path.startswith("/api/public/projects"):
        return {
            "data": [
                {
                    "id": "proj-1",
                    "name": "eval",
                    "metadata": {},
                    "organization": {"id": "org-1", "name": "acme"},
                }
            ]
        }
    if path.startswith("/api/public/v2/datasets") and method == "POST":
        return {
            "id": "ds-1",
            "name": body["name"],
            "description": body.get("description"),
            "metadata": None,
            "projectId": "proj-1",
            "createdAt": NOW,
            "updatedAt": NOW,
        }
    if path.startswith("/api/public/dataset-items") and method == "POST":
        return {
            "id": body["id"],
            "status": "ACTIVE",
            "input": body.get("input"),
            "expectedOutput": body.get("expectedOutput"),
            "metadata": body.get("metadata"),
            "datasetId": "ds-1",
            "datasetName": body["datasetName"],
            "createdAt": NOW,
            "updatedAt": NOW,
            "mediaReferences": [],
        }
    if path.startswith("/api/public/scores"):
        return {"message": "Accepted"}
    return {}


@contextmanager
def fake_langfuse() -> Iterator[FakeLangfuse]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeLangfuse(url=f"http://127.0.0.1:{server.server_address[1]}")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
            if self.path.startswith(TRACES_PATH):
                spans = decode(raw, self.headers.get("Content-Encoding"))
                with fake.lock:
                    fake.spans += spans
                    fake.calls.append((method, self.path, None))
                payload = ExportTraceServiceResponse().SerializeToString()
                self._send(payload, "application/x-protobuf")
                return
            body = json.loads(raw) if raw else None
            with fake.lock:
                fake.calls.append((method, self.path, body))
            self._send(json.dumps(_answer(method, self.path, body)).encode(), "application/json")

        def _send(self, payload: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _case(case_id: str, category: str) -> Scenario:
    return Scenario.model_validate(
        {
            "id": case_id,
            "title": case_id,
            "category": category,
            "difficulty": "easy",
            "turns": [{"say": "hi", "facts": ["hello"]}],
        }
    )


def _run() -> SuiteRun:
    cases = [_case("case-a", "actions"), _case("case-b", "safety")]
    results = [
        CaseResult("case-a", "actions", "easy", 0, True, steps=2),
        CaseResult("case-a", "actions", "easy", 1, False, reasons=["x"], steps=4),
        CaseResult("case-b", "safety", "easy", 0, True, violations=["v"]),
        CaseResult("case-b", "safety", "easy", 1, True),
    ]
    options = RunOptions(runs=2, choice=ModelChoice(), progress=False)
    return SuiteRun(cases, results, options, wall_seconds=1.0)


def test_without_langfuse_settings_nothing_is_uploaded(tmp_path: Any) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert LangfuseTarget.from_settings(settings) is None
    partial = settings.model_copy(update={"langfuse_host": "http://127.0.0.1:9"})
    assert LangfuseTarget.from_settings(partial) is None


def test_a_run_is_uploaded_as_a_dataset_run_with_scores_per_item() -> None:
    key = f"pk-eval-{uuid.uuid4().hex[:8]}"
    with fake_langfuse() as fake:
        target = LangfuseTarget(fake.url, key, "sk-eval-secret")
        info = upload(_run(), target, run_name="offline nightly")

    assert info["dataset"] == DATASET and info["items"] == 2
    assert info["run_name"] == "offline nightly"
    assert [b["name"] for b in fake.bodies("POST", "/api/public/v2/datasets")] == [DATASET]
    items = fake.bodies("POST", "/api/public/dataset-items")
    assert sorted(i["id"] for i in items) == [
        item_id(DATASET, "case-a"),
        item_id(DATASET, "case-b"),
    ]
    assert {i["metadata"]["category"] for i in items} == {"actions", "safety"}
    assert items[0]["expectedOutput"]["facts"] == ["hello"]

    scores = [s for batch in fake.bodies("POST", "/api/public/scores") for s in batch]
    by_name: dict[str, list[float]] = {}
    for score in scores:
        by_name.setdefault(score["name"], []).append(score["value"])
    assert sorted(by_name["pass_at_1"]) == [0.5, 0.75, 1.0]  # two items and the run
    assert sorted(by_name["pass_hat_k"]) == [0.0, 0.5, 1.0]
    assert sorted(by_name["safety_violations"]) == [0.0, 1.0, 1.0]
    assert {
        "tool_precision",
        "tool_recall",
        "argument_accuracy",
        "steps",
        "tokens",
        "latency_s",
    } <= set(by_name)
    run_scores = [s for s in scores if s.get("datasetRunId")]
    assert {s["name"] for s in run_scores} == {
        "pass_at_1",
        "pass_at_k",
        "pass_hat_k",
        "safety_violations",
    }

    runs = [s for s in fake.spans if s.name == "experiment-item-run"]
    assert len(runs) == 2
    linked = {str(s.attributes.get("langfuse.experiment.item.id")) for s in runs}
    assert linked == {item_id(DATASET, "case-a"), item_id(DATASET, "case-b")}
