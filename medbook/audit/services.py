"""Write the audit log (X-3): one append-only row per recorded act, written by the service that acts."""

from django.db.models import Model

from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry
from medbook.core.roles import OrgKind
from medbook.core.tenancy import Actor


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
    """Append who did `action` to `obj`, acting for whom, when, from where, with JSON-serialisable details."""
    user = getattr(actor, "user", None)
    organization = getattr(actor, "organization", None)
    if actor is not None and actor.token_id is not None:
        details.setdefault("api_token", actor.token_id)
    if getattr(actor, "client_request_id", ""):
        # The client's own id, never in request_id: that one the server made (issue 19).
        details.setdefault("client_request_id", actor.client_request_id)
    return AuditEntry.objects.create(
        institution_id=_institution_id_of(actor, obj, institution_id),
        user=user,
        user_email=_without_nul(getattr(user, "email", "") or ""),
        organization_name=_without_nul(organization.name) if organization is not None else "",
        action=AuditAction(action).value,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=_without_nul(str(obj))[:300] if obj is not None else "",
        ip_address=getattr(actor, "client_ip", None),
        request_id=getattr(actor, "request_id", "") or "",
        details=_without_nul(details),
    )
