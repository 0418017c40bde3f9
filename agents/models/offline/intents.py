"""What a request asks for: the intent and the things it names.

Detection runs from the most specific request to the most general, each intent recognised by
the verbs and nouns people use for it, after typing slips are mended ("scael" -> "scale").
Names, numbers and durations are pulled out of the sentence; ``candidates`` keeps every word
that could be a name, for the planner to check against what exists. Requests that only make
sense after an earlier one ("do the same for api", "make that 4", "run it", "go ahead") are
follow-ups, resolved by the planner from the conversation. Anything else is ``help``, answered
by saying plainly what the planner can do.
"""

from __future__ import annotations

import re

from agents.models.offline.intent import METRIC_NOUNS, Detector, Intent
from agents.models.offline.intents_apps import APP_DETECTORS
from agents.models.offline.intents_objects import OBJECT_DETECTORS
from agents.models.offline.language import has, is_name, minutes, normalize, number, search
from agents.models.offline.names import app_of, candidates, owner_of, project_of, workspace_of
from agents.models.offline.vocabulary import correct_typos

# hyphenated and joined spellings of the verbs detection knows
_SPELLINGS = (
    (r"\broll-back\b", "rollback"),
    (r"\bset-up\b", "set up"),
    (r"\bauto-scal", "autoscal"),
    (r"\bre-deploy", "redeploy"),
    (r"\bre-start", "restart"),
    (r"\bcron-jobs?\b", "cronjob"),
    (r"\bplease\b|\bplz\b|\bpls\b|\bkindly\b", "please"),
)


def canonical(message: str) -> str:
    """The normalized request with typing slips mended."""
    text = normalize(message)
    for pattern, replacement in _SPELLINGS:
        text = re.sub(pattern, replacement, text)
    return correct_typos(text)


def detect(message: str) -> Intent:
    """The intent of ``message`` (the original text; code blocks are read from it)."""
    text = canonical(message)
    detectors: list[Detector] = [
        _conversation,
        _usage,
        *OBJECT_DETECTORS,
        *APP_DETECTORS,
        _follow_up,
    ]
    intent = next((i for d in detectors if (i := d(text, message)) is not None), None)
    if intent is None:  # a greeting is only a greeting when nothing else is asked
        intent = Intent("greeting" if has(text, GREETING) and len(text) < 40 else "help")
    intent.text = text
    intent.workspace = intent.workspace or workspace_of(text)
    intent.project = intent.project or project_of(text)
    owned = owner_of(text)
    if owned and not intent.workspace:
        intent.owner = owned[0]
        if intent.app in (None, owned[0]):
            intent.app = owned[1]
    first = intent.app or intent.name
    intent.candidates = [c for c in candidates(text, first) if c != intent.owner]
    return intent


GREETING = r"^(hi|hello|hey|thanks|thank you|good (morning|afternoon|evening))\b"


def _conversation(text: str, original: str) -> Intent | None:
    if has(text, r"\b(what can you do|help me|how do i use|your capabilities|commands)\b") or (
        text in ("help", "?")
    ):
        return Intent("help")
    if not re.search(r"\d", text) and (
        has(text, r"\b(don't|do not) (do|change|touch|apply|proceed|bother|scale|restart)\b")
        or has(text, r"\bleave (it|them|things|everything)\b|\bcall it off\b")
        or has(text, r"^(cancel|never ?mind|forget it|abort)\b")
    ):
        return Intent("cancel")
    return None


def _usage(text: str, original: str) -> Intent | None:
    billing = has(text, r"\b(billing|bill|invoice|costs?|spend|spent|tokens|token use)\b")
    usage = has(text, r"\busage\b") and not has(text, METRIC_NOUNS)
    if billing or usage:
        return Intent("usage", minutes=minutes(text))
    return None


def _follow_up(text: str, original: str) -> Intent | None:
    """Requests that lean on an earlier one."""
    if has(text, r"\b(put|set|change|bring|turn) (it|that|them|this|\w+) back\b") or has(
        text, r"\bback to (what|where|how) (it|they) (was|were)\b|\bundo (that|it|this)\b"
    ):
        return Intent("revert")
    amount = search(text, r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\b")
    if amount and has(
        text,
        r"\b(make (it|that)|change (it|that) to|instead|actually|rather|go with|let's do)\b",
    ):
        return Intent("amend", replicas=number(amount.group(1)))
    if has(text, r"\b(run|trigger|execute|kick off|start|invoke|call)\s+(it|that|this|them)\b"):
        return Intent("run_it")
    if has(text, r"\b(same|likewise|as well)\b|^(and|what about|how about|also|now)\b"):
        named = app_of(text, "for|to|with|on")
        return Intent("repeat", app=named if is_name(named) else None)
    if has(
        text,
        r"\b(go ahead|do it|proceed|yes|yep|yeah|please do|make it so|go for it|apply (it|that"
        r"|the fix)|just fix it|approved?)\b",
    ):
        return Intent("affirm")
    return None


def mentioned_app(message: str) -> str | None:
    """An application a past message named, for requests like "scale it to 5 instead"."""
    found = app_of(
        canonical(message), "scale|restart|roll ?back|describe|check|investigate|logs of"
    )
    return found if is_name(found) else None
