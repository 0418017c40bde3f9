"""Names become Kubernetes objects; quantities are Kubernetes quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from platform_core.tenancy.names import Email, Name, NamespaceName, parse_quantity

names = TypeAdapter(Name)


@pytest.mark.parametrize("good", ["a", "web-1", "x" * 63, "0abc"])
def test_dns_labels_are_accepted(good: str) -> None:
    assert names.validate_python(good) == good


@pytest.mark.parametrize(
    "bad", ["", "-a", "a-", "A", "a_b", "a.b", "x" * 64, "3fa85f64-5717-4562-b3fc-2c963f66afa6"]
)
def test_other_names_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        names.validate_python(bad)


def test_kubernetes_namespaces_are_reserved() -> None:
    with pytest.raises(ValidationError, match="reserved"):
        TypeAdapter(NamespaceName).validate_python("kube-system")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        ("1Ki", Decimal(1024)),
        ("1.5Gi", Decimal(1.5 * 2**30)),
        ("1G", Decimal(10**9)),
    ],
)
def test_quantities(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


def test_bad_quantities_say_what_is_expected() -> None:
    with pytest.raises(ValueError, match="512Mi"):
        parse_quantity("lots")


def test_emails_are_normalized_and_internal_domains_allowed() -> None:
    emails = TypeAdapter(Email)
    assert emails.validate_python(" Admin@Demo.Local ") == "admin@demo.local"
    with pytest.raises(ValidationError):
        emails.validate_python("no-at-sign")
