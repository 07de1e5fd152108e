"""What an entry's hashes cover: its leaf in the Merkle trees (medbook.audit.sealer), and the hash chain that
linked the entries written before the trees (kept, and checked, for that history)."""

import hashlib
import ipaddress
import json
from collections.abc import Iterable, Mapping
from datetime import UTC
from functools import lru_cache
from typing import TYPE_CHECKING

from medbook.audit import merkle

if TYPE_CHECKING:  # the models import this module
    from medbook.audit.models import AuditEntry

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
# The entry's personal part (docs/audit.md, "Personal data"): what it says about a patient lives in the erasable
# AuditPersonal row; the hashed content holds `personal_hash`, SHA-256(salt || canonical personal JSON), instead.
# The one place that says what is personal: the text of these objects, and these detail keys of any entry.
PERSONAL_OBJECT_TYPES = frozenset({"patients.Patient", "scheduling.Booking"})
PERSONAL_DETAIL_KEYS = frozenset({"query", "duplicate_name", "cancel_reason"})
GENESIS = "0" * 64  # the prev_hash of the first entry of the old chain


def _ip(value) -> str | None:
    """The address in one spelling, whatever the database hands back."""
    if not value:
        return None
    return _ip_spelling(str(value))


@lru_cache(maxsize=4096)  # audit_verify reads millions of entries from a few thousand addresses
def _ip_spelling(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def content(fields: Mapping) -> dict:
    """The hashed content of an entry given as a mapping of HASHED_FIELDS (and `personal_hash`): the one
    reading of both an AuditEntry and a row read as values (audit_verify)."""
    values = {name: fields[name] for name in HASHED_FIELDS}
    values["created_at"] = fields["created_at"].astimezone(UTC).isoformat(timespec="microseconds")
    values["ip_address"] = _ip(fields["ip_address"])
    if fields.get("personal_hash"):  # only entries with a personal part: older leaves stay as they were
        values["personal_hash"] = fields["personal_hash"]
    return values


def _values(entry) -> dict:
    fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
    fields["personal_hash"] = getattr(entry, "personal_hash", "")
    return content(fields)


def _json(values: dict) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def personal_hash_of(salt: str, data: dict) -> str:
    """SHA-256 (hex) of the salt's bytes followed by the personal part's canonical JSON."""
    return hashlib.sha256(bytes.fromhex(salt) + _json(data)).hexdigest()


def personal_split(object_type: str, object_repr: str, details: dict) -> tuple[str, dict, dict]:
    """The hashed object text and details, and the personal part taken out of them ({} if none)."""
    personal: dict = {}
    if object_type in PERSONAL_OBJECT_TYPES and object_repr:
        personal["object_repr"], object_repr = object_repr, ""
    taken = {key: details[key] for key in PERSONAL_DETAIL_KEYS if key in details}
    if taken:
        personal["details"] = taken
        details = {key: value for key, value in details.items() if key not in taken}
    return object_repr, details, personal


def leaf_data(entry) -> bytes:
    """The entry's content as its Merkle leaf holds it: the hashed fields as canonical JSON (sorted keys, no
    spaces, UTC microsecond time). Not the old chain's prev_hash: a leaf stands on its own."""
    return _json(_values(entry))


def leaf_hash_of(entry) -> str:
    """The RFC 6962 leaf hash (hex) of the entry's content: SHA-256(0x00 || leaf_data)."""
    return merkle.leaf_hash(leaf_data(entry)).hex()


def leaf_hash_of_fields(fields: Mapping) -> str:
    """`leaf_hash_of` for an entry read as a mapping of its fields (`content`)."""
    return merkle.leaf_hash(_json(content(fields))).hex()


def canonical(entry) -> bytes:
    """The old chain's canonical JSON: the hashed fields and prev_hash."""
    values = _values(entry)
    values.pop("personal_hash", None)  # the old chain's entries have no personal part
    return _json({**values, "prev_hash": entry.prev_hash})


def row_hash_of(entry) -> str:
    """The SHA-256 (hex) the entry's row_hash must hold (the old chain)."""
    return hashlib.sha256(canonical(entry)).hexdigest()


def first_break(entries: "Iterable[AuditEntry]") -> "tuple[AuditEntry, str] | None":
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
