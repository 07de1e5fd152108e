"""Write the audit log (X-3): one append-only row per recorded act, written by the service that acts."""

import json
import secrets

from django.db import connections, router, transaction
from django.db.models import Model, Q
from django.db.models.sql import InsertQuery

from medbook.audit import chain
from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry, AuditPersonal
from medbook.core.permissions import Perm, require
from medbook.core.roles import OrgKind
from medbook.core.tenancy import Actor, scoped


def _without_nul(value):
    """The value with NUL characters removed from every string (PostgreSQL text and jsonb cannot hold them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(item) for item in value]
    return value


def _institution_id_of(actor: Actor | None, obj: Model | None, institution_id: int | None) -> int | None:
    """The institution whose admins may read the entry: the given one, the object's, else the one acted for."""
    if institution_id is not None:
        return institution_id
    if obj is not None and getattr(obj, "kind", None) == OrgKind.INSTITUTION:
        return obj.pk
    found = getattr(obj, "institution_id", None)
    if found is None and actor is not None and actor.institution is not None:
        found = actor.institution.pk
    return found


def audit_record(
    *,
    actor: Actor | None,
    action: AuditAction,
    obj: Model | None,
    institution_id: int | None = None,
    **details,
) -> AuditEntry:
    """Append who did `action` to `obj`, acting for whom, when, from where, with JSON-serialisable details.

    What the entry says about a patient (chain.PERSONAL_OBJECT_TYPES' text, chain.PERSONAL_DETAIL_KEYS) goes
    to its erasable personal part (written in the entry's own statement on PostgreSQL, one more INSERT on
    SQLite; entries naming no patient cost what they did); the hashed part keeps its salted hash."""
    user = getattr(actor, "user", None)
    organization = getattr(actor, "organization", None)
    if actor is not None and actor.token_id is not None:
        details.setdefault("api_token", actor.token_id)
    if actor is not None and actor.patient_id is not None:
        # The patient, through the manage link: no user to name; the entry says so (the id is not personal).
        details.setdefault("by_patient", actor.patient_id)
    if actor is not None and actor.client_request_id:
        # The client's own id, never in request_id: that one the server made (issue 19).
        details.setdefault("client_request_id", actor.client_request_id)
    object_type = obj._meta.label if obj is not None else ""
    object_repr, details, personal = chain.personal_split(
        object_type, _without_nul(str(obj))[:300] if obj is not None else "", _without_nul(details)
    )
    salt = secrets.token_hex(16) if personal else ""
    entry = AuditEntry(
        institution_id=_institution_id_of(actor, obj, institution_id),
        user=user,
        user_email=_without_nul(getattr(user, "email", "") or ""),
        organization_name=_without_nul(organization.name) if organization is not None else "",
        action=AuditAction(action).value,
        object_type=object_type,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=object_repr,
        ip_address=getattr(actor, "client_ip", None),
        request_id=getattr(actor, "request_id", "") or "",
        details=details,
        personal_hash=chain.personal_hash_of(salt, personal) if personal else "",
    )
    if personal:
        _insert_with_personal(entry, AuditPersonal(salt=salt, data=personal))
    else:
        entry.save(force_insert=True)
    return entry


def _insert_with_personal(entry: AuditEntry, part: AuditPersonal) -> None:
    """Insert the entry and its personal part: on PostgreSQL in one statement (the entry's INSERT in a
    data-modifying WITH, the part's INSERT reading its id), elsewhere in two."""
    connection = connections[router.db_for_write(AuditEntry)]
    if connection.vendor != "postgresql":
        entry.save(force_insert=True)
        part.entry = entry
        part.save(force_insert=True)
        return
    entry.leaf_hash = chain.leaf_hash_of(entry)  # as AuditEntry.save does
    query = InsertQuery(AuditEntry)
    query.insert_values(
        [field for field in AuditEntry._meta.concrete_fields if not field.primary_key], [entry]
    )
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [AuditEntry._meta.pk]
    [(insert_sql, params)] = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH entry AS ({insert_sql}) INSERT INTO {AuditPersonal._meta.db_table} (entry_id, salt, data) "
            "SELECT entry.id, %s, %s::jsonb FROM entry RETURNING entry_id",
            [*params, part.salt, json.dumps(part.data)],
        )
        entry.pk = cursor.fetchone()[0]
    entry._state.adding, entry._state.db = False, connection.alias


@transaction.atomic
def audit_personal_erase(
    *, actor: Actor | None, entry_ids: list[int] | None = None, patient: Model | None = None
) -> int:
    """Erase the personal part of the given entries, or of every entry about `patient` (its record's entries
    and its bookings'): the rows are deleted, salts included; the hashed parts, leaves, trees and proofs stay
    valid. `actor` None is the platform (a management command); else an institution's admin, narrowed to its
    own entries. Audited itself (the erased entries' ids, nothing personal). Returns how many were erased."""
    if actor is not None:
        require(actor, Perm.ADMINISTER)
        entries = scoped(AuditEntry, actor)
    else:
        entries = AuditEntry.objects.all()
    chosen = Q(pk__in=entry_ids or [])
    if patient is not None:
        chosen |= Q(object_type=patient._meta.label, object_id=str(patient.pk))
        chosen |= Q(object_type="scheduling.Booking", details__patient_id=patient.pk)
    ids = sorted(entries.filter(chosen).exclude(personal_hash="").values_list("pk", flat=True))
    erased, _by_model = AuditPersonal.objects.filter(entry_id__in=ids).delete()
    audit_record(
        actor=actor,
        action=AuditAction.AUDIT_PERSONAL_ERASE,
        obj=None,
        institution_id=getattr(patient, "institution_id", None),
        entries=ids,
        erased=erased,
    )
    return erased
