"""Redaction masks secrets and leaves plain counts alone."""

from __future__ import annotations

import pytest

from tools.redaction import MARK, redact


@pytest.mark.parametrize(
    "text",
    [
        "- llm_tokens_in: 182,000",
        "- llm_tokens_out: 24000",
        "max_tokens=4096",
        "prompt_tokens: 1,234,567",
        "LLM tokens in: 182,000",
    ],
)
def test_a_count_of_tokens_is_not_a_secret(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('token: "xoxb-1234567890-abcdefghij"', "xoxb-1234567890"),
        ("slack_token=xoxb-1234567890-abcdefghij", "xoxb-1234567890"),
        ("token: 123456", "123456"),
        ("password=123456", "123456"),
        ("api_token=abc123def456", "abc123def456"),
        ("llm_tokens_in: not-a-number-secret", "not-a-number-secret"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
        ("DATABASE_URL=postgres://app:hunter2-Sup3rSecret@db:5432/shop", "hunter2-Sup3rSecret"),
    ],
)
def test_real_secrets_are_still_masked(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked and MARK in masked
