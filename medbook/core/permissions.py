"""Every permission of the platform: the permissions, the role table and one check.

The rules about partners (which partnership may book where, patient-data access, ownership of a booking)
live in `medbook.partners.access`; this module says only what a role lets its holder do.
"""

from enum import StrEnum

from django.http import Http404

from medbook.core.errors import NotPermitted
from medbook.core.roles import PARTNER_ROLES, Role
from medbook.core.tenancy import Actor


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
    VIEW_STATEMENTS = "view_statements"
    # "Can book to partner institution" (P-10): a partner role together with the membership's option.
    BOOK_FOR_PARTNER = "book_for_partner"
    # Booking e-mails of the other side (N-4) reach the admins and the partner's users who book: they
    # choose each at once or a digest (a partner user only with "Can book to partner institution").
    CHOOSE_BOOKING_EMAILS = "choose_booking_emails"
    # The records of processing (GDPR Art. 30, issue 24): an institution's, or a partner's side of it.
    VIEW_PROCESSING_RECORD = "view_processing_record"


_STAFF = {Perm.VIEW_CALENDAR, Perm.BOOK, Perm.VIEW_PATIENTS, Perm.MANAGE_PATIENTS}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: frozenset(
        _STAFF | {Perm.ADMINISTER, Perm.MANAGE_USERS, Perm.CHOOSE_BOOKING_EMAILS, Perm.VIEW_PROCESSING_RECORD}
    ),
    Role.STAFF: frozenset(_STAFF),
    Role.PARTNER_ADMIN: frozenset(
        {
            Perm.MANAGE_USERS,
            Perm.VIEW_PARTNERSHIPS,
            Perm.APPROVE_PARTNERSHIPS,
            Perm.ACCEPT_GTC,
            Perm.VIEW_STATEMENTS,
            Perm.CHOOSE_BOOKING_EMAILS,
            Perm.VIEW_PROCESSING_RECORD,
        }
    ),
    Role.PARTNER_USER: frozenset({Perm.VIEW_PARTNERSHIPS}),
}


def has_perm(actor: Actor | None, perm: Perm) -> bool:
    """Tell whether the actor's role in the organisation it acts for grants the permission."""
    if actor is None or actor.membership is None:
        return False
    role = actor.membership.role
    if perm is Perm.BOOK_FOR_PARTNER:
        return role in PARTNER_ROLES and actor.partner is not None and bool(actor.membership.can_book)
    if perm is Perm.CHOOSE_BOOKING_EMAILS and role == Role.PARTNER_USER:
        return has_perm(actor, Perm.BOOK_FOR_PARTNER)
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


def require(actor: Actor | None, perm: Perm, obj=None) -> None:
    """Refuse (403) an actor without the permission, and answer 404 for an object of another tenant."""
    if not has_perm(actor, perm):
        raise NotPermitted()
    if obj is not None and not belongs_to(actor, obj):
        raise Http404()


def require_audience(actor: Actor | None, audience: str | None, *, hidden: bool = False) -> None:
    """The audience gate of pages, the JSON API and FHIR: an actor acting for the wrong kind of organisation
    ("institution" or "partner"; None lets anyone through) is refused with 403, or with 404 when `hidden` and
    it acts for a partner (a partner's user never learns that an institution's page or report exists)."""
    wrong = (audience == "institution" and (actor is None or actor.institution is None)) or (
        audience == "partner" and (actor is None or actor.partner is None)
    )
    if wrong:
        if hidden and actor is not None and actor.partner is not None:
            raise Http404()
        raise NotPermitted()


def belongs_to(actor: Actor | None, obj) -> bool:
    """Tell whether a tenant object belongs to the institution the actor acts for."""
    institution = actor.institution if actor is not None else None
    return institution is not None and tenant_id_of(obj) == institution.pk


def tenant_id_of(obj) -> int | None:
    """Follow the model's tenant_path to the id of the institution that owns the object."""
    path = getattr(type(obj), "tenant_path", "institution")
    target = obj
    parts = path.split("__")
    for part in parts[:-1]:
        target = getattr(target, part)
    return getattr(target, f"{parts[-1]}_id")
