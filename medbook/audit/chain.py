"""The audit hash chain: each entry's SHA-256 covers its own fields and the previous entry's hash."""

import hashlib
import ipaddress
import json
from datetime import UTC

from django.db import connection

# The fields an entry's hash covers. Not `id` (unknown before the insert) and not `user` (set to NULL when the
# user is deleted): `user_email` says who it was. Order and names are part of the format: never change them.
HASHED_FIELDS = (
    "created_at",
    "institution_id",
    "user_email",
    "organization_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "ip_address",
    "request_id",
    "details",
)
GENESIS = "0" * 64  # the prev_hash of the first entry
# A fixed key for pg_advisory_xact_lock: one writer at a time appends to the chain (ASCII "MBAUDIT").
CHAIN_LOCK_KEY = 0x4D424155444954


def _ip(value) -> str | None:
    """The address in one spelling, whatever the database hands back."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return str(value)


def canonical(entry) -> bytes:
    """The entry's hashed fields as canonical JSON (sorted keys, no spaces, UTC microsecond time)."""
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    values["created_at"] = entry.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    values["ip_address"] = _ip(entry.ip_address)
    values["prev_hash"] = entry.prev_hash
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def row_hash_of(entry) -> str:
    """The SHA-256 (hex) the entry's row_hash must hold."""
    return hashlib.sha256(canonical(entry)).hexdigest()


def lock_chain() -> None:
    """Serialise appends until the transaction ends (PostgreSQL; SQLite's IMMEDIATE transactions already do)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def first_break(entries) -> tuple[object, str] | None:
    """The first entry (in id order) whose link or hash is wrong, with the reason; None if the chain holds."""
    expected_prev = GENESIS
    for entry in entries:
        if entry.prev_hash != expected_prev:
            return entry, "prev_hash does not match the previous entry (an entry was removed or reordered)"
        if entry.row_hash != row_hash_of(entry):
            return entry, "row_hash does not match its content (the entry was changed)"
        expected_prev = entry.row_hash
    return None
