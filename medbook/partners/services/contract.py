"""The institution's side of the contract: "Add New Partner", modify, delete, resend, Traffic Channels.

One transaction each, the acting user first; every change is audited here.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import Conflict, DomainError
from medbook.core.permissions import Perm, require
from medbook.core.roles import OrgKind
from medbook.core.tenancy import Actor, acting
from medbook.institutions.models import Service
from medbook.partners.events import partnership_event
from medbook.partners.models import Partner, PartnerInvitation, Partnership
from medbook.partners.selectors import future_partner_bookings
from medbook.partners.services.notices import approval_request_send, ended_notice_send
from medbook.partners.services.registration import invitation_issue
from medbook.partners.validators import commission_errors, partner_details_errors, registry_key
from medbook.scheduling.events import booking_event
from medbook.scheduling.models import Booking, TrafficChannel
from medbook.scheduling.patient_mail import patient_notify

LEGAL_FIELDS = ("name", "registration_number", "tax_number", "address", "country")
CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone", "contact_language")
PARTNER_FIELDS = LEGAL_FIELDS + CONTACT_FIELDS
TERMS_FIELDS = (
    "commission_enabled",
    "commission_percent",
    "commission_fixed",
    "payment_location",
    "patient_data_access",
)


def _check_terms(*, institution, locations, terms: dict) -> dict:
    """Refuse a commission rule that is not exactly one of a percentage or an amount, or foreign locations."""
    errors = commission_errors(
        terms.get("commission_enabled", False), terms.get("commission_percent"), terms.get("commission_fixed")
    )
    for field, message in errors.items():
        raise DomainError(message, field=field)
    if not locations:
        raise DomainError(_("Choose at least one location the partner may book at."), field="locations")
    if any(location.institution_id != institution.pk for location in locations):
        raise Http404()
    terms = {field: terms[field] for field in TERMS_FIELDS if field in terms}
    if not terms.get("commission_enabled"):
        terms["commission_percent"] = terms["commission_fixed"] = None
    return terms


def partner_details_checked(details: dict) -> dict:
    """The partner's legal details normalised; refuse any that fail the P-1 checks (legal entities only)."""
    cleaned, errors = partner_details_errors(details)
    for field, messages in errors.items():
        raise DomainError(messages[0], field=field)
    return cleaned


def _tax_core(tax_number: str) -> str:
    return "".join(ch for ch in tax_number if ch.isalnum())[:8].upper()


def _find_or_create_partner(details: dict) -> Partner:
    """The platform's one partner of this legal entity, created on first invitation (with the first
    institution's contact as its own until its admins change it); an existing one is only matched, never
    changed, and nothing of it is told back but that it exists (P-14)."""
    key = registry_key(details["country"], details["registration_number"])
    partner = Partner.objects.select_for_update().filter(registry_key=key).first()
    if partner is None:
        try:
            with transaction.atomic():
                return Partner.objects.create(kind=OrgKind.PARTNER, registry_key=key, **details)
        except IntegrityError:  # someone invited the same company at the same moment
            partner = Partner.objects.select_for_update().get(registry_key=key)
    if _tax_core(partner.tax_number) != _tax_core(details["tax_number"]):
        raise DomainError(
            _("A partner with this registration number is registered with another tax number. Check both."),
            field="tax_number",
        )
    return partner


def partner_channel(*, institution, partner: Partner) -> TrafficChannel:
    """The institution's traffic channel of the partner (kept across successive partnerships)."""
    channel, _created = TrafficChannel.objects.update_or_create(
        institution=institution,
        code=f"partner-{partner.pk}",
        defaults={"name": partner.name, "partner": partner, "is_active": True, "position": 100},
    )
    return channel


@transaction.atomic
def partner_invite(*, actor: Actor, details: dict, terms: dict, locations) -> Partnership:
    """Add a partner to the actor's institution and tell its contact (N-1) or its admins (N-2) (P-1 … P-3)."""
    require(actor, Perm.ADMINISTER)
    institution = acting(actor.institution)
    terms = _check_terms(institution=institution, locations=locations, terms=terms)
    details = partner_details_checked({field: details[field] for field in PARTNER_FIELDS})
    partner = _find_or_create_partner(details)
    contact = {field: details[field] for field in CONTACT_FIELDS}
    if Partnership.objects.live().filter(institution=institution, partner=partner).exists():
        raise DomainError(
            _("%(partner)s is already a partner of your institution.") % {"partner": partner.name},
            field="registration_number",
        )
    # A verified partner's own admins decide (N-2); an unverified one registers from this institution's own
    # link, which binds only this partnership (P-14).
    verified = partner.is_verified
    status = Partnership.Status.PENDING_APPROVAL if verified else Partnership.Status.PENDING_REGISTRATION
    try:
        with transaction.atomic():
            partnership = Partnership.objects.create(
                institution=institution,
                partner=partner,
                status=status,
                channel=partner_channel(institution=institution, partner=partner),
                invited_by=actor.user,
                **contact,
                **terms,
            )
    except IntegrityError:
        raise DomainError(_("This partner was added a moment ago by someone else.")) from None
    partnership.locations.set(locations)
    if verified:
        approval_request_send(partnership)
    else:
        invitation_issue(partnership=partnership)
    audit_record(
        actor=actor,
        action=AuditAction.PARTNER_INVITE,
        obj=partnership,
        partner=partner.name,
        status=status,
        locations=[location.name for location in locations],
        **_jsonable(terms),
    )
    return partnership


