"""The partner's portal: answering an institution's invitation (N-2) and accepting the GTC. One transaction
each, the acting user first, audited here. Its users are managed on the members page (accounts), its legal
record in `identity`."""

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor, acting
from medbook.partners.access import gtc_accepted
from medbook.partners.events import partnership_event
from medbook.partners.models import GTCAcceptance, GTCVersion, Partnership
from medbook.partners.services.notices import answered_notice_send
from medbook.scheduling.models import TrafficChannel


def _answer(*, actor: Actor, partnership: Partnership, approve: bool) -> Partnership:
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
def partnership_approve(*, actor: Actor, partnership: Partnership) -> Partnership:
    """The partner admin accepts an institution's invitation (N-2): the partnership becomes active."""
    return _answer(actor=actor, partnership=partnership, approve=True)


@transaction.atomic
def partnership_decline(*, actor: Actor, partnership: Partnership) -> Partnership:
    """The partner admin declines an institution's invitation: nothing can be booked."""
    return _answer(actor=actor, partnership=partnership, approve=False)


@transaction.atomic
def gtc_accept(*, actor: Actor, version: GTCVersion) -> GTCAcceptance:
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
        defaults={"user": acting(actor.user), "ip_address": actor.client_ip},
    )
    audit_record(actor=actor, action=AuditAction.GTC_ACCEPT, obj=partner, version=version.version)
    return acceptance
