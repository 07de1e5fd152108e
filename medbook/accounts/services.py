"""Writes for users and memberships."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from medbook.accounts.models import Membership, User
from medbook.accounts.tokens import (
    REVOKED_BY_DEACTIVATION,
    REVOKED_BY_ORGANIZATION_TWO_FACTOR,
    REVOKED_BY_PASSWORD_RESET,
    REVOKED_BY_ROLE_CHANGE,
    api_tokens_revoke_all,
)
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError
from medbook.core.ids import parse_id_or_none
from medbook.core.permissions import Perm, require
from medbook.core.roles import OrgKind, Role
from medbook.core.tenancy import Actor, acting
from medbook.notifications.services import notification_enqueue

ROLES_OF = {  # the roles an organisation of each kind gives its members
    OrgKind.INSTITUTION: (Role.ADMIN, Role.STAFF),
    OrgKind.PARTNER: (Role.PARTNER_ADMIN, Role.PARTNER_USER),
}


def set_password_url(user: User) -> str:
    """An absolute, signed, expiring link at which the user sets a password (single use)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("accounts:password-reset-confirm", args=[uid, token])


@transaction.atomic
def send_set_password_email(*, user: User, organization_name: str) -> None:
    """Write to the outbox, in the caller's transaction, the email with the user's set-password link (N-3)."""
    notification_enqueue(
        to=user.email,
        template="set_password",
        context={"user": user, "url": set_password_url(user), "organization": organization_name},
        language=user.language,
        kind="set_password",
        reference=f"user:{user.pk}",
    )


def _checked_role(actor: Actor, role: str, can_book: bool) -> tuple[str, bool]:
    """Refuse a role the actor's kind of organisation does not give; "Can book to partner institution"
    (P-10) exists only for a partner's users."""
    kind = acting(actor.organization).kind
    if role not in ROLES_OF.get(kind, ()):
        raise DomainError(_("Choose one of the roles offered."), field="role")
    return role, bool(can_book) and kind == OrgKind.PARTNER


@transaction.atomic
def user_invite(
    *,
    actor: Actor,
    email: str,
    full_name: str,
    role: str,
    language: str = "en",
    can_book: bool = False,
) -> Membership:
    """Add a user to the actor's organisation with a role (B-10, P-10): a new person gets a link to set a
    password; a person who already has an account is asked to accept, and acts for it only once they do.
    Either way the admin learns nothing of whether the account existed."""
    require(actor, Perm.MANAGE_USERS)
    organization = acting(actor.organization)
    role, can_book = _checked_role(actor, role, can_book)
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, full_name=full_name, language=language)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if Membership.objects.filter(user=user, organization=organization).exists():
        raise DomainError(_("This person is already a user here."), field="email")
    ask_first = user.has_usable_password()
    membership = Membership.objects.create(
        user=user, organization=organization, role=role, can_book=can_book, is_active=not ask_first
    )
    if ask_first:
        membership_invitation_send(membership=membership)
    else:
        send_set_password_email(user=user, organization_name=organization.name)
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_INVITE,
        obj=membership,
        role=role,
        can_book=can_book,
        email=email,
        asked_to_accept=ask_first,
    )
    return membership


MEMBERSHIP_SALT = "medbook.accounts.membership"
MEMBERSHIP_MAX_AGE = 7 * 24 * 3600


def membership_invitation_send(*, membership: Membership) -> str:
    """E-mail the person a signed, expiring, single-use link to accept the role (a new one replaces the
    last); return the link."""
    nonce = secrets.token_urlsafe(24)
    membership.invited_at = timezone.now()
    membership.invitation_hash = hashlib.sha256(nonce.encode()).hexdigest()
    membership.save(update_fields=["invited_at", "invitation_hash"])
    token = signing.TimestampSigner(salt=MEMBERSHIP_SALT).sign(f"{membership.pk}:{nonce}")
    url = settings.SITE_URL + reverse("accounts:membership-accept", args=[token])
    user = membership.user
    notification_enqueue(
        to=user.email,
        template="membership_invitation",
        context={
            "user": user,
            "url": url,
            "organization": membership.organization.name,
            "role": membership.get_role_display(),
        },
        language=user.language,
        kind="membership_invitation",
        reference=f"membership:{membership.pk}",
    )
    return url


