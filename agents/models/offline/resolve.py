"""Which application (CronJob, function, workspace) a request means, checked against what exists.

A name the request states plainly ("restart web") is used as it is. When the request is less
clear - the pattern's pick is an ordinary word ("customers are getting 500s from cart"), there
are several unknown words, or "it" may point back to an earlier turn - the planner lists what
exists and picks the one the request mentions: exactly, by a typing slip, or by a part of a
hyphenated name. It never acts on a guess: nothing that matches means a question back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agents.models.offline.actions import Action, Call, Say
from agents.models.offline.conversation import REFERS_BACK, Conversation, Step
from agents.models.offline.intent import Intent
from agents.models.offline.language import has, search
from agents.models.offline.vocabulary import is_common, near


@dataclass(frozen=True)
class Kind:
    noun: str
    lister: str
    memory: str
    """The key ``Conversation.remembered`` knows this kind by."""


APPS = Kind("application", "list_applications", "application")
CRONJOBS = Kind("CronJob", "list_cronjobs", "cronjob")
FUNCTIONS = Kind("function", "list_functions", "function")
WORKSPACES = Kind("workspace", "list_workspaces", "workspace")

_LISTED = re.compile(r"^- ([a-z0-9][a-z0-9-]*):", re.M)


def listed(step: Step) -> list[str]:
    return _LISTED.findall(step.body()) if step.ok else []


def resolve(
    kind: Kind,
    intent: Intent,
    convo: Conversation,
    tools: set[str],
    *,
    named: str | None,
    place: dict[str, Any],
    write: bool = False,
) -> str | Action:
    """The name to act on, or the action that finds it out (a listing, a question)."""
    listing = convo.last(kind.lister)
    if listing is not None and listing.status is not None:
        return _from_listing(kind, intent, convo, listing, named, write=write)
    missing = convo.not_found()
    unknown = [c for c in intent.candidates if c not in missing]
    back = has(intent.text, REFERS_BACK)
    remembered = convo.remembered(kind.memory)
    if missing and kind.lister in tools:
        return Call(kind.lister, place)  # a name tried this turn does not exist: look
    if named and not is_common(named) and set(unknown) <= {named}:
        return named
    if remembered and not unknown and (back or not named):
        return remembered
    if not named and len(unknown) == 1 and not (back and remembered):
        return unknown[0]
    if kind.lister in tools:
        return Call(kind.lister, place)
    guess = named or (unknown[0] if unknown else remembered)
    return guess or Say(f"Which {kind.noun} do you mean? Please give its name.")


def _from_listing(
    kind: Kind,
    intent: Intent,
    convo: Conversation,
    listing: Step,
    named: str | None,
    *,
    write: bool,
) -> str | Action:
    names = listed(listing)
    choice = pick(names, named, intent.candidates, intent.text)
    if choice:
        return choice
    remembered = convo.remembered(kind.memory)
    if remembered and (has(intent.text, REFERS_BACK) or not intent.candidates):
        return remembered
    if len(names) == 1 and not named and not intent.candidates and not write:
        return names[0]
    if not listing.ok:
        return Say(f"I could not list the {kind.noun}s: {listing.body().strip()}")
    guess = named if named and not is_common(named) else next(iter(intent.candidates), None)
    seen = f" I see: {', '.join(names)}." if names else f" There are no {kind.noun}s there."
    if guess:
        article = "an" if kind.noun[0] in "aeiou" else "a"
        return Say(f"I can't find {article} {kind.noun} called {guess!r}.{seen}")
    return Say(f"Which {kind.noun} do you mean?{seen}")


def pick(names: list[str], named: str | None, unknown: list[str], text: str) -> str | None:
    """The listed name the request means, if it means exactly one."""
    if not names:
        return None
    for candidate in ([named] if named else []) + unknown:
        if candidate in names:
            return candidate
    mentioned = sorted(
        (match.start(), name)
        for name in names
        if (match := search(text, rf"\b{re.escape(name)}\b")) is not None
    )
    if mentioned:
        return mentioned[0][1]
    for candidate in unknown:
        if len(candidate) < 4:
            continue
        close = [name for name in names if near(candidate, name)]
        parts = [name for name in names if candidate in name.split("-")]
        for found in (close, parts):
            if len(found) == 1:
                return found[0]
    return None


def owner_check(intent: Intent, convo: Conversation, tools: set[str]) -> Action | str | None:
    """For "globex's api": the workspace the owner names, or why there is nothing to show.

    Only the caller's own organization is visible; a name that is none of its workspaces is
    answered as not visible, without saying whether such a thing exists elsewhere.
    """
    owner = intent.owner
    if not owner or owner == convo.organization or intent.workspace:
        return None
    listing = convo.last(WORKSPACES.lister)
    if listing is None:
        return Call(WORKSPACES.lister, {}) if WORKSPACES.lister in tools else None
    names = listed(listing)
    if owner in names:
        return owner
    mine = f" Your organization's workspaces: {', '.join(names)}." if names else ""
    return Say(
        f"I can only see your own organization, and {owner!r} is not one of its workspaces, "
        f"so that is not visible to you and I can't look at it.{mine}"
    )
