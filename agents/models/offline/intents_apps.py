"""Requests about applications: changes, diagnosis, and reading their state, logs and metrics."""

from __future__ import annotations

import re

from agents.models.offline.amounts import delta, memory, quantity, replicas
from agents.models.offline.intent import METRIC_NOUNS, Detector, Intent
from agents.models.offline.language import NAME, count_after, first_name, has, minutes
from agents.models.offline.names import Q, app_of, candidates

APP_VERBS = (
    "scale|rescale|resize|restart|bounce|reboot|recycle|roll ?back|rollback|revert|undo|"
    "autoscale|describe|check|inspect|investigate|debug|diagnose|fix|repair|give|set|bump"
)
ROLLBACK = (
    r"\b(roll ?back|rollback|roll (it|that|this|them|\S+) back|revert|undo (the )?(last )?"
    r"(deploy\w*|release|rollout|change|update))\b"
)
TROUBLE = (
    r"\b(why|what'?s wrong|what is wrong|what'?s going on|what'?s up with|investigate|diagnos\w*"
    r"|debug|troubleshoot|root cause|fix|repair|broken|wrong|problems?|issues?|fail\w*|crash\w*"
    r"|not working|down\b"
    r"|unhealthy|errors?|exceptions?|5\d\d|slow\w*|latency|timeouts?|timing out|times out"
    r"|oom\w*|out of memory|killed|leak\w*|creep\w*|keeps? (restarting|dying|growing|climbing)"
    r"|pending|stuck|missing|won't (start|come up)|hang\w*|unavailable)\b"
)
FIX = (
    r"\b(fix|repair|remediate|resolve|make it work|get it (working|back|running)|heal|solve"
    r"|sort (it|this|that|things)? ?(out)?|take care of|mitigate)\b"
)
METRIC_WORDS = (
    r"\b(metrics?|cpu|memory|ram|latency|p\d\d|request rate|traffic|error rate|throughput|load"
    r"|utili[sz]ation|performance|graph|chart|usage)\b"
)
LIST_VERBS = r"\b(list|show|which|what|give|overview|see|display|tell me|enumerate)\b"


def _changes(text: str, original: str) -> Intent | None:
    app = app_of(text, APP_VERBS)
    if (
        has(text, r"\bif\b")
        and has(text, ROLLBACK)
        and has(text, TROUBLE + r"|\b(problem|cause|blame)")
    ):
        # "if the release is the problem, roll it back": diagnose, and only a rollback may follow
        return Intent("diagnose", app=app, extra={"fix": True, "only": "rollback_application"})
    if has(text, ROLLBACK):
        revision = re.search(r"\brevision\s+(?P<n>\d+)", text)
        return Intent(
            "rollback",
            app=app,
            extra={"to_revision": int(revision.group("n")) if revision else None},
        )
    if has(text, r"\b(restart|bounce|reboot|recycle|rollout restart|kick)\b"):
        return Intent("restart", app=app)
    if has(text, r"\b(autoscal\w*|hpa|horizontal pod autoscaler)\b"):
        return Intent("autoscale", app=app, extra=_bounds(text))
    if has(
        text,
        r"\b(memory limit|cpu limit|more memory|more cpu|raise the limit|resources? limits?"
        r"|increase (the )?(memory|cpu)|set (the )?(memory|cpu))\b",
    ) or (
        memory(text)
        and has(text, r"\b(memory|ram)\b")
        and has(text, r"\b(give|set|bump|raise|increase|allow|change|up)\b")
    ):
        return Intent(
            "set_resources",
            app=app,
            extra={"memory": memory(text), "cpu": quantity(text, r"cpus?|cores?")},
        )
    count, change = replicas(text), delta(text)
    if change is not None and has(text, r"\b(add|more|fewer|less|by)\b"):
        count = None
    if (
        has(text, r"\b(scale|rescale|resize|replicas?|instances|copies)\b")
        and (count is not None or change is not None)
        and not has(text, r"\bhow many\b")
    ):
        return Intent("scale", app=app, replicas=count, delta=change)
    if has(text, r"\b(scale (\S+ )?(up|out)|add (more )?(replicas|instances|capacity))\b"):
        return Intent("scale", app=app, delta=1)
    if has(text, r"\bscale (\S+ )?(down|in)\b"):
        return Intent("scale", app=app, delta=-1)
    return None


def _bounds(text: str) -> dict[str, int | None]:
    bounds = re.search(
        r"(?:between|from|min(?:imum)?)\s+(?P<lo>\d+)\s*(?:and|to|-|max(?:imum)?)\s+(?P<hi>\d+)",
        text,
    )
    lo = re.search(r"\bmin(?:imum)?(?: of| replicas)?\s*(?:=|:)?\s*(?P<n>\d+)", text)
    hi = re.search(r"\bmax(?:imum)?(?: of| replicas)?\s*(?:=|:)?\s*(?P<n>\d+)", text)
    cpu = re.search(r"(?P<n>\d+)\s*%", text)
    return {
        "min": int(bounds.group("lo")) if bounds else int(lo.group("n")) if lo else None,
        "max": int(bounds.group("hi")) if bounds else int(hi.group("n")) if hi else None,
        "cpu": int(cpu.group("n")) if cpu else None,
    }


