"""Writes of the partner's side: booking for a patient (P-7, P-12), partner users (P-10), the feed (X-6)."""

import secrets
from datetime import datetime

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from medbook.accounts.models import Membership
from medbook.accounts.services import user_invite
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.permissions import Perm, partner_may_see_patients, require, require_partner_booking
from medbook.partners.models import CalendarFeed
from medbook.partners.offers import Offer
from medbook.patients.models import Patient
from medbook.patients.selectors import partner_patient_open
from medbook.patients.services import insurance_id_checked
from medbook.scheduling.models import Booking
from medbook.scheduling.services import booking_create


@transaction.atomic
def partner_booking_create(
    *,
    actor,
    offer: Offer,
    starts_at: datetime,
    patient_id=None,
    new_patient: dict | None = None,
    note: str = "",
    request=None,
) -> Booking:
    """Book a free slot of an offer for a patient picked from the register (with access) or entered anew."""
    require_partner_booking(actor)
    if patient_id:
        patient = partner_patient_open(
            actor=actor, partnership=offer.partnership, patient_id=patient_id, request=request
        )
    elif new_patient:
        patient = _patient_register(offer=offer, details=new_patient)
    else:
        raise DomainError(_("Choose a patient or enter the patient's details."), field="patient")
    return booking_create(
        actor=actor,
        location=offer.location,
        physician=offer.physician,
        service=offer.service,
        patient=patient,
        starts_at=starts_at,
        note=note,
    )


def _patient_register(*, offer: Offer, details: dict) -> Patient:
    """Add the patient a partner entered to the institution's register (the institution owns the data).

    A TAJ number already registered is the same person only if the name matches too; a partner without
    access learns nothing else about the register.
    """
    taj = insurance_id_checked(details.get("insurance_id") or "")
    details = {**details, "insurance_id": taj}
    if taj:
        existing = Patient.objects.filter(
            institution_id=offer.partnership.institution_id, insurance_id=taj
        ).first()
        if existing is not None:
            if " ".join(existing.full_name.split()).casefold() == details["full_name"].casefold():
                return existing
            if partner_may_see_patients(offer.partnership):
                message = _("A patient with this TAJ number is registered: find them with the search.")
            else:
                message = _("These details do not match the institution's records; check the name and TAJ.")
            raise DomainError(message, field="insurance_id")
    return Patient.objects.create(institution_id=offer.partnership.institution_id, **details)


@transaction.atomic
def partner_user_add(
    *, actor, email: str, full_name: str, can_book: bool, is_admin: bool = False, language: str = "en"
) -> Membership:
    """Add a user to the actor's partner with their permissions; a new user is emailed a set-password link
    (P-10, N-3)."""
    _require_partner_admin(actor)
    role = Membership.Role.PARTNER_ADMIN if is_admin else Membership.Role.PARTNER_USER
    membership = user_invite(actor=actor, email=email, full_name=full_name, role=role, language=language)
    membership.can_book = can_book
    membership.save(update_fields=["can_book"])
    return membership


@transaction.atomic
def partner_user_permissions_set(
    *, actor, membership: Membership, can_book: bool, is_admin: bool
) -> Membership:
    """Change what a partner user may do; an administrator cannot take their own administration away."""
    _require_partner_admin(actor)
    if membership.organization_id != actor.organization.pk:
        raise Http404()
    if membership.user_id == actor.user.pk and not is_admin:
        raise DomainError(_("You cannot take away your own administrator role."))
    membership.can_book = can_book
    membership.role = Membership.Role.PARTNER_ADMIN if is_admin else Membership.Role.PARTNER_USER
    membership.save(update_fields=["can_book", "role"])
    return membership


def _require_partner_admin(actor) -> None:
    require(actor, Perm.MANAGE_USERS)
    if actor.partner is None:
        raise NotPermitted()


@transaction.atomic
def calendar_feed_renew(*, actor) -> CalendarFeed:
    """Give the actor a new secret feed address; the old one stops working at once (X-6)."""
    require_partner_booking(actor)
    feed, _created = CalendarFeed.objects.update_or_create(
        membership=actor.membership, defaults={"token": secrets.token_urlsafe(32)}
    )
    return feed


@transaction.atomic
def calendar_feed_revoke(*, actor) -> None:
    """Switch the actor's feed off: its address answers 404."""
    require_partner_booking(actor)
    CalendarFeed.objects.filter(membership=actor.membership).delete()
