"""Writes for users and memberships."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from medbook.accounts.models import Membership, User
from medbook.core.errors import DomainError
from medbook.core.permissions import Perm, require
from medbook.notifications.services import notification_enqueue


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


@transaction.atomic
def user_invite(*, actor, email: str, full_name: str, role: str, language: str = "en") -> Membership:
    """Add a user to the actor's organisation with a role and email a link to set a password (B-10)."""
    require(actor, Perm.MANAGE_USERS)
    organization = actor.organization
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(email=email, full_name=full_name, language=language)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if Membership.objects.filter(user=user, organization=organization).exists():
        raise DomainError(_("This person is already a user here."), field="email")
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    if created or not user.has_usable_password():
        send_set_password_email(user=user, organization_name=organization.name)
    return membership


@transaction.atomic
def membership_set_active(*, actor, membership: Membership, active: bool) -> Membership:
    """Deactivate (access ends at once) or reactivate a user's membership of the actor's organisation."""
    require(actor, Perm.MANAGE_USERS)
    if membership.organization_id != actor.organization.pk:
        raise Http404()  # another organisation's user: as if it did not exist
    if membership.user_id == actor.user.pk and not active:
        raise DomainError(_("You cannot deactivate yourself."))
    membership.is_active = active
    membership.save(update_fields=["is_active"])
    return membership
