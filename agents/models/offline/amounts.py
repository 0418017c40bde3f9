"""Amounts in requests: replica counts and changes, CPU and memory quantities, request bodies."""

from __future__ import annotations

import re

from agents.models.offline.language import NUMBER_WORDS, has, number, search

_COUNT = rf"(?P<n>\d+|{'|'.join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True))})"
_UNITS = r"(?:replicas?|instances?|pods?|copies)"


def replicas(text: str) -> int | None:
    """An absolute replica count: "to 3", "5 replicas", "replicas=2"."""
    for pattern in (
        rf"\bto\s+{_COUNT}(?:\s+{_UNITS})?\b",
        rf"\b{_COUNT}\s+{_UNITS}\b",
        r"\breplicas?\s*(?:=|to|:)\s*(?P<n>\d+)",
    ):
        for match in re.finditer(pattern, text):
            value = number(match.group("n"))
            if value is not None and not _is_relative(text, match):
                return value
    return None


def _is_relative(text: str, match: re.Match[str]) -> bool:
    """ "two more replicas" and "by 2" count a change, not a total."""
    after = text[match.end("n") :]
    before = text[: match.start("n")]
    return bool(
        re.match(r"\s+(?:more|fewer|less|extra|additional)\b", after)
        or re.search(r"\bby\s+$", before)
    )


def delta(text: str) -> int | None:
    """A relative change: "by 2", "two more replicas", "2 fewer pods", "add a replica"."""
    down = has(text, r"\b(down|in|reduce|decrease|fewer|less|shrink|lower)\b")
    match = search(text, rf"\b(?:up|down|out|in)?\s*by\s+{_COUNT}\b")
    if match:
        value = number(match.group("n"))
        return None if value is None else (-value if down else value)
    match = search(text, rf"\b{_COUNT}\s+(?P<dir>more|extra|additional|fewer|less)\s+{_UNITS}")
    if match:
        value = number(match.group("n")) or 0
        return -value if match.group("dir") in ("fewer", "less") else value
    match = search(text, rf"\badd\s+{_COUNT}\s+{_UNITS}")
    if match:
        return number(match.group("n"))
    return None


def quantity(text: str, units: str) -> str | None:
    match = re.search(rf"\b(?P<n>\d+(?:\.\d+)?)\s*(?P<m>m)?\s*(?:{units})\b", text)
    if not match:
        return None
    return match.group("n") + ("m" if match.group("m") else "")


def memory(text: str) -> str | None:
    match = re.search(r"\b(?P<n>\d+(?:\.\d+)?)\s*(?P<u>gi|gib|gb|g|mi|mib|mb|m)\b", text)
    if not match:
        return None
    unit = match.group("u")[0]
    return f"{match.group('n')}{'Gi' if unit == 'g' else 'Mi'}"


def body(original: str) -> str:
    """The request body of an invocation: a JSON object, or what follows "with '...'"."""
    match = re.search(r"(\{.*\})", original, re.S)
    if match:
        return match.group(1)
    quoted = re.search(r"\bwith\s+['\"`](?P<s>[^'\"`]*)['\"`]", original)
    return quoted.group("s") if quoted else ""


def command(original: str) -> list[str] | None:
    """A command given in backticks or quotes ("it should run `python /app/report.py`")."""
    match = re.search(r"`(?P<cmd>[^`\n]+)`", original) or re.search(
        r"\b(?:command|run|runs|running|execute|executes)\s+(?:is\s+)?['\"](?P<cmd>[^'\"]+)['\"]",
        original,
        re.I,
    )
    if not match:
        return None
    words = match.group("cmd").split()
    return words or None
