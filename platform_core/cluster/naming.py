"""Object names the way Kubernetes makes and checks them.

* ``validate_dns_label`` is the RFC 1123 label rule the API server applies to namespaces,
  Deployments, CronJobs and Services.
* ``pod_template_hash`` reproduces the controller's ``pod-template-hash``: FNV-32a over the pod
  template, printed in decimal and mapped through the "safe" alphabet, so ReplicaSet names look
  like ``web-7d9c8b6f5`` and change exactly when the template changes.
* ``random_suffix`` is the 5-character suffix of generated names (``web-7d9c8b6f5-x2x9q``); the
  caller passes its own ``random.Random`` so the twin stays deterministic.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def validate_dns_label(name: str, *, max_length: int = 63) -> str:
    """Return ``name`` if it is a valid RFC 1123 label no longer than ``max_length``."""
    if not name or len(name) > max_length or _DNS_LABEL.match(name) is None:
        raise ValueError(
            f"invalid name {name!r}: must be at most {max_length} lowercase letters, digits or "
            "'-', starting and ending with a letter or digit"
        )
    return name


def fnv32a(data: bytes) -> int:
    """32-bit FNV-1a hash (the one Kubernetes uses for pod-template-hash)."""
    value = _FNV_OFFSET
    for byte in data:
        value ^= byte
        value = (value * _FNV_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """Map each byte to the consonant/digit alphabet Kubernetes uses for generated names."""
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in text.encode())


def pod_template_hash(template: dict[str, Any], *, collision_count: int = 0) -> str:
    """The ``pod-template-hash`` label value for a pod template (a manifest dict)."""
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        canonical += str(collision_count).encode()
    return safe_encode(str(fnv32a(canonical)))


def random_suffix(rng: random.Random, length: int = 5) -> str:
    """A generated-name suffix such as ``x2x9q``."""
    return "".join(rng.choice(SAFE_ALPHABET) for _ in range(length))


def stable_seed(*parts: object) -> int:
    """A 63-bit seed derived from ``parts``; unlike ``hash()`` it is the same in every process."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1
