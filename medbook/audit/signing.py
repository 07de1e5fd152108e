"""Signed tree heads: Ed25519 over a canonical statement of (log, size, root hash, time).

The private key is AUDIT_SIGNING_KEY (base64 of the raw 32 bytes); its public half is published on the
public-key page and in docs/audit.md, so that anyone holding a head can check it without the database.
"""

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


def log_name(institution_id: int | None) -> str:
    """The name a head gives its tree: one per institution, one for the platform's own events."""
    return (
        "medbook-audit/platform" if institution_id is None else f"medbook-audit/institution/{institution_id}"
    )


def timestamp_text(timestamp: datetime) -> str:
    """A head's time as its signature covers it: ISO 8601 in UTC with microseconds."""
    return timestamp.astimezone(UTC).isoformat(timespec="microseconds")


def head_message(*, log: str, size: int, root_hash: str, timestamp: datetime) -> bytes:
    """The bytes a head's signature covers: canonical JSON (sorted keys, no spaces, UTC microsecond time)."""
    values = {"log": log, "root_hash": root_hash, "size": size, "timestamp": timestamp_text(timestamp)}
    return json.dumps(values, sort_keys=True, separators=(",", ":")).encode()


@cache
def _private_key(encoded: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded, validate=True))


def private_key() -> Ed25519PrivateKey:
    return _private_key(settings.AUDIT_SIGNING_KEY)


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_raw() -> bytes:
    return public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_base64() -> str:
    return base64.b64encode(public_key_raw()).decode()


def public_key_pem() -> str:
    return (
        public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_id() -> str:
    """The first 16 hex digits of the public key's SHA-256: which key signed a head."""
    return hashlib.sha256(public_key_raw()).hexdigest()[:16]


def sign(message: bytes) -> str:
    """The Ed25519 signature of the message, base64."""
    return base64.b64encode(private_key().sign(message)).decode()


def signature_valid(message: bytes, signature: str, key: Ed25519PublicKey | None = None) -> bool:
    """Whether the base64 signature is the given (else the configured) public key's over the message."""
    try:
        (key or public_key()).verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
