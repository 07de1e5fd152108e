"""The operator's verification of each person who claims to represent a partner (P-14, issue 19).

Every registration from an institution's link is a `PartnerClaim`; the operator accepts or refuses each one
on its own, from the admin. Accepting makes its user an administrator of the partner and activates the
inviting institution's partnership (and, on the first accepted claim, verifies the legal entity); refusing
declines that partnership. Neither touches another claim. One transaction each, audited here, both sides
told through the outbox. The states: docs/partner-identity.md.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.accounts.models import Membership
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.tenancy import Actor
from medbook.partners.models import GTCAcceptance, Partner, PartnerClaim, PartnerInvitation, Partnership
from medbook.partners.services.notices import approval_request_send, claim_notice_send
from medbook.scheduling.models import TrafficChannel


def require_operator(actor: Actor | None) -> None:
    """Only the platform operator decides who represents a partner."""
    if actor is None or not actor.is_operator:
        raise NotPermitted()


def _pending_claim(claim: PartnerClaim) -> PartnerClaim:
    """The claim, locked, with its partner and partnership locked too; refuse one already decided."""
    claim = PartnerClaim.objects.select_for_update().get(pk=claim.pk)
    if not claim.is_pending:
        raise DomainError(_("This claim has already been decided."))
    claim.partner = Partner.objects.select_for_update().get(pk=claim.partner_id)
    claim.partnership = Partnership.objects.select_for_update().get(pk=claim.partnership_id)
    return claim


def _decide(claim: PartnerClaim, *, actor: Actor, status: str, note: str) -> None:
    claim.status, claim.decided_by, claim.decided_at, claim.note = status, actor.user, timezone.now(), note
    claim.save(update_fields=["status", "decided_by", "decided_at", "note"])


@transaction.atomic
def partner_claim_accept(*, actor: Actor, claim: PartnerClaim, note: str = "") -> PartnerClaim:
    """The claimant represents the partner: make them its administrator and activate the partnership of the
    institution that invited them; on the first accepted claim the partner is verified, and institutions
    that invited it earlier now ask its administrators to approve (N-2). Other claims stay as they are."""
    require_operator(actor)
    claim = _pending_claim(claim)
    partner, partnership = claim.partner, claim.partnership
    if partnership.status != Partnership.Status.PENDING_VERIFICATION:
        raise DomainError(
            _("The institution has withdrawn this invitation: refuse the claim instead of accepting it.")
        )
    now = timezone.now()
    _decide(claim, actor=actor, status=PartnerClaim.Status.ACCEPTED, note=note)
    Membership.objects.update_or_create(
        user=claim.user,
        organization=partner,
        defaults={"role": Membership.Role.PARTNER_ADMIN, "can_book": True, "is_active": True},
    )
    if claim.gtc_version_id is not None:
        GTCAcceptance.objects.get_or_create(
            partner=partner,
            version_id=claim.gtc_version_id,
            defaults={"user": claim.user, "accepted_at": claim.created_at, "ip_address": claim.ip_address},
        )
    partnership.status, partnership.activated_at = Partnership.Status.ACTIVE, now
    partnership.save(update_fields=["status", "activated_at"])
    waiting = [] if partner.is_verified else _partner_verify(partner, actor=actor, note=note, now=now)
    audit_record(
        actor=actor,
        action=AuditAction.PARTNER_CLAIM_ACCEPT,
        obj=partnership,
        partner_id=partner.pk,
        claim_id=claim.pk,
        claimant=claim.user.email,
        note=note,
    )
    claim_notice_send(claim, accepted=True)
    for other in waiting:
        approval_request_send(other)
    return claim


def _partner_verify(partner: Partner, *, actor: Actor, note: str, now) -> list[Partnership]:
    """The first accepted claim verifies the legal entity: registration links not yet used stop working and
    their institutions' invitations go to its (now verified) administrators; return those partnerships."""
    partner.verification_status = Partner.Verification.VERIFIED
    partner.verified_by, partner.verified_at, partner.verification_note = actor.user, now, note
    partner.save(update_fields=["verification_status", "verified_by", "verified_at", "verification_note"])
    waiting = list(
        Partnership.objects.select_for_update().filter(
            partner=partner, status=Partnership.Status.PENDING_REGISTRATION
        )
    )
    PartnerInvitation.objects.filter(
        partnership__in=waiting, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    Partnership.objects.filter(pk__in=[p.pk for p in waiting]).update(
        status=Partnership.Status.PENDING_APPROVAL
    )
    for partnership in waiting:
        partnership.status = Partnership.Status.PENDING_APPROVAL
    audit_record(
        actor=actor,
        action=AuditAction.PARTNER_VERIFY,
        obj=partner,
        note=note,
        approval_requested_partnership_ids=[p.pk for p in waiting],
    )
    return waiting


@transaction.atomic
def partner_claim_refuse(*, actor: Actor, claim: PartnerClaim, note: str = "") -> PartnerClaim:
    """The claimant was not shown to represent the partner: the inviting institution's partnership is
    declined (it may add the partner again with a contact it has checked) and the claimant gets no access.
    The partner, its administrators and every other claim stay as they are."""
    require_operator(actor)
    claim = _pending_claim(claim)
    partnership = claim.partnership
    _decide(claim, actor=actor, status=PartnerClaim.Status.REFUSED, note=note)
    if partnership.status == Partnership.Status.PENDING_VERIFICATION:
        partnership.status, partnership.ended_at = Partnership.Status.DECLINED, timezone.now()
        partnership.save(update_fields=["status", "ended_at"])
        TrafficChannel.objects.filter(pk=partnership.channel_id).update(is_active=False)
    audit_record(
        actor=actor,
        action=AuditAction.PARTNER_CLAIM_REFUSE,
        obj=partnership,
        partner_id=claim.partner_id,
        claim_id=claim.pk,
        claimant=claim.user.email,
        note=note,
    )
    claim_notice_send(claim, accepted=False)
    return claim
