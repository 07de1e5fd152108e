"""The contact person's registration (N-1, P-3): the link (signed, expiring, single-use, renewable), the
registration itself with the GTC, a claim the operator decides, audited here."""

import secrets

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medbook.accounts.models import User
from medbook.accounts.services import send_set_password_email
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError
from medbook.core.ids import parse_id_or_none
from medbook.core.tenancy import Actor
from medbook.partners.models import (
    GTCVersion,
    Partner,
    PartnerClaim,
    PartnerInvitation,
    Partnership,
    nonce_digest,
)
from medbook.partners.services.notices import answered_notice_send, partner_email

SALT = "medbook.partners.invitation"
DEFAULT_MAX_AGE = 7 * 24 * 3600


def max_age() -> int:
    """How long a registration link stays valid, in seconds (PARTNER_INVITATION_MAX_AGE)."""
    return getattr(settings, "PARTNER_INVITATION_MAX_AGE", DEFAULT_MAX_AGE)


class InvitationUnusable(DomainError):
    """The registration link cannot be used; `reason` says why and `renewable` whether to offer a new one."""

    MESSAGES = {
        "invalid": gettext_lazy(
            "This link is not valid. Check that you copied the whole link from the email."
        ),
        "expired": gettext_lazy("This registration link has expired."),
        "used": gettext_lazy("This registration link has already been used."),
        "replaced": gettext_lazy("A newer registration link has been sent; this one no longer works."),
        "withdrawn": gettext_lazy("The institution has withdrawn this invitation."),
    }

    def __init__(self, reason: str, invitation: PartnerInvitation | None = None):
        super().__init__(self.MESSAGES[reason])
        self.reason = reason
        self.invitation = invitation
        self.status_code = 404 if reason == "invalid" else 410

    @property
    def renewable(self) -> bool:
        return self.reason in ("expired", "used", "replaced")


