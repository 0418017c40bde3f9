"""The webhook signature a receiver checks: valid only with the secret, body and a fresh time."""

from __future__ import annotations

import time

from aiops.notifications import verify_signature
from aiops.notifications.signing import compute_signature, signature_header

SECRET = "whsec-0123456789abcdef"
BODY = b'{"version": 1, "event": "incident_opened"}'


def test_a_fresh_signature_verifies() -> None:
    header = signature_header(SECRET, BODY)
    assert verify_signature(SECRET, header, BODY)


def test_the_header_is_timestamp_and_hex_hmac_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    header = signature_header(SECRET, BODY, timestamp=1_714_560_000)
    expected = hmac.new(SECRET.encode(), b"1714560000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1714560000,v1={expected}"


def test_another_secret_a_tampered_body_or_an_old_timestamp_fail() -> None:
    now = time.time()
    header = signature_header(SECRET, BODY, timestamp=int(now))
    assert not verify_signature("whsec-another-secret-000", header, BODY, now)
    assert not verify_signature(SECRET, header, BODY.replace(b"opened", b"closed"), now)
    assert not verify_signature(SECRET, header, BODY, now + 301)
    assert not verify_signature(SECRET, header, BODY, now - 301)  # from the future
    assert verify_signature(SECRET, header, BODY, now + 299)
    assert verify_signature(SECRET, header, BODY, now + 500, tolerance=600)


def test_malformed_headers_are_invalid_not_errors() -> None:
    for header in ("", "t=abc,v1=00", "v1=00", f"t={int(time.time())}", "garbage", "t=1,v1="):
        assert not verify_signature(SECRET, header, BODY)


def test_any_matching_v1_is_enough_during_secret_rotation() -> None:
    t = int(time.time())
    old = compute_signature("whsec-old-secret-0000", t, BODY)
    new = compute_signature(SECRET, t, BODY)
    assert verify_signature(SECRET, f"t={t},v1={old},v1={new}", BODY)
