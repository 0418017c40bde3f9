"""Reading plain requests: names, numbers, durations, cron schedules.

The offline planner understands requests as people write them ("scale web to 3", "bump api up
to five replicas", "logs of worker from the last 10 minutes"), without a model. Everything here
is deliberately general: patterns of English, never particular sentences.
"""

from __future__ import annotations

import re
from functools import lru_cache

NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "a": 1,
    "an": 1,
    "a couple of": 2,
    "a few": 3,
    "single": 1,
    "double": 2,
    "few": 3,
    "couple": 2,
    "couple of": 2,
    "several": 3,
}
NAME = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
STOPWORDS = frozenset(
    """
    a an the it its this that these those my our your their all any some every each app apps
    application applications deployment deployments service services workload workloads pod
    pods container containers replica replicas instance instances copy copies workspace
    workspaces project projects namespace namespaces cronjob cronjobs job jobs function
    functions cluster clusters please now to from in on of for with by at and or is are was
    were be been being do does did has have had what why how who which when where up down out
    back logs log events event metrics metric status health details again me us i you we they
    he she them there here yes no not failing broken slow crashing running doing working
    healthy unhealthy ok okay fine alive ready available degraded deployed last latest previous
    new current first today yesterday something anything everything show list get give tell
    many much
    display see view print fetch read find recent latest all cpu memory ram latency traffic
    error errors rate usage load
    """.split()  # noqa: SIM905 - a word list reads best as words
)

_DURATION = re.compile(
    r"\b(?:(?P<n>\d+|an?|one|two|three|four|five|six|ten|twelve|twenty|thirty|few|couple of"
    r"|couple|several)\s*)?"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?|m|h|d|w)\b",
    re.I,
)
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}
_RELATIVE = re.compile(r"\b(last|past|previous|since|recent|within)\b")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def normalize(text: str) -> str:
    """Lower-case, straight quotes, single spaces; code blocks are kept verbatim elsewhere."""
    return " ".join(text.translate(_QUOTES).lower().split())


# A word boundary that treats a hyphen as part of the word: "billing-api" holds no "billing".
_BOUNDARY = r"(?:(?<![\w-])(?=\w)|(?<=\w)(?![\w-]))"


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> re.Pattern[str]:
    """``pattern`` with every ``\\b`` read as a hyphen-aware word boundary."""
    return re.compile(pattern.replace(r"\b", _BOUNDARY))


def has(text: str, pattern: str) -> bool:
    return compiled(pattern).search(text) is not None


def search(text: str, pattern: str) -> re.Match[str] | None:
    return compiled(pattern).search(text)


def number(token: str) -> int | None:
    token = token.strip().lower()
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token)


def is_name(token: str | None) -> bool:
    return bool(token) and re.fullmatch(NAME, token or "") is not None and token not in STOPWORDS


def first_name(text: str, patterns: list[str]) -> str | None:
    """The first name captured by any pattern (group ``name``) that is not a stop word."""
    for pattern in patterns:
        for match in compiled(pattern).finditer(text):
            candidate = match.group("name").strip("'\".,:;!?()")
            if candidate.endswith("'s"):
                candidate = candidate[:-2]
            if is_name(candidate):
                return candidate
    return None


def minutes(text: str, default: int | None = None) -> int | None:
    """A duration mentioned in the text, in minutes ("last 2 hours" -> 120, "past hour" -> 60).

    A bare unit counts only after "last", "past", ...; a number with a unit always counts.
    """
    for match in _DURATION.finditer(text):
        raw = match.group("n")
        amount = number(raw) if raw else None
        if amount is None:
            before = text[max(0, match.start() - 25) : match.start()]
            if not _RELATIVE.search(before):
                continue
            amount = 1
        elif not raw.isdigit() and not _RELATIVE.search(
            text[max(0, match.start() - 25) : match.start()]
        ):
            continue
        return amount * _UNIT_MINUTES[match.group("unit")[0].lower()]
    return default


def count_after(text: str, nouns: str) -> int | None:
    """``N <noun>`` or ``<noun> ... N`` as in "50 lines", "3 replicas"."""
    match = re.search(rf"\b(\d+|{'|'.join(map(re.escape, NUMBER_WORDS))})\s+(?:{nouns})\b", text)
    if match:
        return number(match.group(1))
    return None


_EVERY = re.compile(r"every\s+(?P<n>\d+|other)?\s*(?P<unit>minutes?|mins?|hours?|days?)", re.I)
_AT = re.compile(r"\b(?:at|@)\s*(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>am|pm)?", re.I)
_WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]


def cron_schedule(text: str) -> str | None:
    """A 5-field cron expression given literally or described ("every day at 3am")."""
    literal = re.search(r"(?:'|\"|`)((?:[\d*/,-]+\s+){4}[\d*/,-]+)(?:'|\"|`)", text)
    if literal:
        return literal.group(1)
    bare = re.search(r"(?<![\w*/,-])((?:[\d*/,-]+\s+){4}[\d*/,-]+)(?![\w*/,-])", text)
    if bare:
        return bare.group(1)
    hour, minute = _time_of_day(text)
    if match := _EVERY.search(text):
        unit = match.group("unit")[0]
        step = match.group("n")
        n = 2 if step == "other" else int(step) if step else 1
        if unit == "m":
            return f"*/{n} * * * *" if n > 1 else "* * * * *"
        if unit == "h":
            return f"{minute} */{n} * * *" if n > 1 else f"{minute} * * * *"
        return f"{minute} {hour} */{n} * *" if n > 1 else f"{minute} {hour} * * *"
    if re.search(r"\b(hourly|every hour)\b", text):
        return f"{minute} * * * *"
    if re.search(r"\b(daily|every day|each day|nightly|every night)\b", text):
        return f"{minute} {hour} * * *"
    for index, day in enumerate(_WEEKDAYS):
        if re.search(rf"\b(every|each|on)\s+{day}s?\b", text):
            return f"{minute} {hour} * * {index}"
    if re.search(r"\b(weekly|every week)\b", text):
        return f"{minute} {hour} * * 0"
    if re.search(r"\b(monthly|every month)\b", text):
        return f"{minute} {hour} 1 * *"
    return None


def _time_of_day(text: str) -> tuple[int, int]:
    match = _AT.search(text)
    if not match:
        return (3 if re.search(r"\b(night|nightly)\b", text) else 0), 0
    hour = int(match.group("h")) % 24
    if match.group("ampm") and match.group("ampm").lower() == "pm" and hour < 12:
        hour += 12
    if match.group("ampm") and match.group("ampm").lower() == "am" and hour == 12:
        hour = 0
    return hour, int(match.group("m") or 0)


def code_block(text: str) -> str | None:
    """The first fenced code block of the (original, not normalized) message."""
    match = re.search(r"```(?:python|py)?\s*\n(?P<code>.*?)```", text, re.S)
    return match.group("code") if match else None
