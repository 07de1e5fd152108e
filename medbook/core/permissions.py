"""Every permission rule of the platform: the permissions, the role table and one check."""

from enum import StrEnum

from django.http import Http404

from medbook.accounts.models import Membership
from medbook.core.errors import NotPermitted

Role = Membership.Role


class Perm(StrEnum):
    """What an actor may do."""

    VIEW_CALENDAR = "view_calendar"
    BOOK = "book"
    VIEW_PATIENTS = "view_patients"
    MANAGE_PATIENTS = "manage_patients"
    ADMINISTER = "administer"
    MANAGE_USERS = "manage_users"
    VIEW_PARTNERSHIPS = "view_partnerships"
    APPROVE_PARTNERSHIPS = "approve_partnerships"
    ACCEPT_GTC = "accept_gtc"


_STAFF = {Perm.VIEW_CALENDAR, Perm.BOOK, Perm.VIEW_PATIENTS, Perm.MANAGE_PATIENTS}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: frozenset(_STAFF | {Perm.ADMINISTER, Perm.MANAGE_USERS}),
    Role.STAFF: frozenset(_STAFF),
    Role.PARTNER_ADMIN: frozenset(
        {Perm.MANAGE_USERS, Perm.VIEW_PARTNERSHIPS, Perm.APPROVE_PARTNERSHIPS, Perm.ACCEPT_GTC}
    ),
    Role.PARTNER_USER: frozenset({Perm.VIEW_PARTNERSHIPS}),
}


def has_perm(actor, perm: Perm) -> bool:
    """Tell whether the actor's role in the organisation it acts for grants the permission."""
    if actor is None or actor.membership is None:
        return False
    return perm in ROLE_PERMISSIONS.get(actor.membership.role, frozenset())


def require(actor, perm: Perm, obj=None) -> None:
    """Refuse (403) an actor without the permission, and answer 404 for an object of another tenant."""
    if not has_perm(actor, perm):
        raise NotPermitted()
    if obj is not None and not belongs_to(actor, obj):
        raise Http404()


def belongs_to(actor, obj) -> bool:
    """Tell whether a tenant object belongs to the institution the actor acts for."""
    institution_id = tenant_id_of(obj)
    return actor.institution is not None and institution_id == actor.institution.pk


def tenant_id_of(obj) -> int | None:
    """Follow the model's tenant_path to the id of the institution that owns the object."""
    path = getattr(type(obj), "tenant_path", "institution")
    target = obj
    parts = path.split("__")
    for part in parts[:-1]:
        target = getattr(target, part)
    return getattr(target, f"{parts[-1]}_id")


def partnership_is_active(partnership) -> bool:
    """Tell whether a partnership lets its partner book now: active, neither pending nor ended (P-3, P-8)."""
    return partnership is not None and partnership.status == "active" and partnership.ended_at is None


def partner_may_book(actor) -> bool:
    """Tell whether the actor acts for a partner and holds "Can book to partner institution" (P-10)."""
    if actor is None or actor.membership is None or actor.partner is None:
        return False
    return actor.role in (Role.PARTNER_ADMIN, Role.PARTNER_USER) and bool(actor.membership.can_book)


def require_partner_booking(actor) -> None:
    """Refuse (403) anyone but a partner's user holding "Can book to partner institution" (P-10)."""
    if not partner_may_book(actor):
        raise NotPermitted()


def partner_may_see_patients(partnership) -> bool:
    """Tell whether a partnership lets its partner search the institution's patients (P-7)."""
    return partnership_is_active(partnership) and bool(partnership.patient_data_access)


def partner_owns_booking(actor, booking) -> bool:
    """Tell whether the booking was made through the partner the actor acts for (P-13)."""
    partner = actor.partner if actor is not None else None
    return partner is not None and booking.partner_id == partner.pk