def invitation_issue(*, partnership: Partnership) -> str:
    """Replace earlier links with a new one and email it to the contact person (N-1); return the URL."""
    now = timezone.now()
    PartnerInvitation.objects.filter(
        partnership=partnership, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    nonce = secrets.token_urlsafe(24)
    partner = partnership.partner
    invitation = PartnerInvitation.objects.create(
        partnership=partnership, email=partnership.contact_email.lower(), nonce_hash=nonce_digest(nonce)
    )
    token = signing.TimestampSigner(salt=SALT).sign(f"{invitation.pk}:{nonce}")
    url = settings.SITE_URL + reverse("partners:register", args=[token])
    partner_email(
        to=invitation.email,
        template="registration_invitation",
        context={"partnership": partnership, "partner": partner, "url": url, "days": max_age() // 86400},
        language=partnership.contact_language,
        reference=f"partnership:{partnership.pk}",
    )
    return url


def invitation_open(token: str, *, lock: bool = False) -> PartnerInvitation:
    """The invitation a link stands for, or InvitationUnusable saying why not."""
    signer = signing.TimestampSigner(salt=SALT)
    expired = False
    try:
        value = signer.unsign(token, max_age=max_age())
    except signing.SignatureExpired:
        value, expired = signer.unsign(token), True  # genuine, only too old: offer a new one
    except signing.BadSignature:
        raise InvitationUnusable("invalid") from None
    pk, _sep, nonce = value.partition(":")
    invitations = PartnerInvitation.objects.select_related("partnership__partner", "partnership__institution")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation_pk = parse_id_or_none(pk)
    invitation = invitations.filter(pk=invitation_pk).first() if invitation_pk is not None else None
    if invitation is None or not invitation.nonce_matches(nonce):
        raise InvitationUnusable("invalid")
    if invitation.used_at is not None:
        raise InvitationUnusable("used", invitation)
    if invitation.partnership.status in (Partnership.Status.ENDED, Partnership.Status.DECLINED):
        raise InvitationUnusable("withdrawn", invitation)
    if (
        invitation.revoked_at is not None
        or invitation.partnership.status != Partnership.Status.PENDING_REGISTRATION
        or invitation.partnership.partner.is_verified  # a verified partner's own admins decide (P-14)
    ):
        raise InvitationUnusable("replaced", invitation)
    if expired:
        raise InvitationUnusable("expired", invitation)
    return invitation


@transaction.atomic
def invitation_renew(*, actor: Actor, token: str) -> str:
    """Send a fresh link to the invitation's address: a new registration link, or, once registered, a
    set-password link; return what was done ("invitation" or "password")."""
    try:
        invitation = invitation_open(token)
    except InvitationUnusable as unusable:
        if not unusable.renewable or unusable.invitation is None:
            raise
        invitation = unusable.invitation
    partnership = Partnership.objects.select_for_update().get(pk=invitation.partnership_id)
    if partnership.status == Partnership.Status.PENDING_REGISTRATION:
        invitation_issue(partnership=partnership)
        done = "invitation"
    else:
        user = User.objects.filter(email__iexact=invitation.email, is_active=True).first()
        if user is None:
            raise DomainError(_("There is nothing to renew for this link. Contact the institution."))
        send_set_password_email(user=user, organization_name=partnership.partner.name)
        done = "password"
    audit_record(
        actor=actor,
        action=AuditAction.PARTNER_LINK_RENEW,
        obj=partnership,
        email=invitation.email,
        sent=done,
    )
    return done


@transaction.atomic
def partner_register(
    *,
    actor: Actor,
    token: str,
    full_name: str,
    password: str | None,
    gtc_version: GTCVersion,
    user=None,
) -> PartnerClaim:
    """The contact person registers: password, GTC accepted; their claim to represent the legal entity waits
    for the operator, with this invitation's partnership (and no other) awaiting verification (P-14). Until
    the operator accepts the claim the claimant has no access to the partner (issue 19)."""
    invitation = invitation_open(token, lock=True)
    partnership = invitation.partnership
    partner = partnership.partner
    current = GTCVersion.current()
    if current is None:
        raise DomainError(_("No General Terms and Conditions are published yet. Please contact support."))
    if gtc_version.pk != current.pk:
        raise DomainError(_("The terms have changed in the meantime: read and accept the current version."))
    user = _registering_user(invitation, full_name=full_name, password=password, user=user)
    claim = PartnerClaim.objects.create(
        partner=partner,
        user=user,
        partnership=partnership,
        gtc_version=current,
        ip_address=actor.client_ip,
    )
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    Partnership.objects.filter(pk=partnership.pk).update(status=Partnership.Status.PENDING_VERIFICATION)
    partnership.refresh_from_db()
    if partner.verification_status == Partner.Verification.REJECTED:
        # A new claim on a legal entity once rejected: the operator looks again.
        Partner.objects.filter(pk=partner.pk).update(verification_status=Partner.Verification.UNVERIFIED)
    registered = Actor(user=user, client_ip=actor.client_ip, request_id=actor.request_id)
    audit_record(
        actor=registered,
        action=AuditAction.PARTNER_REGISTER,
        obj=partnership,
        gtc=current.version,
        claim_id=claim.pk,
    )
    answered_notice_send(partnership)
    return claim


def _registering_user(invitation: PartnerInvitation, *, full_name: str, password: str | None, user) -> User:
    """The account of the contact person: the logged-in one, a new one, or an invited one without password."""
    if user is not None and user.is_authenticated:
        if user.email.lower() != invitation.email:
            raise DomainError(
                _("This invitation was sent to another email address. Log out and open it again.")
            )
        return user
    existing = User.objects.filter(email__iexact=invitation.email).first()
    if existing is not None and existing.has_usable_password():
        raise DomainError(
            _("An account with this email address already exists: log in, then open the link again.")
        )
    if not password:
        raise DomainError(_("Choose a password."), field="new_password1")
    if existing is None:
        existing = User.objects.create_user(
            email=invitation.email,
            full_name=full_name,
            language=invitation.partnership.contact_language,
        )
    existing.full_name = full_name
    existing.set_password(password)
    existing.save()
    return existing