def membership_invitation_open(*, user, token: str) -> Membership:
    """The pending membership a link stands for, for the logged-in person it was sent to; else 404."""
    try:
        value = signing.TimestampSigner(salt=MEMBERSHIP_SALT).unsign(token, max_age=MEMBERSHIP_MAX_AGE)
    except signing.BadSignature:  # forged, or expired
        raise Http404() from None
    pk, _sep, nonce = value.partition(":")
    membership_id = parse_id_or_none(pk)
    membership = (
        None
        if membership_id is None
        else Membership.objects.select_related("organization", "user").filter(pk=membership_id).first()
    )
    digest = hashlib.sha256(nonce.encode()).hexdigest()
    if (
        membership is None
        or not membership.is_invitation_pending
        or not hmac.compare_digest(membership.invitation_hash, digest)
        or membership.user_id != getattr(user, "pk", None)
    ):
        raise Http404()
    return membership


@transaction.atomic
def membership_accept(*, actor: Actor, token: str) -> Membership:
    """The person accepts the role they were invited to: from now on they may act for the organisation."""
    membership = membership_invitation_open(user=actor.user, token=token)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.is_invitation_pending:
        raise Http404()
    membership.is_active, membership.invited_at, membership.invitation_hash = True, None, ""
    membership.save(update_fields=["is_active", "invited_at", "invitation_hash"])
    kind = membership.organization.kind
    institution_id = membership.organization_id if kind == OrgKind.INSTITUTION else None
    audit_record(actor=actor, action=AuditAction.MEMBER_ACCEPT, obj=membership, institution_id=institution_id)
    return membership


def _own_member(actor: Actor, membership: Membership) -> Membership:
    require(actor, Perm.MANAGE_USERS)
    if actor.organization is None or membership.organization_id != actor.organization.pk:
        raise Http404()  # another organisation's user: as if it did not exist
    return membership


@transaction.atomic
def member_permissions_set(*, actor: Actor, membership: Membership, role: str, can_book: bool) -> Membership:
    """Change a member's role (and a partner user's "Can book to partner institution"); an administrator
    cannot take their own administration away. A new role revokes the member's API tokens there."""
    _own_member(actor, membership)
    role, can_book = _checked_role(actor, role, can_book)
    if membership.user_id == acting(actor.user).pk and role != membership.role:
        raise DomainError(_("You cannot take away your own administrator role."))
    before = {"role": membership.role, "can_book": membership.can_book}
    membership.role, membership.can_book = role, can_book
    membership.save(update_fields=["role", "can_book"])
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_PERMISSIONS_SET,
        obj=membership,
        before=before,
        after={"role": role, "can_book": can_book},
    )
    if before["role"] != role:
        api_tokens_revoke_all(actor=actor, reason=REVOKED_BY_ROLE_CHANGE, membership=membership)
    return membership


@transaction.atomic
def membership_set_active(*, actor: Actor, membership: Membership, active: bool) -> Membership:
    """Deactivate (access ends at once, its API tokens revoked) or reactivate a user's membership of the
    actor's organisation."""
    _own_member(actor, membership)
    if membership.user_id == acting(actor.user).pk and not active:
        raise DomainError(_("You cannot deactivate yourself."))
    if membership.invited_at is not None:
        # Never accepted: reactivating asks the person again; deactivating withdraws the link.
        if active:
            membership_invitation_send(membership=membership)
        else:
            membership.invitation_hash = ""
            membership.save(update_fields=["invitation_hash"])
        action = AuditAction.MEMBER_INVITE if active else AuditAction.MEMBER_DEACTIVATE
        audit_record(actor=actor, action=action, obj=membership, asked_to_accept=True)
        return membership
    membership.is_active = active
    membership.save(update_fields=["is_active"])
    action = AuditAction.MEMBER_ACTIVATE if active else AuditAction.MEMBER_DEACTIVATE
    audit_record(actor=actor, action=action, obj=membership)
    if not active:
        api_tokens_revoke_all(actor=actor, reason=REVOKED_BY_DEACTIVATION, membership=membership)
    return membership


