"""Read the audit log, narrowed to the institution the actor administers."""

from django.db.models import QuerySet

from medbook.audit.models import AuditEntry
from medbook.core.tenancy import scoped


def audit_entries_for(*, actor, action: str = "") -> QuerySet[AuditEntry]:
    """The entries of the actor's institution, newest first, optionally of one kind of action."""
    entries = scoped(AuditEntry, actor).select_related("user", "institution")
    if action:
        entries = entries.filter(action=action.replace("\x00", ""))  # PostgreSQL text cannot hold NUL
    return entries.order_by("-created_at", "-pk")


def audit_actions_for(*, actor) -> list[str]:
    """The kinds of action recorded for the actor's institution (for the filter)."""
    return sorted(set(scoped(AuditEntry, actor).values_list("action", flat=True).distinct()))
