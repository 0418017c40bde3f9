"""Patch formats and selectors, as the API server applies them.

* JSON merge patch (RFC 7386): maps merge recursively, ``null`` deletes, lists are replaced.
* Strategic merge patch, the subset that matters for the objects used here: like a merge patch,
  except lists of named things (``containers``, ``env``, ``volumes``, ``volumeMounts``, ...) are
  merged item by item on their key.
* JSON patch (RFC 6902): ``add``, ``remove``, ``replace``, ``test``, ``move``, ``copy``.
* Label selectors (``a=b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``) and field
  selectors (``path.to.field=value``, ``!=``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

Obj = dict[str, Any]
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "name",
    "imagePullSecrets": "name",
    "ports": "containerPort",
}


class PatchError(ValueError):
    """A patch that cannot be applied (answered with 422)."""


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(target: Any, patch: Any, key: str | None = None) -> Any:
    if isinstance(patch, list) and key in MERGE_KEYS and isinstance(target, list):
        merge_key = MERGE_KEYS[key]
        merged = [copy.deepcopy(item) for item in target]
        for item in patch:
            if not isinstance(item, dict) or merge_key not in item:
                return copy.deepcopy(patch)
            index = next(
                (i for i, old in enumerate(merged) if old.get(merge_key) == item[merge_key]), None
            )
            if index is None:
                merged.append(copy.deepcopy(item))
            else:
                merged[index] = strategic_merge(merged[index], item)
        return merged
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = strategic_merge(result.get(name), value, name)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> Any:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise PatchError(f"path /{'/'.join(parts)} does not exist")
    return node


def _get(doc: Any, parts: list[str]) -> Any:
    node = _parent(doc, parts)
    last = parts[-1]
    if isinstance(node, list):
        return node[int(last)]
    if not isinstance(node, dict) or last not in node:
        raise PatchError(f"path /{'/'.join(parts)} does not exist")
    return node[last]


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return copy.deepcopy(value)
    node = _parent(doc, parts)
    last = parts[-1]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        node.insert(index, copy.deepcopy(value))
    elif isinstance(node, dict):
        node[last] = copy.deepcopy(value)
    else:
        raise PatchError(f"cannot add at /{'/'.join(parts)}")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    node = _parent(doc, parts)
    last = parts[-1]
    _get(doc, parts)
    if isinstance(node, list):
        del node[int(last)]
    else:
        del node[last]
    return doc


def json_patch(target: Obj, operations: list[Obj]) -> Obj:
    doc: Any = copy.deepcopy(target)
    try:
        for op in operations:
            kind, parts = op.get("op"), _pointer(str(op.get("path", "")))
            if kind == "add":
                doc = _add(doc, parts, op.get("value"))
            elif kind == "remove":
                doc = _remove(doc, parts)
            elif kind == "replace":
                _get(doc, parts) if parts else None
                doc = _add(_remove(doc, parts) if parts else doc, parts, op.get("value"))
            elif kind == "test":
                if _get(doc, parts) != op.get("value"):
                    raise PatchError(f"test failed at {op.get('path')}")
            elif kind in {"move", "copy"}:
                source = _pointer(str(op.get("from", "")))
                value = copy.deepcopy(_get(doc, source))
                if kind == "move":
                    doc = _remove(doc, source)
                doc = _add(doc, parts, value)
            else:
                raise PatchError(f"unknown JSON patch operation {kind!r}")
    except (IndexError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, PatchError):
            raise
        raise PatchError(f"invalid JSON patch: {exc}") from exc
    if not isinstance(doc, dict):
        raise PatchError("a JSON patch must leave an object")
    return doc


# ---------------------------------------------------------------------------- selectors

_SET = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _requirements(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def label_match(selector: str | None, labels: Mapping[str, str]) -> bool:
    if not selector:
        return True
    for req in _requirements(selector):
        found = _SET.match(req)
        if found:
            key, op, values = (
                found.group(1),
                found.group(2),
                {v.strip() for v in found.group(3).split(",")},
            )
            inside = key in labels and labels[key] in values
            if inside != (op == "in"):
                return False
        elif "!=" in req:
            key, value = (s.strip() for s in req.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in req:
            key, value = (s.strip() for s in req.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif req.startswith("!"):
            if req[1:].strip() in labels:
                return False
        elif req not in labels:
            return False
    return True


def field_value(obj: Mapping[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
    return "" if node is None else str(node)


def field_match(selector: str | None, obj: Mapping[str, Any]) -> bool:
    if not selector:
        return True
    for req in _requirements(selector):
        if "!=" in req:
            path, value = (s.strip() for s in req.split("!=", 1))
            if field_value(obj, path) == value:
                return False
        else:
            path, value = (s.strip() for s in req.replace("==", "=").split("=", 1))
            if field_value(obj, path) != value:
                return False
    return True