@transaction.atomic
def organization_switch(*, actor: Actor, organization_id) -> Membership:
    """Act for another organisation the user belongs to (the view stores the choice); audited (X-3)."""
    membership = next((m for m in actor.memberships if str(m.organization_id) == str(organization_id)), None)
    if membership is None:
        raise DomainError(_("You are not a member of that organisation."))
    previous = actor.organization
    audit_record(
        actor=actor,
        action=AuditAction.ORGANIZATION_SWITCH,
        obj=membership.organization,  # in the log of the institution switched to, else of the one left
        previous=previous.name if previous is not None else "",
    )
    return membership


@transaction.atomic
def organization_two_factor_require(*, actor: Actor, required: bool) -> None:
    """Require (or stop requiring) two-factor authentication of every user of the actor's organisation;
    requiring it revokes their API tokens for it (each must be made again from a session with the code)."""
    require(actor, Perm.MANAGE_USERS)
    organization = acting(actor.organization)
    if organization.require_two_factor == required:
        return
    organization.require_two_factor = required
    organization.save(update_fields=["require_two_factor"])
    audit_record(
        actor=actor, action=AuditAction.ORGANIZATION_TWO_FACTOR_SET, obj=organization, required=required
    )
    if required:
        api_tokens_revoke_all(
            actor=actor, reason=REVOKED_BY_ORGANIZATION_TWO_FACTOR, organization=organization
        )


@transaction.atomic
def membership_email_digest_set(*, actor: Actor, choice: str) -> Membership:
    """Choose how the actor gets booking e-mails (N-4) for the organisation acted for: each at once, or an
    hourly or daily digest; audited (X-3). Only the actor's own membership of it changes."""
    require(actor, Perm.CHOOSE_BOOKING_EMAILS)
    if choice not in Membership.Digest.values:
        raise DomainError(_("Choose one of the options offered."), field="email_digest")
    membership = Membership.objects.select_for_update().get(pk=acting(actor.membership).pk)
    previous = membership.email_digest
    if previous == choice:
        return membership
    membership.email_digest = choice
    membership.save(update_fields=["email_digest"])
    audit_record(
        actor=actor,
        action=AuditAction.MEMBER_EMAIL_DIGEST_SET,
        obj=membership,
        previous=previous,
        choice=choice,
    )
    return membership


@transaction.atomic
def user_password_reset(*, actor: Actor, user: User, password: str) -> None:
    """Set the password the owner of the mailbox chose through a reset (or set-password) link; audited, and
    the user's API tokens revoked (whoever knew the old password may have made one)."""
    first = not user.has_usable_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    user_password_replaced(actor=actor, user=user, first_password=first)


@transaction.atomic
def user_password_replaced(*, actor: Actor, user: User, first_password: bool = False) -> None:
    """Record a new password of the user (set through a reset link, or by the operator in admin) and revoke
    the user's API tokens."""
    by_operator = actor.user is not None and actor.user.pk != user.pk
    audit_record(
        actor=actor,
        action=AuditAction.PASSWORD_RESET,
        obj=user,
        first_password=first_password,
        by_operator=by_operator,
    )
    api_tokens_revoke_all(actor=actor, reason=REVOKED_BY_PASSWORD_RESET, user=user)


@transaction.atomic
def user_language_set(*, user: User, language: str) -> None:
    """Set the language of the user's pages and e-mails (X-5)."""
    if language not in dict(settings.LANGUAGES):
        raise DomainError(_("Choose one of the languages offered."))
    user.language = language
    user.save(update_fields=["language"])
