"""RSA signing keys for JWTs, their ``kid`` and the published JWKS.

The active private key signs; its public key and any retired public keys verify, so keys can be
rotated without logging everybody out. In development a key is generated once and kept under the
data directory; elsewhere one must be configured.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from platform_core.config import Settings

ALGORITHM = "RS256"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(key: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    jwk = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}
    # RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def generate_private_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_private(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the JWT signing key must be an RSA private key")
    return key


def _load_public(pem: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("a retired JWT key must be an RSA public key")
    return key


def _development_key_pem(data_dir: Path) -> bytes:
    path = data_dir / "jwt-private.pem"
    if path.exists():
        return path.read_bytes()
    data_dir.mkdir(parents=True, exist_ok=True)
    pem = generate_private_key_pem()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return pem


class KeyRing:
    """The signing key and every key accepted for verification, by ``kid``."""

    def __init__(self, private_pem: bytes, retired_public_pems: list[bytes] | None = None) -> None:
        self.private_key = _load_private(private_pem)
        active = self.private_key.public_key()
        self.active_jwk = public_jwk(active)
        self.kid = self.active_jwk["kid"]
        self.public_keys: dict[str, rsa.RSAPublicKey] = {self.kid: active}
        self._jwks: list[dict[str, str]] = [self.active_jwk]
        for pem in retired_public_pems or []:
            key = _load_public(pem)
            jwk = public_jwk(key)
            self.public_keys[jwk["kid"]] = key
            self._jwks.append(jwk)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        if settings.jwt_private_key is not None:
            pem = settings.jwt_private_key.get_secret_value().encode()
        elif settings.jwt_private_key_file is not None:
            pem = settings.jwt_private_key_file.read_bytes()
        elif settings.is_development:
            pem = _development_key_pem(settings.data_dir)
        else:
            raise ValueError("no JWT signing key configured")
        retired = [path.read_bytes() for path in settings.jwt_retired_public_key_files]
        return cls(pem, retired)

    def jwks(self) -> dict[str, Any]:
        return {"keys": list(self._jwks)}
