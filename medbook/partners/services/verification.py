"""The operator's verification of a new legal entity (P-14): whoever registered it represents it, or not.

Called from the operator's admin; one transaction each, audited here, both sides told through the outbox.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.accounts.models import Membership
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError, NotPermitted
from medbook.partners.models import Partner, PartnerInvitation, Partnership
from medbook.partners.services.notices import approval_request_send, verification_notice_send
from medbook.scheduling.models import TrafficChannel


def _require_operator(actor) -> None:
    if actor is None or not actor.is_operator:
        raise NotPermitted()


@transaction.atomic
def partner_verify(*, actor, partner: Partner, note: str = "") -> list[Partnership]:
    """Verify the partner: every partnership awaiting verification becomes active, and institutions that
    invited it before it registered now ask its (verified) admins to approve; return those activated."""
    _require_operator(actor)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if partner.is_verified:
        raise DomainError(_("%(partner)s is already verified.") % {"partner": partner.name})
    now = timezone.now()
    partner.verification_status = Partner.Verification.VERIFIED
    partner.verified_by, partner.verified_at, partner.verification_note = actor.user, now, note
    partner.save(update_fields=["verification_status", "verified_by", "verified_at", "verification_note"])
    partnerships = Partnership.objects.select_for_update().filter(partner=partner)
    activated = list(partnerships.filter(status=Partnership.Status.PENDING_VERIFICATION))
    Partnership.objects.filter(pk__in=[p.pk for p in activated]).update(
        status=Partnership.Status.ACTIVE, activated_at=now
    )
    # Other institutions' invitations sent before verification: its own admins decide now (N-2).
    waiting = list(partnerships.filter(status=Partnership.Status.PENDING_REGISTRATION))
    PartnerInvitation.objects.filter(
        partnership__in=waiting, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    Partnership.objects.filter(pk__in=[p.pk for p in waiting]).update(
        status=Partnership.Status.PENDING_APPROVAL
    )
    for partnership in activated + waiting:
        partnership.refresh_from_db()
    for partnership in waiting:
        approval_request_send(partnership)
    admins = [m.user.email for m in Membership.objects.filter(organization=partner, is_active=True)]
    audit_record(
        actor=actor,
        action=AuditAction.PARTNER_VERIFY,
        obj=partner,
        note=note,
        members=sorted(admins),
        activated_partnership_ids=[p.pk for p in activated],
        approval_requested_partnership_ids=[p.pk for p in waiting],
    )
    for partnership in activated:
        # Each institution reads the act in its own audit log.
        audit_record(actor=actor, action=AuditAction.PARTNER_VERIFY, obj=partnership, partner_id=partner.pk)
    verification_notice_send(partner, verified=True, partnerships=activated, note=note)
    return activated


@transaction.atomic
def partner_reject(*, actor, partner: Partner, note: str = "") -> list[Partnership]:
    """Reject the partner's registration: its partnerships awaiting verification are declined and the
    accounts that claimed it lose their access; the legal entity can be invited (and claimed) again."""
    _require_operator(actor)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if partner.is_verified:
        raise DomainError(
            _("%(partner)s is verified: end its partnerships or its users instead.")
            % {"partner": partner.name}
        )
    now = timezone.now()
    partner.verification_status = Partner.Verification.REJECTED
    partner.verified_by, partner.verified_at, partner.verification_note = actor.user, now, note
    partner.save(update_fields=["verification_status", "verified_by", "verified_at", "verification_note"])
    declined = list(
        Partnership.objects.select_for_update().filter(
            partner=partner, status=Partnership.Status.PENDING_VERIFICATION
        )
    )
    Partnership.objects.filter(pk__in=[p.pk for p in declined]).update(
        status=Partnership.Status.DECLINED, ended_at=now
    )
    TrafficChannel.objects.filter(pk__in=[p.channel_id for p in declined]).update(is_active=False)
    for partnership in declined:
        partnership.refresh_from_db()
    # The claimants hear of it before their access ends.
    verification_notice_send(partner, verified=False, partnerships=declined, note=note)
    members = Membership.objects.filter(organization=partner, is_active=True)
    removed = sorted(m.user.email for m in members.select_related("user"))
    members.update(is_active=False)
    audit_record(
        actor=actor,
        action=AuditAction.PARTNER_REJECT,
        obj=partner,
        note=note,
        deactivated_members=removed,
        declined_partnership_ids=[p.pk for p in declined],
    )
    for partnership in declined:
        audit_record(actor=actor, action=AuditAction.PARTNER_REJECT, obj=partnership, partner_id=partner.pk)
    return declined
