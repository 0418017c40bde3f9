"""Reading Kubernetes objects kept as plain JSON dicts.

Fields the API server omits when empty (``labels``, ``status``, ``conditions``, counters that are
zero) are read through these helpers so every view treats "absent" the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

ANNOTATION_REVISION = "deployment.kubernetes.io/revision"
LABEL_HASH = "pod-template-hash"
LABEL_JOB_NAME = "job-name"
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
PROTECTED_NAMESPACES = frozenset({"default"}) | SYSTEM_NAMESPACES


def meta(obj: Mapping[str, Any]) -> Obj:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def name(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("name", ""))


def labels(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(meta(obj).get("labels") or {})


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(meta(obj).get("annotations") or {})


def spec(obj: Mapping[str, Any]) -> Obj:
    value = obj.get("spec")
    return value if isinstance(value, dict) else {}


def status(obj: Mapping[str, Any]) -> Obj:
    value = obj.get("status")
    return value if isinstance(value, dict) else {}


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp (``Z`` or offset, optional fraction) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # Python accepts at most 6 fractional digits; the kubelet writes 9
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as the API server writes timestamps."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def created(obj: Mapping[str, Any]) -> datetime:
    return parse_time(meta(obj).get("creationTimestamp")) or datetime.fromtimestamp(0, UTC)


def owned_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    """Whether ``owner`` (by uid, else kind and name) is among ``obj``'s owner references."""
    uid = meta(owner).get("uid")
    for ref in meta(obj).get("ownerReferences") or []:
        if uid and ref.get("uid") == uid:
            return True
        if not uid and ref.get("kind") == owner.get("kind") and ref.get("name") == name(owner):
            return True
    return False


def owner_ref(obj: Mapping[str, Any], kind: str | None = None) -> Obj | None:
    """The controlling (or first) owner reference, optionally of one kind."""
    refs = [r for r in meta(obj).get("ownerReferences") or [] if kind is None or r["kind"] == kind]
    return next((r for r in refs if r.get("controller")), refs[0] if refs else None)


def condition(obj: Mapping[str, Any], kind: str) -> Obj | None:
    return next((c for c in status(obj).get("conditions") or [] if c.get("type") == kind), None)


def is_true(obj: Mapping[str, Any], kind: str) -> bool:
    found = condition(obj, kind)
    return found is not None and found.get("status") == "True"


def selector(values: Mapping[str, str]) -> str:
    """A label selector string for equality on every pair."""
    return ",".join(f"{k}={v}" for k, v in sorted(values.items()))


def revision(obj: Mapping[str, Any]) -> int:
    """The ``deployment.kubernetes.io/revision`` annotation (0 if the controller has not set it)."""
    try:
        return int(annotations_of(obj).get(ANNOTATION_REVISION, "0"))
    except ValueError:
        return 0


def first_container(template: Mapping[str, Any]) -> Obj:
    containers = spec(template).get("containers") or [{}]
    first: Obj = containers[0]
    return first


def env_values(container: Mapping[str, Any]) -> dict[str, str]:
    """Literal ``env`` entries (``valueFrom`` references are not the platform's to show)."""
    return {
        e["name"]: str(e.get("value", ""))
        for e in container.get("env") or []
        if "valueFrom" not in e
    }


def by_name(objects: Iterable[Obj]) -> dict[str, Obj]:
    return {name(o): o for o in objects}
