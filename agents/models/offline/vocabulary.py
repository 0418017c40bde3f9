"""The words of requests, as opposed to the names of things.

A request names an application, a CronJob or a workspace among ordinary words: "customers are
getting 500 errors from cart", "search is missing replicas since the drain". ``COMMON`` holds
words that are never taken for a name unless something with that name actually exists (the
planner checks against the listing), so "getting", "missing" or "release" are never guessed.
Names of typical services (web, api, cart, search, backup, ...) are deliberately absent.

``KEYWORDS`` are the words detection relies on; a token one typing slip away from one of them
("scael", "lsit", "worksapces", "replcias") is read as that keyword.
"""

from __future__ import annotations

import re
from functools import lru_cache

_COMMON_TEXT = """
a about above across actually after afternoon again against ago ahead all almost alright along
already also although always am an and another any anymore anyone anything anyway anywhere app
application applications apps are around as asap ask asked at available away awful back bad
badly be because been before behind being below better between big bit both broke broken
busy but by can cannot cant could couldn current currently customer customers daily day days
dead deal degraded deployed did didn different do does doesn doing don done down during each
early either else emergency empty enough entire especially even evening ever every everyone
everything exactly fail failed failing fails fast fine first for forever from full further get
gets getting give given go goes going gone good got great had happen happened happening has
hasn have haven having he hello help her here hers hey hi high him his hmm hour hours how however
huge i if im in instead into is isn it its itself just keep keeps kind know last late lately
later latest least less let lets like little long look looking looks lot lots low made make
many may maybe me mean might mind minute minutes missing moment more morning most much must my
myself near need needed needs never new next nice night no none nope not nothing now of off ok
okay old on once one only or other others our ours out over own past people perhaps please pls
plz possible pretty previous probably problem problems quick quickly quite rather really
recent recently regarding right same second seconds see seem seems seen several she should
since slow slowly so some someone something sometimes soon sorry still stuff such sure take
taking tell than thank thanks that the their them then there these they thing things think
this those though through till time times to today together tomorrow tonight too totally
trouble truly try trying twice under unless until up upon us very via want wanted wants was
wasn way we week weekend well went were weren what whatever when where whether which while who
whole whom whose why will with within without won wonder work worked working works would
wouldn wrong yeah year yes yesterday yet you your yours
able above acting added afraid almost apparently appears ask assume bunch certainly checked
clearly completely constantly couple creeping crazy definitely ends entirely expected extremely
fairly finally fully generally guys hopefully immediately indeed keeps likely literally manually
mostly nearly normally obviously often okay once particularly perfectly personally properly
randomly rarely regularly repeatedly seemingly seriously simply slightly somehow suddenly super
terribly tbh typically usually weird weirdly wonderful
status state health healthy unhealthy info information details detail overview summary
version versions tag tags image images revision revisions release releases rollout rollouts
deploy deploys deployment deployments service services workload workloads pod pods container
containers replica replicas instance instances copy copies node nodes drain cluster clusters
workspace workspaces project projects namespace namespaces cronjob cronjobs cron job jobs
function functions build builds code source command commands schedule scheduled run runs ran
running log logs logging logged output event events warning warnings error errors exception
exceptions metric metrics cpu memory ram disk latency p50 p90 p95 p99 traffic throughput load
usage bill billing cost costs invoice tokens token llm ai requests request rate responses
response quota quotas limit limits capacity resources resource autoscaling hpa anomaly
anomalies spike spikes timeout timeouts upstream config configuration settings
restart restarts restarted restarting scale scaled scaling rollback revert reverted undo fix
fixed repair remediate resolve sort solve handle investigate diagnose debug troubleshoot
check inspect describe show list display print fetch read find tell give bump set raise lower
increase decrease add remove delete destroy drop nuke wipe kill killed oom oomkilled crash
crashes crashed crashing crashloop leak leaking leaks pending stuck timing dying dies died
trigger kick start started stop stopped create created provision invoke call deploying
redeploy ship publish update change changed edited correct correctly bounce cycle recycle
reboot happen healthcheck readiness liveness probe probes traffic peak ready running
roll put using use used compare won didn hasn shouldn aren named called burn
burned month months year line lines mention mentions min mins sec secs wait leave engineer
responsibility on-call oncall team boss manager colleague guy folks overview hand note notes word
few couple python bash sh shell script curl image latest stable
saturated throwing throws loop whats noticed notice unusual odd strange anomaly site
"""
COMMON: frozenset[str] = frozenset(_COMMON_TEXT.split())

KEYWORDS: frozenset[str] = frozenset(
    [
        "scale",
        "rescale",
        "restart",
        "rollback",
        "revert",
        "deploy",
        "redeploy",
        "delete",
        "remove",
        "create",
        "provision",
        "list",
        "show",
        "describe",
        "status",
        "replicas",
        "replica",
        "instances",
        "workspace",
        "workspaces",
        "project",
        "projects",
        "application",
        "applications",
        "deployment",
        "deployments",
        "service",
        "services",
        "function",
        "functions",
        "cronjob",
        "cronjobs",
        "schedule",
        "trigger",
        "invoke",
        "logs",
        "events",
        "metrics",
        "memory",
        "latency",
        "usage",
        "billing",
        "tokens",
        "autoscale",
        "autoscaling",
        "resources",
        "limit",
        "please",
        "investigate",
        "diagnose",
        "failing",
        "broken",
        "crashing",
        "restarting",
        "healthy",
        "running",
        "version",
        "image",
        "the",
        "what",
        "which",
    ]
)

# a whole word: not part of a hyphenated name, a path, an image or a host
_WORD = re.compile(r"(?<![\w./:@`'-])[a-z]+(?![\w./:@`'-])")


def near(word: str, target: str) -> bool:
    """One typing slip apart: two neighbours swapped, or (for longer words) one letter off."""
    if word == target:
        return True
    if len(word) == len(target):
        diff = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            i, j = diff
            return word[i] == target[j] and word[j] == target[i]
        return len(diff) == 1 and len(word) >= 6
    if abs(len(word) - len(target)) != 1 or min(len(word), len(target)) < 5:
        return False
    short, long_ = sorted((word, target), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


@lru_cache(maxsize=4096)
def _correction(word: str) -> str:
    if word in KEYWORDS or word in COMMON or len(word) < 3:
        return word
    matches = [k for k in KEYWORDS if abs(len(k) - len(word)) <= 1 and near(word, k)]
    return matches[0] if len(matches) == 1 else word


def correct_typos(text: str) -> str:
    """``text`` with words one slip away from a keyword replaced by it ("scael" -> "scale")."""
    return _WORD.sub(lambda m: _correction(m.group(0)), text)


def is_common(word: str) -> bool:
    return word in COMMON
