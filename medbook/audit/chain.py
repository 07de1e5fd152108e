"""What an entry's hashes cover: its leaf in the Merkle trees (medbook.audit.sealer), and the hash chain that
linked the entries written before the trees (kept, and checked, for that history)."""

import hashlib
import ipaddress
import json
from datetime import UTC

from medbook.audit import merkle

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
GENESIS = "0" * 64  # the prev_hash of the first entry of the old chain


def _ip(value) -> str | None:
    """The address in one spelling, whatever the database hands back."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return str(value)


def _values(entry) -> dict:
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    values["created_at"] = entry.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    values["ip_address"] = _ip(entry.ip_address)
    return values


def _json(values: dict) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def leaf_data(entry) -> bytes:
    """The entry's content as its Merkle leaf holds it: the hashed fields as canonical JSON (sorted keys, no
    spaces, UTC microsecond time). Not the old chain's prev_hash: a leaf stands on its own."""
    return _json(_values(entry))


def leaf_hash_of(entry) -> str:
    """The RFC 6962 leaf hash (hex) of the entry's content: SHA-256(0x00 || leaf_data)."""
    return merkle.leaf_hash(leaf_data(entry)).hex()


def canonical(entry) -> bytes:
    """The old chain's canonical JSON: the hashed fields and prev_hash."""
    return _json({**_values(entry), "prev_hash": entry.prev_hash})


def row_hash_of(entry) -> str:
    """The SHA-256 (hex) the entry's row_hash must hold (the old chain)."""
    return hashlib.sha256(canonical(entry)).hexdigest()


def first_break(entries) -> tuple[object, str] | None:
    """The first entry of the old chain (in id order) whose link or hash is wrong, with the reason; None if the
    chain holds. Entries written since the trees (no row_hash) are not part of it and are passed over."""
    expected_prev = GENESIS
    for entry in entries:
        if not entry.row_hash and not entry.prev_hash:
            continue
        if entry.prev_hash != expected_prev:
            return entry, "prev_hash does not match the previous entry (an entry was removed or reordered)"
        if entry.row_hash != row_hash_of(entry):
            return entry, "row_hash does not match its content (the entry was changed)"
        expected_prev = entry.row_hash
    return None
