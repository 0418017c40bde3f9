"""Kubernetes resource quantities ("500m", "1.5", "256Mi", "1G", "2e3").

The gateway accepts quantities as the strings Kubernetes uses, so that what a user types is what
ends up in the manifest. The twin needs numbers to do quota admission, scheduling and metrics, so
this module converts both ways: CPU to millicores and memory/storage to bytes, and back to the
canonical short form (``"250m"``, ``"512Mi"``) for messages that should read like kubectl's.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

_QUANTITY = re.compile(r"^(?P<num>[+]?(?:\d+\.?\d*|\.\d+))(?P<suffix>[a-zA-Z]*|[eE][+-]?\d+)$")

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


def parse_quantity(text: str) -> Decimal:
    """Return the value of a Kubernetes quantity string, or raise ``ValueError``."""
    match = _QUANTITY.match(text.strip())
    if match is None:
        raise ValueError(f"invalid quantity {text!r}: expected e.g. '500m', '2', '256Mi', '1G'")
    try:
        number = Decimal(match["num"])
    except InvalidOperation as exc:  # pragma: no cover - the regex only admits decimals
        raise ValueError(f"invalid quantity {text!r}") from exc
    suffix = match["suffix"]
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    if suffix[:1] in {"e", "E"}:
        return number * Decimal(10) ** int(suffix[1:])
    raise ValueError(f"invalid quantity {text!r}: unknown suffix {suffix!r}")


def cpu_millis(text: str) -> int:
    """CPU quantity in millicores, rounded up like the API server does ("0.0001" -> 1m)."""
    return math.ceil(parse_quantity(text) * 1000)


def memory_bytes(text: str) -> int:
    """Memory or storage quantity in bytes, rounded up."""
    return math.ceil(parse_quantity(text))


def format_cpu(millis: int) -> str:
    """Canonical CPU string: whole cores as ``"2"``, otherwise millicores ``"250m"``."""
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def format_memory(value: int) -> str:
    """Canonical memory string using the largest binary suffix that divides exactly."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _BINARY[suffix]
        if value >= unit and value % unit == 0:
            return f"{value // unit}{suffix}"
    return str(value)


def validate_cpu(text: str) -> str:
    """Pydantic-friendly validator: the string, unchanged, if it is a positive CPU quantity."""
    if cpu_millis(text) <= 0:
        raise ValueError(f"cpu quantity must be positive, got {text!r}")
    return text


def validate_memory(text: str) -> str:
    """Pydantic-friendly validator: the string, unchanged, if it is a positive byte quantity."""
    if memory_bytes(text) <= 0:
        raise ValueError(f"memory quantity must be positive, got {text!r}")
    return text
