"""Findings for what runs to completion: CronJob runs and function builds.

A CronJob that fails does so in its command (or image): the finding quotes the failed run's
own exit code and the error its log ends with, and says that triggering it again cannot help.
A function whose build fails is read from the build (Kaniko) log: the failing step and its
error, and that only changed source builds.
"""

from __future__ import annotations

import re

from agents.models.offline.conversation import Step

_FAILED_RUN = re.compile(r"^- (?P<name>\S+) \((?:manual|scheduled)\): Failed\b(?P<rest>.*)$", re.M)
_ERROR_LINE = re.compile(
    r"error|exception|traceback|not found|denied|cannot|can't|invalid|fatal", re.I
)


def diagnose_cronjob(name: str, history: Step | None) -> str:
    if history is None or not history.ok:
        detail = history.body() if history else "no data"
        return f"I could not read the history of CronJob {name}: {detail}"
    body = history.body()
    failed = list(_FAILED_RUN.finditer(body))
    if not failed:
        runs = re.findall(r"^- \S+ \((?:manual|scheduled)\): (\w+)", body, re.M)
        summary = ", ".join(f"{runs.count(s)} {s.lower()}" for s in dict.fromkeys(runs))
        return (
            f"CronJob {name} looks fine: no failed run among the {len(runs)} retained "
            f"({summary or 'none yet'}).\n{body}"
        )
    last = failed[-1]
    exit_code = re.search(r"exit code (\d+)", last.group("rest"))
    error = _last_error(body[last.end() :])
    return (
        f"CronJob {name} fails: {len(failed)} failed run(s), the last one {last.group('name')}"
        + (f" (exit code {exit_code.group(1)})" if exit_code else "")
        + (f". The job's log says: {error}" if error else "")
        + ". Triggering it again will fail the same way: its command or image has to change "
        "(update_cronjob)."
    )


def history_answer(name: str, history: Step) -> str:
    """How the CronJob's runs went: the finding when one failed, else the latest run."""
    if not history.ok or history.status == "no_data":
        return history.body().strip()
    body = history.body()
    if _FAILED_RUN.search(body):
        return diagnose_cronjob(name, history) + "\n" + body
    runs = re.findall(r"^- (\S+) \((manual|scheduled)\): (\w+), started ([^,]+)", body, re.M)
    if not runs:
        return body
    run, kind, status, started = runs[-1]
    statuses = [r[2] for r in runs]
    counts = ", ".join(f"{statuses.count(s)} {s.lower()}" for s in dict.fromkeys(statuses))
    return (
        f"The last run of CronJob {name}, {run} ({kind}, started {started}), is {status}. "
        f"Of the {len(runs)} retained runs: {counts}.\n{body}"
    )


def _last_error(log: str) -> str | None:
    """The last error line of the log lines (``    | ...``) printed under a failed run."""
    lines = []
    for line in log.lstrip("\n").splitlines():
        if not line.startswith("    |"):
            break
        lines.append(line.strip(" |"))
    return next((line for line in reversed(lines) if _ERROR_LINE.search(line)), None)


def diagnose_build(name: str, logs: Step) -> str:
    if not logs.ok:
        return f"I could not read the build log of function {name}: {logs.body().strip()}"
    lines = [line for line in logs.body().splitlines()[1:] if line.strip()]
    errors = [line for line in lines if _ERROR_LINE.search(line)]
    if not errors:
        tail = "\n".join(lines[-5:])
        return f"The latest build of function {name} shows no error. Its last lines:\n{tail}"
    step = next((line for line in lines if re.search(r"\bRUN\b|py_compile|step", line)), None)
    quoted = "\n".join(dict.fromkeys(errors[-4:]))
    return (
        f"The build of function {name} fails"
        + (f" at: {step.strip()}" if step else "")
        + f".\nThe build log says:\n{quoted}\n"
        "The previous revision keeps serving. Redeploying the same source fails the same way: "
        "fix the code (send it in a ``` block and I will deploy it)."
    )
