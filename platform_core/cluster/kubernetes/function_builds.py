"""The build records of functions and the views made from them.

A deploy creates, in the function's namespace:

* the ServiceAccount ``<name>-runtime`` (``manifests.function_service_account``: no token, no
  role) - created once, it also marks when the function was first deployed;
* the build context ConfigMap ``<name>-build-<n>-context`` (handler, runtime, Dockerfile), which
  is also the build's durable record: its annotations hold the deployed ``FunctionSpec`` (minus
  the source, which is the ConfigMap's ``handler.py``), the image, the source hash and, once
  seen, the build's outcome. The Kaniko Job is owned by it and deleted by its TTL an hour after
  it finished, so the outcome has to live somewhere that stays;
* the Kaniko Job ``<name>-build-<n>`` (``manifests.kaniko_build_job``).

The ConfigMap is created just before its Job, so a Job that is missing right after is still on
its way (``JOB_GRACE``); only later does a missing Job mean its outcome was never seen.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from platform_core.cluster.kubernetes.objects import (
    annotations_of,
    condition,
    created,
    labels,
    parse_time,
    status,
)
from platform_core.cluster.schemas import BuildStatus, FunctionBuild, FunctionSpec

Obj = dict[str, Any]
LABEL_BUILD = "hexabase.io/build"
ANNOTATION_SPEC = "hexabase.io/function-spec"
ANNOTATION_IMAGE = "hexabase.io/image"
ANNOTATION_SHA = "hexabase.io/source-sha256"
ANNOTATION_OUTCOME = "hexabase.io/build-status"
ANNOTATION_FINISHED = "hexabase.io/build-finished-at"
ANNOTATION_MESSAGE = "hexabase.io/build-message"
ANNOTATION_DEPLOYED = "hexabase.io/deployed"
MAX_BUILDS = 10
JOB_GRACE = timedelta(minutes=5)
_ERROR_LINE = re.compile(r"^\s*[A-Za-z_][\w.]*(Error|Exception)\b.*")


@dataclass
class Build:
    number: int
    config: Obj
    spec: FunctionSpec
    image: str
    sha: str
    status: BuildStatus
    started: datetime
    finished: datetime | None
    message: str

    @property
    def job_name(self) -> str:
        return f"{self.spec.name}-build-{self.number}"

    def view(self) -> FunctionBuild:
        return FunctionBuild(
            job_name=self.job_name,
            status=self.status,
            image=self.image,
            source_sha256=self.sha,
            started_at=self.started,
            finished_at=self.finished,
            message=self.message,
        )


def build_number(config: Obj) -> int:
    try:
        return int(labels(config).get(LABEL_BUILD, "0"))
    except ValueError:
        return 0


def record_annotations(spec: FunctionSpec, image: str, sha: str) -> dict[str, str]:
    return {
        ANNOTATION_SPEC: spec.model_dump_json(exclude={"source"}),
        ANNOTATION_IMAGE: image,
        ANNOTATION_SHA: sha,
    }


def recorded_spec(config: Obj) -> FunctionSpec:
    data = json.loads(annotations_of(config).get(ANNOTATION_SPEC, "{}"))
    data["source"] = (config.get("data") or {}).get("handler.py", "")
    return FunctionSpec.model_validate(data)


def job_outcome(job: Obj | None) -> BuildStatus:
    if job is None:
        return "Failed"
    for kind, outcome in (("Complete", "Succeeded"), ("Failed", "Failed")):
        found = condition(job, kind)
        if found is not None and found.get("status") == "True":
            return outcome  # type: ignore[return-value]  # a BuildStatus literal
    return "Running"


def job_finished(job: Obj) -> datetime | None:
    for kind in ("Complete", "Failed"):
        found = condition(job, kind)
        if found is not None and found.get("status") == "True":
            return parse_time(status(job).get("completionTime")) or parse_time(
                found.get("lastTransitionTime")
            )
    return None


def failure_message(log: list[str]) -> str:
    """The line of a failed build's log that says why (Python's error, else the last line)."""
    errors = [line.strip() for line in log if _ERROR_LINE.match(line)]
    if errors:
        return errors[-1]
    return next((line.strip() for line in reversed(log) if line.strip()), "build failed")


def build_from(config: Obj, job: Obj | None, now: datetime) -> Build:
    """The build recorded by ``config``, with its outcome from the record or from ``job``."""
    notes = annotations_of(config)
    spec = recorded_spec(config)
    recorded = notes.get(ANNOTATION_OUTCOME)
    if recorded in {"Succeeded", "Failed"}:
        outcome: BuildStatus = recorded  # type: ignore[assignment]
        finished = parse_time(notes.get(ANNOTATION_FINISHED))
        message = notes.get(ANNOTATION_MESSAGE, "")
    elif job is None and now - created(config) < JOB_GRACE:
        outcome, finished, message = "Running", None, "waiting for the build Job"
    else:
        outcome = job_outcome(job)
        finished = job_finished(job) if job is not None else None
        message = "" if job is not None else "the build Job ended before its outcome was seen"
    started = created(config)
    if job is not None:
        started = parse_time(status(job).get("startTime")) or created(job)
    return Build(
        number=build_number(config),
        config=config,
        spec=spec,
        image=notes.get(ANNOTATION_IMAGE, ""),
        sha=notes.get(ANNOTATION_SHA, ""),
        status=outcome,
        started=started,
        finished=finished,
        message=message,
    )
