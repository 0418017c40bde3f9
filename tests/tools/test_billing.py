"""How get_usage writes the meters: as words and counts, which survive redaction."""

from __future__ import annotations

from tools.billing import usage_lines
from tools.redaction import redact


def test_meters_read_as_words_with_their_counts() -> None:
    totals = {
        "llm_tokens_in": 182_000,
        "llm_tokens_out": 24_000,
        "tool_calls": 340,
        "workspace_hours": 0,
        "function_invocations": 0,
    }
    limits = {
        "llm_tokens_per_month": (206_000, 5_000_000),
        "function_invocations_per_month": (0, None),
    }
    text = redact("\n".join(usage_lines(totals, limits)))
    assert "- LLM tokens in: 182,000" in text
    assert "- LLM tokens out: 24,000" in text
    assert "- LLM tokens (in + out): 206,000" in text
    assert "- tool calls: 340" in text
    assert "this period LLM tokens per month: 206,000 of 5,000,000" in text
    assert "function invocations per month: 0 (unlimited)" in text
    assert "[REDACTED]" not in text
