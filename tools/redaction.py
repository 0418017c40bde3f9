"""Remove secrets from text before a model, a trace or a log ever sees it.

Patterns cover what shows up in real pod logs, events, env dumps and connection strings: JWTs and
bearer tokens, this platform's own keys, cloud and SaaS tokens, private keys, credentials inside
URLs, and ``key=value`` / ``"key": "value"`` pairs whose key names a secret.
"""

from __future__ import annotations

import json
import re
from typing import Any

MARK = "[REDACTED]"

_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
)
_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),  # JWT
    re.compile(r"\bhx[air]_[A-Za-z0-9_-]{16,}"),  # this platform's keys and tokens
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{20,}"),  # OpenAI / Stripe style
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{12,}"),
    re.compile(r"(?i)\bbasic\s+[A-Za-z0-9+/=]{12,}"),
)
# scheme://user:password@host -> scheme://user:[REDACTED]@host
_URL_CREDENTIALS = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)(?P<secret>[^\s@/]+)(?=@)"
)
_SENSITIVE_WORDS = (
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|credential|auth)"
)
_SENSITIVE_NAME = rf"(?:[A-Za-z0-9_.-]*{_SENSITIVE_WORDS}[A-Za-z0-9_.-]*)"
_ASSIGNMENT = re.compile(
    rf"(?i)(?P<key>{_SENSITIVE_NAME})(?P<sep>\s*[:=]\s*)(?P<quote>[\"']?)(?P<value>[^\s\"',;&]+)"
)
_JSON_PAIR = re.compile(rf"(?i)(?P<key>\"{_SENSITIVE_NAME}\")(?P<sep>\s*:\s*)\"(?P<value>[^\"]*)\"")


def redact(text: str) -> str:
    """``text`` with every recognised secret replaced by ``[REDACTED]``."""
    if not text or not _might_hold_secret(text):
        return text
    text = _PRIVATE_KEY.sub(MARK, text)
    for pattern in _PATTERNS:
        text = pattern.sub(MARK, text)
    text = _JSON_PAIR.sub(lambda m: f'{m["key"]}{m["sep"]}"{MARK}"', text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['head']}{MARK}", text)
    return _ASSIGNMENT.sub(_mask_assignment, text)


# Literal anchors that every secret above contains: a text with none of them is returned
# untouched after a few substring searches, far cheaper than the patterns themselves.
_ANCHORS = (
    "eyJ",
    "hxa_",
    "hxr_",
    "hxi_",
    "AKIA",
    "ASIA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "xox",
    "sk-",
    "AIza",
    "PRIVATE KEY",
)
_LOWER_ANCHORS = (
    "bearer",
    "basic ",
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
)


def _might_hold_secret(text: str) -> bool:
    if any(anchor in text for anchor in _ANCHORS):
        return True
    if "://" in text and "@" in text:
        return True
    lowered = text.lower()
    return any(anchor in lowered for anchor in _LOWER_ANCHORS)


# A key that counts tokens (``llm_tokens_in``, ``max_tokens``, ``token_count``) rather than holding
# one: with a plain number as its value it is a meter, not a secret.
_COUNT_KEY = re.compile(
    r"(?i)tokens|token[_.-]?(?:count|total|used|usage|limit|in|out)\b"
    r"|(?:max|num|total|prompt|completion|input|output)[_.-]?tokens?"
)
_PLAIN_NUMBER = re.compile(r"\d{1,3}(?:[,_]\d{3})*(?:\.\d+)?|\d+(?:\.\d+)?")


def _mask_assignment(match: re.Match[str]) -> str:
    value = match["value"]
    if value == MARK or value.startswith("["):
        return match.group(0)
    if not match["quote"] and _is_count(match["key"], value, match.string, match.end()):
        return match.group(0)
    return f"{match['key']}{match['sep']}{match['quote']}{MARK}"


def _is_count(key: str, value: str, text: str, end: int) -> bool:
    """``llm_tokens_in: 182,000``: a number under a key that counts tokens is not a secret."""
    if _COUNT_KEY.search(key) is None:
        return False
    # the value pattern stops at a comma: take the thousands groups that follow it too
    rest = re.match(r"(?:,\d{3})*", text[end:])
    whole = value + (rest.group(0) if rest else "")
    return _PLAIN_NUMBER.fullmatch(whole) is not None


def redact_data(value: Any) -> Any:
    """Redact every string inside nested dicts and lists (keys naming a secret lose the value)."""
    if isinstance(value, dict | list) and not _might_hold_secret(json.dumps(value, default=str)):
        return value  # one scan of the whole structure instead of one per string
    return _redact_nested(value)


def _redact_nested(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            key: MARK
            if _is_secret_key(key) and isinstance(item, str) and item
            else _redact_nested(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_nested(item) for item in value]
    return value


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and re.fullmatch(_SENSITIVE_NAME, key, re.I) is not None
