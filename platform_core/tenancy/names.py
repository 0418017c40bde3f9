"""Names and quantities as Kubernetes accepts them.

Organization, workspace, project and group names are DNS labels (they become vCluster and
namespace names). A name may never parse as a UUID, so a path segment can be either an id or a
name without ambiguity.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
RESERVED_NAMES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1)}
_DECIMAL.update({"k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9)})
_DECIMAL.update({"T": Decimal(10**12), "P": Decimal(10**15), "E": Decimal(10**18)})
QUANTITY = re.compile(r"^(?P<number>\d+(\.\d+)?)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _check_dns_label(value: str) -> str:
    if not DNS_LABEL.match(value):
        raise ValueError(
            "use lowercase letters, digits and '-', starting and ending with a letter or digit"
        )
    if is_uuid(value):
        raise ValueError("a name may not look like an id")
    return value


def _check_not_reserved(value: str) -> str:
    if value in RESERVED_NAMES or value.startswith("kube-"):
        raise ValueError(f"{value!r} is reserved by Kubernetes")
    return value


Name = Annotated[
    str, StringConstraints(min_length=1, max_length=63), AfterValidator(_check_dns_label)
]
NamespaceName = Annotated[Name, AfterValidator(_check_not_reserved)]


def parse_quantity(value: str) -> Decimal:
    """A Kubernetes quantity ("500m", "2", "4Gi", "1.5G") as a number of base units."""
    match = QUANTITY.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 10Gi)")
    try:
        number = Decimal(match["number"])
    except InvalidOperation:  # pragma: no cover - the regex admits only decimal numbers
        raise ValueError(f"{value!r} is not a number") from None
    suffix = match["suffix"] or ""
    factor = Decimal(_BINARY[suffix]) if suffix in _BINARY else _DECIMAL[suffix]
    return number * factor


def _check_quantity(value: str) -> str:
    parse_quantity(value)
    return value.strip()


Quantity = Annotated[str, StringConstraints(max_length=32), AfterValidator(_check_quantity)]


EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)


def _check_email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL.match(value):
        raise ValueError("not an email address (name@domain)")
    return value


# Syntax only: internal domains such as ``demo.local`` are legitimate on a private platform.
Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(_check_email)]
