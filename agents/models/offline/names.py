"""Where a request names things: the workspace, the project, the application, its owner.

Patterns read a name from where English puts it ("restart web", "the staging workspace",
"worker's logs", "500s from cart"). They only propose: the planner checks a guess that is an
ordinary word against what exists before it acts on it (see ``resolve``). ``candidates`` lists
every word of the request that could be a name, most likely first.
"""

from __future__ import annotations

import re

from agents.models.offline.language import (
    NAME,
    NUMBER_WORDS,
    STOPWORDS,
    compiled,
    first_name,
    is_name,
)
from agents.models.offline.vocabulary import is_common

Q = r"['\"`]?"
APP_NOUN = r"(?:app|application|deployment|service|workload|svc|deploy)"
FILLER = rf"(?:(?:up|down|out|in|back)\s+)?(?:(?:the|my|our|a|an)\s+)?(?:{APP_NOUN}\s+)?"
TROUBLE_VERBS = (
    r"(?:keeps|kept|is|isn't|has|hasn't|won't|doesn't|can't|seems|looks|was|got|gets|went"
    r"|started|stopped|throws|returns|fails)"
)
# what a name's possessive is followed by when the name is the application ("web's logs")
ATTRIBUTES = (
    r"(?:status|health|logs?|events?|metrics|replicas|pods?|cpu|memory|ram|latency|errors?"
    r"|image|version|tag|config|state|restarts|usage|traffic|build|output|performance"
    r"|response|p\d\d|containers?|deployment|service|limits?|resources|revision|rollout)\b"
)
PLACE_NOUN = r"(?:workspace|ws|vcluster)"
PROJECT_NOUN = r"(?:project|namespace|ns)"
_BEFORE_PLACE = r"(?:in|on|from|of|for|at|to|into|the|our|my|whole|entire)"
_TOKEN = re.compile(rf"(?<![\w./:@='-]){NAME}(?![\w/:@=-]|\.\w)")
_MEASURE = re.compile(r"\d+[a-z]{0,3}|p\d\d|[a-z]\d?")
# code and commands (a backtick span with a space in it) name nothing
_SPANS = re.compile(r"```.*?```|`[^`]*\s[^`]*`", re.S)


def workspace_of(text: str) -> str | None:
    return _place(text, PLACE_NOUN)


def project_of(text: str) -> str | None:
    return _place(text, PROJECT_NOUN)


def _place(text: str, noun: str) -> str | None:
    found = first_name(
        text,
        [
            rf"\b{noun}\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
            rf"\b{_BEFORE_PLACE}\s+(?:the\s+)?{Q}(?P<name>{NAME}){Q}\s+{noun}\b",
            rf"^{Q}(?P<name>{NAME}){Q}\s+{noun}\b",
        ],
    )
    return found if found and not is_common(found) else None


def place_names(text: str) -> set[str]:
    return {n for n in (workspace_of(text), project_of(text)) if n}


def app_of(text: str, verbs: str = "") -> str | None:
    """The application a pattern finds (possibly an ordinary word: check it before acting)."""
    patterns = []
    if verbs:
        patterns.append(rf"\b(?:{verbs})\s+{FILLER}{Q}(?P<name>{NAME}){Q}")
    patterns += [
        rf"\b{APP_NOUN}s?\s+(?:called\s+|named\s+)?{Q}(?P<name>{NAME}){Q}",
        rf"{Q}(?P<name>{NAME}){Q}\s+{APP_NOUN}\b",
        rf"\b(?P<name>{NAME})'s(?:\s+(?:own\s+)?{ATTRIBUTES}|\s*[?.!]?$)",
        rf"\b{Q}(?P<name>{NAME}){Q}\s*[-:,]?\s+{ATTRIBUTES}",
        rf"\b(?:the|my|our)\s+{Q}(?P<name>{NAME}){Q}\s+{TROUBLE_VERBS}\b",
        rf"^{Q}(?P<name>{NAME}){Q}\s+{TROUBLE_VERBS}\b",
        rf"\b(?:of|for|from|on|in|with|about|is|does|did|has|are)\s+{FILLER}{Q}(?P<name>{NAME}){Q}",
        rf"^{Q}(?P<name>{NAME}){Q}\s*[-:,?]",
    ]
    places = place_names(text)
    return best_name(text, patterns, exclude=places)


def best_name(text: str, patterns: list[str], exclude: set[str] | None = None) -> str | None:
    """The first name the patterns capture that is not an ordinary word (else the first)."""
    found = [n for n in _all_names(text, patterns) if n not in (exclude or set())]
    uncommon = [n for n in found if not is_common(n)]
    return next(iter(uncommon or found), None)


def _all_names(text: str, patterns: list[str]) -> list[str]:
    """Every name any pattern captures, in pattern order, then in order of appearance."""
    names = []
    for pattern in patterns:
        for match in compiled(pattern).finditer(text):
            name = match.group("name").strip("'\".,:;!?()")
            if is_name(name) and not _is_quantity(name) and name not in names:
                names.append(name)
    return names


def owner_of(text: str) -> tuple[str, str] | None:
    """``(owner, name)`` for "globex's api": a possessive naming whose thing it is."""
    pattern = rf"\b(?P<owner>{NAME})'s\s+(?:own\s+)?{Q}(?P<name>{NAME}){Q}"
    for match in compiled(pattern).finditer(text):
        owner, name = match.group("owner"), match.group("name")
        if is_name(owner) and not is_common(owner) and is_name(name) and not is_common(name):
            return owner, name
    return None


def candidates(text: str, first: str | None = None) -> list[str]:
    """Every word that could name something, ``first`` (a pattern's pick) first.

    Ordinary words, numbers, quantities, places and anything inside quotes, paths or image
    references are left out.
    """
    places = place_names(text)
    plain = _SPANS.sub(" ", text)
    found = [first] if first and not is_common(first) and not _is_quantity(first) else []
    for match in _TOKEN.finditer(plain):
        word = match.group(0)
        if (
            word in found
            or word in places
            or word in STOPWORDS
            or is_common(word)
            or _is_quantity(word)
        ):
            continue
        found.append(word)
    return found


def _is_quantity(word: str) -> bool:
    return word in NUMBER_WORDS or _MEASURE.fullmatch(word) is not None
