"""The partner's portal: answering an institution's invitation (N-2) and accepting the GTC. One transaction
each, the acting user first, audited here. Its users are managed on the members page (accounts)."""

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.permissions import Perm, require
from medbook.partners.access import gtc_accepted
from medbook.partners.events import partnership_event
from medbook.partners.models import GTCAcceptance, GTCVersion, Partner, Partnership
from medbook.partners.services.notices import answered_notice_send
from medbook.partners.validators import partner_details_errors, registry_key
from medbook.scheduling.models import TrafficChannel


def _answer(*, actor, partnership: Partnership, approve: bool) -> Partnership:
    require(actor, Perm.APPROVE_PARTNERSHIPS)
    if actor.partner is None or partnership.partner_id != actor.partner.pk:
        raise Http404()
    partnership = Partnership.objects.select_for_update().get(pk=partnership.pk)
    if partnership.status != Partnership.Status.PENDING_APPROVAL:
        raise DomainError(_("This invitation has already been answered or withdrawn."))
    if approve and not partnership.partner.is_verified:
        raise DomainError(_("Your company awaits verification by the platform operator."))
    if approve and not gtc_accepted(partnership.partner):
        raise DomainError(_("Accept the current General Terms and Conditions first."))
    now = timezone.now()
    if approve:
        partnership.status, partnership.activated_at = Partnership.Status.ACTIVE, now
    else:
        partnership.status, partnership.ended_at = Partnership.Status.DECLINED, now
        TrafficChannel.objects.filter(pk=partnership.channel_id).update(is_active=False)
    partnership.save(update_fields=["status", "activated_at", "ended_at"])
    action = AuditAction.PARTNERSHIP_APPROVE if approve else AuditAction.PARTNERSHIP_DECLINE
    audit_record(actor=actor, action=action, obj=partnership)
    partnership_event(partnership, "approved" if approve else "declined")
    answered_notice_send(partnership)
    return partnership


@transaction.atomic
def partnership_approve(*, actor, partnership: Partnership) -> Partnership:
    """The partner admin accepts an institution's invitation (N-2): the partnership becomes active."""
    return _answer(actor=actor, partnership=partnership, approve=True)


@transaction.atomic
def partnership_decline(*, actor, partnership: Partnership) -> Partnership:
    """The partner admin declines an institution's invitation: nothing can be booked."""
    return _answer(actor=actor, partnership=partnership, approve=False)


@transaction.atomic
def gtc_accept(*, actor, version: GTCVersion) -> GTCAcceptance:
    """Record that the partner admin accepted a GTC version for the partner (version, time, user, IP)."""
    require(actor, Perm.ACCEPT_GTC)
    partner = actor.partner
    if partner is None:
        raise Http404()
    current = GTCVersion.current()
    if current is None or version.pk != current.pk:
        raise DomainError(_("The terms have changed in the meantime: read and accept the current version."))
    acceptance, _created = GTCAcceptance.objects.get_or_create(
        partner=partner,
        version=version,
        defaults={"user": actor.user, "ip_address": actor.client_ip},
    )
    audit_record(actor=actor, action=AuditAction.GTC_ACCEPT, obj=partner, version=version.version)
    return acceptance


LEGAL_FIELDS = ("name", "country", "registration_number", "tax_number", "address")


@transaction.atomic
def partner_details_update(*, actor, details: dict) -> Partner:
    """The partner's verified admin corrects its legal record (P-14): checked as on "Add New Partner"."""
    require(actor, Perm.APPROVE_PARTNERSHIPS)
    if actor.partner is None:
        raise Http404()
    partner = Partner.objects.select_for_update().get(pk=actor.partner.pk)
    if not partner.is_verified:
        raise NotPermitted(_("Your company awaits verification: its details can be changed after it."))
    cleaned, errors = partner_details_errors({field: details[field] for field in LEGAL_FIELDS})
    for field, messages in errors.items():
        raise DomainError(messages[0], field=field)
    changes = {}
    for field in LEGAL_FIELDS:
        if getattr(partner, field) != cleaned[field]:
            changes[field] = [getattr(partner, field), cleaned[field]]
            setattr(partner, field, cleaned[field])
    partner.registry_key = registry_key(partner.country, partner.registration_number)
    try:
        with transaction.atomic():
            partner.save()
    except IntegrityError:
        raise DomainError(
            _("Another partner is registered with this registration number."), field="registration_number"
        ) from None
    if "name" in changes:
        TrafficChannel.objects.filter(partner=partner).update(name=partner.name)
    audit_record(actor=actor, action=AuditAction.PARTNER_DETAILS_UPDATE, obj=partner, changes=changes)
    for partnership in Partnership.objects.filter(partner=partner).exclude(
        status=Partnership.Status.PENDING_REGISTRATION
    ):
        # Each institution reads the change of its partner's record in its own audit log.
        audit_record(
            actor=actor,
            action=AuditAction.PARTNER_DETAILS_UPDATE,
            obj=partnership,
            institution_id=partnership.institution_id,
            changes=changes,
        )
    return partner
