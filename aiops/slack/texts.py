"""What the bot says in its own words (as opposed to the agent's answers)."""

from __future__ import annotations

from aiops.slack.linking import CODE_TTL_SECONDS

LINK_CODES_PATH = "/api/v1/integrations/slack/link-codes"


def link_instruction(public_url: str | None) -> str:
    """Everything an unlinked person is told, and all they are told."""
    where = f" (<{public_url}|{public_url}>)" if public_url else ""
    return (
        "I can only act for people whose Slack account is linked to a Hexabase AIOps user, "
        "and yours is not linked yet.\n"
        f"1. Sign in to Hexabase AIOps{where} and create a one-time code: "
        f'`POST {LINK_CODES_PATH}` with `{{"organization": "<your organization>"}}`.\n'
        "2. Send me the code in a direct message: `link ABCDE-FGHJK`.\n"
        f"A code works once, for {CODE_TTL_SECONDS // 60} minutes. "
        "Accounts are never linked by name or email."
    )


def link_first(public_url: str | None) -> str:
    return "Only linked accounts can decide approvals. " + link_instruction(public_url)


def linked(name: str, email: str | None, organization: str) -> str:
    who = f"*{name}*" + (f" ({email})" if email and email != name else "")
    return (
        f":link: Linked. Here you act as {who} in organization *{organization}*, with exactly "
        "that user's rights. Mention me in a channel or write to me here to ask the agent."
    )


LINK_REFUSED = (
    "That code is unknown, expired or already used. Create a new one and send `link <code>` again."
)
LINK_NO_LONGER_VALID = (
    "That code belongs to a user who is no longer an active member of the organization."
)
LINK_RATE_LIMITED = "Too many link attempts. Wait a few minutes, then try a new code."
LINK_ONLY_IN_DM = (
    "Link codes only work in a direct message with me. That code is now void because others "
    "may have seen it: create a new one and send it to me directly."
)
NOT_YOUR_THREAD = (
    "This thread is another person's conversation with the agent. Mention me in a new "
    "message to start your own."
)
APPROVAL_NOT_FOUND = "That approval was not found (it may have expired)."
TOO_MANY = "Too many requests from your account right now; wait a minute and ask again."


def decision_refused(message: str) -> str:
    return f":no_entry: Not done: {message}"