def _diagnosis(text: str, original: str) -> Intent | None:
    if not has(text, TROUBLE) or has(text, r"^(show|list|get|give)\b.*\b(logs?|events)\b"):
        return None
    if has(text, r"\b(logs?|logging|logged)\b") and not has(text, r"\b(why|fix|what'?s wrong)\b"):
        return None  # "only the errors in worker's logs": a read, narrowed
    if has(text, r"\b(any|which|what|show)\b.*\bevents?\b"):
        return None
    return Intent("diagnose", app=app_of(text, APP_VERBS), extra={"fix": has(text, FIX)})


def _reading(text: str, original: str) -> Intent | None:
    app = app_of(text, APP_VERBS)
    if has(text, r"\blogs?\b|\blogg(ing|ed)\b|\bstdout\b|\bstack ?trace\b|\blog lines\b"):
        return Intent(
            "logs",
            app=app,
            minutes=minutes(text),
            lines=count_after(text, "lines?|entries"),
            extra={
                "previous": has(
                    text,
                    r"\b(previous|crashed|last (container|run)|before (it|the) (crash|restart)"
                    r"|before it (crashed|died|restarted))\b",
                ),
                "contains": _topic(text, original),
                "pod": first_name(text, [rf"\bpod\s+{Q}(?P<name>{NAME}){Q}"]),
            },
        )
    if has(text, r"\bevents?\b|\bwarnings?\b"):
        return Intent("events", app=app, extra={"warnings": has(text, r"\bwarnings?\b")})
    if has(text, r"\b(anomal\w*|unusual|abnormal|outliers?|spikes?|odd)\b"):
        return Intent("anomalies", app=app, minutes=minutes(text))
    if has(text, r"\b(version|image)\b") or has(text, r"\bwhat'?s .* (on|running)\b\??$"):
        return Intent("describe", app=app, extra={"question": "version"})
    if has(text, METRIC_WORDS):
        return Intent("metrics", app=app, minutes=minutes(text), extra={"metrics": _metrics(text)})
    if (
        has(text, LIST_VERBS + r".*\b(apps|applications|deployments|services|workloads|running)\b")
        or has(text, r"\bwhat'?s (running|deployed)\b")
        or has(text, r"^(apps|applications|deployments|services|workloads)\W*$")
    ):
        return Intent("list_apps")
    about_state = (
        r"\b(describe|status|state|health\w*|how many|how is|how's|doing|running|up|ok|okay"
        r"|looking|replicas?|pods?|show|check|inspect|tell me about|details|info)\b"
    )
    terse = len(text.split()) <= 2 and bool(candidates(text))  # "web?", "cart status"
    if terse or (
        has(text, about_state) and (app or candidates(text) or has(text, r"\b(describe|status)\b"))
    ):
        replicas_question = has(text, r"how many (replicas|instances|pods|copies)")
        return Intent(
            "describe", app=app, extra={"question": "replicas" if replicas_question else None}
        )
    return None


def _metrics(text: str) -> list[str] | None:
    wanted = [
        metric
        for metric, pattern in (
            ("cpu", r"\bcpu\b"),
            ("memory", r"\b(memory|ram)\b"),
            ("latency_p95", r"\b(latency|response times?|p95)\b"),
            ("request_rate", r"\b(request rate|traffic|throughput|requests)\b"),
            ("error_rate", r"\b(error rate|errors)\b"),
        )
        if has(text, pattern)
    ]
    return wanted or None


def _topic(text: str, original: str) -> str | None:
    """What to keep of a log: "errors only", "lines that mention X", "anything about X"."""
    if has(text, r"\b(only|just) (the )?errors?\b|\berrors? (lines|only)\b|\berror lines\b"):
        return "error"
    if has(text, r"\b(only|just) (the )?warnings?\b|\bwarnings? only\b"):
        return "warn"
    quoted = re.search(
        r"\b(?:containing|matching|with|grep(?: for)?|mentions?|mentioning|about|for)\s+"
        r"['\"`](?P<s>[^'\"`]+)['\"`]",
        original,
        re.I,
    )
    if quoted:
        return quoted.group("s")
    match = re.search(
        r"\b(?:contain(?:s|ing)?|match(?:es|ing)?|mention(?:s|ing)?|grep(?: for)?|anything about"
        r"|something about|about|regarding|related to)\s+(?:the\s+|a\s+|an\s+)?"
        r"(?P<s>[\w.:/@-]+(?:\s+[\w.:/@-]+){0,2}?)(?=\s+(?:in|on|from|at)\b|\s*[?.!,;]|\s*$)",
        original,
        re.I,
    )
    if not match:
        return None
    topic = match.group("s").strip()
    return None if has(topic.lower(), METRIC_NOUNS + r"|^(it|this|that|them|logs?)$") else topic


APP_DETECTORS: list[Detector] = [_changes, _diagnosis, _reading]
