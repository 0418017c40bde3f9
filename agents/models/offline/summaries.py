"""Answers that summarise what the tools returned instead of pasting it back.

A person asking about a log wants the lines that matter (errors, warnings, what they asked
about) and a count of the rest, not kilobytes of access lines; a question about replicas or the
deployed version wants one sentence.
"""

from __future__ import annotations

import re

from agents.models.offline.conversation import Step

SHOW_ALL_LINES = 30
SHOW_NOTABLE = 12
SHOW_LAST = 8
LINE_CHARS = 240
_NOTABLE = re.compile(
    r"level=(?:error|warn\w*|fatal)|\b(?:ERROR|WARN\w*|FATAL|CRITICAL|Traceback|Exception|panic)\b"
    r"|\b\w+Error\b",
)
_HEADER = re.compile(r"^logs of pod (?P<pod>\S+) \((?P<container>[^,]+), (?P<which>[^)]+)\)")


def _clip(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"


def logs_answer(step: Step, *, asked_lines: int | None, topic: str | None) -> str:
    """The log read in a few lines: what matched, what looks wrong, the newest lines."""
    body = step.body().strip()
    if not step.ok or step.status == "no_data":
        if step.status == "no_data" and topic:
            return f"Nothing in the log matches {topic!r}. ({body})"
        return body if step.ok else f"That did not work: {body}"
    header, *lines = body.splitlines()
    match = _HEADER.match(header)
    source = f"the {match.group('which')} of pod {match.group('pod')}" if match else "the log"
    if topic:
        shown = lines[-SHOW_ALL_LINES:]
        more = len(lines) - len(shown)
        return (
            f"{len(lines)} line(s) of {source} match {topic!r}"
            + (f" (the newest {len(shown)} shown)" if more else "")
            + ":\n"
            + "\n".join(_clip(line) for line in shown)
        )
    if (asked_lines is not None and asked_lines <= SHOW_ALL_LINES) or len(lines) <= SHOW_LAST:
        return f"The last {len(lines)} line(s) of {source}:\n" + "\n".join(
            _clip(line) for line in lines
        )
    notable = [line for line in lines if _NOTABLE.search(line)]
    parts = [
        f"I read {len(lines)} line(s) of {source}: {len(notable)} of them are errors or warnings."
    ]
    if notable:
        parts.append(
            "Errors and warnings (newest last):\n"
            + "\n".join(_clip(line) for line in notable[-SHOW_NOTABLE:])
        )
    parts.append(
        f"The newest {SHOW_LAST} lines:\n" + "\n".join(_clip(line) for line in lines[-SHOW_LAST:])
    )
    return "\n".join(parts)


def replicas_answer(app: str, body: str) -> str | None:
    match = re.search(r": (\d+)/(\d+) ready", body)
    if not match:
        return None
    place = re.search(r" in (\S+)$", body.splitlines()[0])
    where = f" in {place.group(1)}" if place else ""
    return f"{app} has {match.group(2)} replicas ({match.group(1)} ready){where}."


def version_answer(app: str, body: str) -> str | None:
    match = re.search(r"image (\S+), revision (\d+)", body.splitlines()[0])
    ready = re.search(r": (\d+/\d+) ready", body)
    if not match:
        return None
    place = re.search(r" in (\S+)$", body.splitlines()[0])
    where = f" in {place.group(1)}" if place else ""
    return f"{app}{where} runs {match.group(1)} (revision {match.group(2)})" + (
        f"; {ready.group(1)} replicas ready." if ready else "."
    )


def describe_answer(body: str) -> str:
    """The description with its routine (Normal) events left out."""
    kept: list[str] = []
    warnings: list[str] = []
    in_events = False
    for line in body.splitlines():
        if line == "recent events:":
            in_events = True
        elif in_events and line.startswith("- "):
            if " Warning " in line:
                warnings.append(line)
        else:
            in_events = False
            kept.append(line)
    if warnings:
        kept += ["recent warnings:", *warnings]
    return "\n".join(kept)
