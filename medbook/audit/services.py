"""Write the audit log (X-3): one append-only row per recorded act."""

from django.db.models import Model

from medbook.audit.models import AuditEntry


def client_ip(request) -> str | None:
    """The address the request came from (the proxy in front sets REMOTE_ADDR to the client's)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _institution_id_of(actor, obj) -> int | None:
    """The institution whose admins may read the entry: the object's, else the one acted for."""
    from medbook.institutions.models import Institution

    if isinstance(obj, Institution):
        return obj.pk
    institution_id = getattr(obj, "institution_id", None)
    if institution_id is None and actor is not None and actor.institution is not None:
        institution_id = actor.institution.pk
    return institution_id


def audit_record(*, actor, action: str, obj: Model | None, request=None, **details) -> AuditEntry:
    """Append who did `action` to `obj`, when, from which address, with JSON-serialisable details."""
    user = getattr(actor, "user", None)
    organization = getattr(actor, "organization", None)
    return AuditEntry.objects.create(
        institution_id=_institution_id_of(actor, obj),
        user=user,
        user_email=getattr(user, "email", "") or "",
        organization_name=organization.name if organization is not None else "",
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        ip_address=client_ip(request),
        details=details,
    )
