"""Reads of users and memberships."""

from django.db.models import QuerySet

from medbook.accounts.models import Membership
from medbook.core.roles import Role


def organization_admins(organization_id: int) -> QuerySet[Membership]:
    """The organisation's active administrators (who receive its notifications)."""
    return Membership.objects.filter(
        organization_id=organization_id,
        role__in=(Role.ADMIN, Role.PARTNER_ADMIN),
        is_active=True,
        user__is_active=True,
    ).select_related("user")


def organization_members(organization_id: int) -> QuerySet[Membership]:
    """Everybody who belongs (or belonged) to the organisation, by name."""
    return (
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
