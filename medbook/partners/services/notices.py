"""The partner module's e-mails (N-1, N-2, N-4), written to the outbox in the caller's transaction."""

from django.urls import reverse

from medbook.accounts.selectors import organization_admins
from medbook.notifications.services import notification_enqueue
from medbook.partners.models import Partnership

TEMPLATE_DIR = "partners/email"


def partner_email(*, to: str, template: str, context: dict, language: str, reference: str) -> None:
    """Render `templates/partners/email/<template>…` for one recipient into the outbox."""
    notification_enqueue(
        to=to,
        template=template,
        template_dir=TEMPLATE_DIR,
        context=context,
        language=language,
        kind=f"partner_{template}",
        reference=reference,
    )


def approval_request_send(partnership: Partnership) -> None:
    """Tell a partner under contract that an institution added it, with a link to approve (N-2)."""
    url = reverse("partners:partnership-answer", args=[partnership.pk])
    for membership in organization_admins(partnership.partner_id):
        partner_email(
            to=membership.user.email,
            template="approval_request",
            context={"partnership": partnership, "user": membership.user, "path": url},
            language=membership.user.language,
            reference=f"partnership:{partnership.pk}",
        )


def answered_notice_send(partnership: Partnership) -> None:
    """Tell the admin who added the partner that it registered, approved or declined."""
    admin = partnership.invited_by
    if admin is None or not admin.is_active:
        return
    partner_email(
        to=admin.email,
        template="partnership_answered",
        context={"partnership": partnership, "user": admin},
        language=admin.language,
        reference=f"partnership:{partnership.pk}",
    )


def ended_notice_send(partnership: Partnership, cancelled: list) -> None:
    """Tell the partner's admins the partnership ended, listing the bookings cancelled with it (N-4)."""
    for membership in organization_admins(partnership.partner_id):
        partner_email(
            to=membership.user.email,
            template="partnership_ended",
            context={
                "partnership": partnership,
                "user": membership.user,
                "cancelled": cancelled,
                "time_zone": partnership.institution.time_zone,
            },
            language=membership.user.language,
            reference=f"partnership:{partnership.pk}",
        )


def search_quota_alert_send(*, partnership: Partnership, searcher, scope: str, limit: int, retry_at) -> None:
    """Tell the institution's admins, each in their language, that a partner used up a patient-search
    quota (P-15); the caller sends it once per quota window."""
    path = reverse("audit:entry-list")
    for membership in organization_admins(partnership.institution_id):
        partner_email(
            to=membership.user.email,
            template="search_quota_hit",
            context={
                "partnership": partnership,
                "user": membership.user,
                "searcher": searcher.get_full_name() or searcher.email,
                "scope": scope,
                "limit": limit,
                "retry_at": retry_at,
                "time_zone": partnership.institution.time_zone,
                "path": path,
            },
            language=membership.user.language,
            reference=f"partnership:{partnership.pk}",
        )


def claim_notice_send(claim, *, accepted: bool) -> None:
    """Tell the claimant, and the admins of the institution that invited them, the operator's answer."""
    user, partnership = claim.user, claim.partnership
    partner_email(
        to=user.email,
        template="partner_verification",
        context={"partner": claim.partner, "user": user, "verified": accepted, "note": claim.note},
        language=user.language,
        reference=f"partner:{claim.partner_id}",
    )
    for membership in organization_admins(partnership.institution_id):
        partner_email(
            to=membership.user.email,
            template="partnership_verification",
            context={"partnership": partnership, "user": membership.user, "verified": accepted},
            language=membership.user.language,
            reference=f"partnership:{partnership.pk}",
        )


def identity_change_notice_send(change) -> None:
    """Tell the partner's admins the operator's answer to a change of its legal identity."""
    for membership in organization_admins(change.partner_id):
        partner_email(
            to=membership.user.email,
            template="identity_change_decided",
            context={"change": change, "partner": change.partner, "user": membership.user},
            language=membership.user.language,
            reference=f"partner:{change.partner_id}",
        )
