"""Read the audit log and its signed tree head, narrowed to the institution the actor administers."""

from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from medbook.audit import merkle, signing
from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry, AuditTree
from medbook.audit.proofs import consistency_proof, latest_head
from medbook.core.errors import Conflict, NotPermitted
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import scoped


def audit_entries_for(*, actor, action: str = "") -> QuerySet[AuditEntry]:
    """The entries of the actor's institution, newest first, optionally of one kind of action."""
    entries = scoped(AuditEntry, actor).select_related("user", "institution", "personal")
    if action:
        entries = entries.filter(action=action.replace("\x00", ""))  # PostgreSQL text cannot hold NUL
    return entries.order_by("-created_at", "-pk")


def audit_actions_for(*, actor) -> list[str]:
    """The kinds of action recorded for the actor's institution (for the filter)."""
    return sorted(set(scoped(AuditEntry, actor).values_list("action", flat=True).distinct()))


def tree_head_for(*, actor, from_size: int | None = None) -> dict:
    """The latest signed head of the actor's institution's tree (its admins only), with the RFC 6962 proof
    that it extends the head of `from_size` leaves they kept earlier."""
    require(actor, Perm.ADMINISTER)
    if actor.institution is None:
        raise NotPermitted()
    tree = AuditTree.objects.filter(institution=actor.institution).first()
    head = latest_head(tree) if tree is not None else None
    size = head.size if head is not None else 0
    if from_size is not None and not 0 <= from_size <= size:  # a size the tree has not reached (yet): 409
        raise Conflict(_("The earlier size must be between 0 and the tree's size."), field="from_size")
    consistency = None
    if from_size is not None and tree is not None:
        consistency = consistency_proof(tree, from_size, size)
    return {
        "log": signing.log_name(actor.institution.pk),
        "tree_size": size,
        "root_hash": head.root_hash if head is not None else merkle.EMPTY_ROOT.hex(),
        "timestamp": signing.timestamp_text(head.signed_at) if head is not None else None,
        "signature": head.signature if head is not None else None,
        "key_id": signing.key_id(),
        "public_key": signing.public_key_base64(),
        "from_size": from_size,
        "consistency_proof": consistency,
    }


# Entries that list the patients they showed (the staff register's list and search, a partner's search, the
# API's reads), and
# detail key of each list.
LISTING_KEYS = {
    AuditAction.PATIENT_REGISTER_READ.value: "patient_ids",
    AuditAction.PATIENT_PARTNER_SEARCH.value: "result_ids",
    AuditAction.BOOKING_READ.value: "patient_ids",  # the JSON API's and FHIR's reads
}


def entries_about_patient(entries: QuerySet[AuditEntry], *, patient: Model) -> QuerySet[AuditEntry]:
    """Of `entries`, those about the patient (GDPR access and erasure, issue 24): its record's, those naming
    it by `patient_id` (its bookings'), and the register reads, partner searches and API reads showing it."""
    about = Q(object_type=patient._meta.label, object_id=str(patient.pk))
    about |= Q(details__patient_id=patient.pk)  # its bookings' entries, its data requests' too
    if connection.vendor == "postgresql":  # jsonb containment, served by the query alone
        for action, key in LISTING_KEYS.items():
            about |= Q(action=action, **{f"details__{key}__contains": [patient.pk]})
        return entries.filter(about)
    listed = [
        pk
        for pk, action, details in entries.filter(action__in=list(LISTING_KEYS)).values_list(
            "pk", "action", "details"
        )
        if patient.pk in (details or {}).get(LISTING_KEYS[action], [])
    ]
    return entries.filter(about | Q(pk__in=listed))