def _jsonable(values: dict) -> dict:
    """Decimals and model objects as text, so the audit details are JSON."""
    return {
        key: (str(value) if isinstance(value, Decimal) else value)
        for key, value in values.items()
        if value is None or isinstance(value, str | bool | int | float | Decimal | list)
    }


@transaction.atomic
def partnership_invitation_resend(*, actor: Actor, partnership: Partnership) -> None:
    """Send a partner that has not registered (or not answered) its invitation again."""
    require(actor, Perm.ADMINISTER, partnership)
    partnership = Partnership.objects.select_for_update().get(pk=partnership.pk)
    if partnership.status == Partnership.Status.PENDING_REGISTRATION:
        invitation_issue(partnership=partnership)
    elif partnership.status == Partnership.Status.PENDING_APPROVAL:
        approval_request_send(partnership)
    else:
        raise DomainError(_("Only a pending partner can be sent its invitation again."))
    audit_record(actor=actor, action=AuditAction.PARTNER_INVITATION_RESEND, obj=partnership)


@transaction.atomic
def partnership_update(
    *, actor: Actor, partnership: Partnership, details: dict, terms: dict, locations
) -> Partnership:
    """Change a partnership's settings (P-4 … P-7) and its own contact person (P-8); the partner's legal
    record is the partner's own and is never changed here (P-14)."""
    require(actor, Perm.ADMINISTER, partnership)
    partnership = Partnership.objects.select_for_update().get(pk=partnership.pk)
    if not partnership.is_live:
        raise Conflict(_("This partnership has ended and can no longer be changed."))
    terms = _check_terms(institution=partnership.institution, locations=locations, terms=terms)
    contact = _contact_checked(details)
    changes = {}
    for field, value in {**terms, **contact}.items():
        if getattr(partnership, field) != value:
            changes[field] = [str(getattr(partnership, field)), str(value)]
            setattr(partnership, field, value)
    partnership.save()
    old_locations = {location.pk for location in partnership.locations.all()}
    if old_locations != {location.pk for location in locations}:
        changes["locations"] = sorted(location.name for location in locations)
        partnership.locations.set(locations)
    if "contact_email" in changes and partnership.status == Partnership.Status.PENDING_REGISTRATION:
        invitation_issue(partnership=partnership)
    audit_record(actor=actor, action=AuditAction.PARTNERSHIP_UPDATE, obj=partnership, changes=changes)
    partnership_event(partnership, "updated")
    return partnership


def _contact_checked(details: dict) -> dict:
    """The contact fields among `details`, normalised; refuse an invalid one."""
    given = {field: details[field] for field in CONTACT_FIELDS if field in details}
    if not given:
        return {}
    cleaned, errors = partner_details_errors(given)
    for field, messages in errors.items():
        if field in CONTACT_FIELDS:
            raise DomainError(messages[0], field=field)
    return {field: cleaned.get(field, given[field]) for field in given}


@transaction.atomic
def partnership_end(*, actor: Actor, partnership: Partnership, cancel_future: bool) -> int:
    """Delete a partner (P-8): access ends now, history stays; future bookings kept or cancelled."""
    require(actor, Perm.ADMINISTER, partnership)
    partnership = Partnership.objects.select_for_update().get(pk=partnership.pk)
    if not partnership.is_live:
        raise DomainError(_("This partnership has already ended."))
    now = timezone.now()
    was_status = partnership.status
    partnership.status = Partnership.Status.ENDED
    partnership.ended_at = now
    partnership.save(update_fields=["status", "ended_at"])
    TrafficChannel.objects.filter(pk=partnership.channel_id).update(is_active=False)
    PartnerInvitation.objects.filter(
        partnership=partnership, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    cancelled = []
    if cancel_future:
        cancelled = list(future_partner_bookings(partnership).select_for_update())
        Booking.objects.filter(pk__in=[b.pk for b in cancelled]).update(
            status=Booking.Status.CANCELLED, cancelled_at=now, updated_at=now
        )
        for booking in cancelled:  # the patients hear it from the institution (N-5)
            patient_notify(booking=booking, event="cancelled")
    if was_status != Partnership.Status.PENDING_REGISTRATION:
        ended_notice_send(partnership, cancelled)
    audit_record(
        actor=actor,
        action=AuditAction.PARTNERSHIP_END,
        obj=partnership,
        future_bookings="cancelled" if cancel_future else "kept",
        cancelled_booking_ids=[b.pk for b in cancelled],
    )
    partnership_event(partnership, "ended")
    for booking in cancelled:
        booking.status, booking.cancelled_at = Booking.Status.CANCELLED, now
        booking_event(booking, "booking.cancelled")
    return len(cancelled)


@transaction.atomic
def partnership_service_set(
    *, actor: Actor, partnership: Partnership, service: Service, enabled: bool
) -> Partnership:
    """Allow or forbid the partner to book the service (one cell of the Traffic Channels matrix, P-9)."""
    require(actor, Perm.ADMINISTER, partnership)
    if service.institution_id != partnership.institution_id:
        raise Http404()
    if not partnership.is_live:
        raise DomainError(_("This partnership has ended."))
    if enabled:
        partnership.services.add(service)
    else:
        partnership.services.remove(service)
    audit_record(
        actor=actor,
        action=AuditAction.PARTNERSHIP_SERVICE_SET,
        obj=partnership,
        service=service.name,
        service_id=service.pk,
        enabled=enabled,
    )
    partnership_event(partnership, "services")
    return partnership
