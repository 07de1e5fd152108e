"""Two-factor authentication (TOTP with one-time recovery codes, django-otp): enrol, replace, renew the
recovery codes, turn off.

A change to the second factor needs what the session has proved (`Assurance`): a user who has one must have
given its code in this session, and everyone the password within the last minutes. The rule lives here, so
no page can forget it: the password alone never replaces, removes or re-issues a second factor.
"""

from dataclasses import dataclass

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from medbook.accounts.models import User
from medbook.accounts.tokens import REVOKED_BY_TWO_FACTOR, api_tokens_revoke_all
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.tenancy import Actor, acting

RECOVERY_CODE_COUNT = 10


@dataclass(frozen=True)
class Assurance:
    """What the acting session has proved: its second factor (django-otp's "verified") and a recent
    password (given at login or again within REAUTH_MAX_AGE_SECONDS)."""

    verified: bool
    recent_password: bool


def two_factor_device(user: User, *, confirmed: bool) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()


def _require_assurance(actor: Actor, assurance: Assurance) -> None:
    """Refuse a change of the second factor to a session that has not proved enough."""
    if actor.user is None:
        raise NotPermitted()
    if user_has_device(actor.user, confirmed=True) and not assurance.verified:
        raise NotPermitted(_("Enter a code of your authenticator app first."))
    if not assurance.recent_password:
        raise NotPermitted(_("Enter your password again first."))


@transaction.atomic
def two_factor_start(*, actor: Actor, assurance: Assurance) -> TOTPDevice:
    """A new authenticator secret for the actor to confirm (any earlier unconfirmed one is dropped); for a
    user who already has one, its replacement."""
    _require_assurance(actor, assurance)
    TOTPDevice.objects.filter(user=actor.user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=actor.user, name="authenticator", confirmed=False)


def _recovery_codes_renew(user: User) -> list[str]:
    """New codes on the same device, so a session verified by a recovery code stays verified."""
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    StaticToken.objects.filter(device=device).delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def two_factor_confirm(*, actor: Actor, assurance: Assurance, device: TOTPDevice, code: str) -> list[str]:
    """Turn two-factor authentication on (or move it to the new app) once the authenticator's code matches;
    return the recovery codes, shown this once. The user's API tokens are revoked: one made by someone who
    had only the password must not outlive the enrolment."""
    _require_assurance(actor, assurance)
    user = acting(actor.user)
    if device.user_id != user.pk or device.confirmed:
        raise Http404()
    if not device.verify_token(code.strip().replace(" ", "")):
        raise DomainError(_("That code is not right. Enter the current code of your app."), field="code")
    replaced = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    codes = _recovery_codes_renew(user)
    audit_record(actor=actor, action=AuditAction.TWO_FACTOR_ENABLE, obj=user, replaced=replaced)
    api_tokens_revoke_all(actor=actor, reason=REVOKED_BY_TWO_FACTOR, user=user)
    return codes


@transaction.atomic
def two_factor_recovery_renew(*, actor: Actor, assurance: Assurance) -> list[str]:
    """New recovery codes in place of the old ones (for an enrolled user)."""
    _require_assurance(actor, assurance)
    user = acting(actor.user)
    if two_factor_device(user, confirmed=True) is None:
        raise DomainError(_("Two-factor authentication is not on."))
    codes = _recovery_codes_renew(user)
    audit_record(actor=actor, action=AuditAction.TWO_FACTOR_RECOVERY_RENEW, obj=user)
    return codes


@transaction.atomic
def two_factor_disable(*, actor: Actor, assurance: Assurance, required: bool) -> None:
    """Turn two-factor authentication off, unless the platform or an organisation requires it of the actor."""
    _require_assurance(actor, assurance)
    if required:
        raise DomainError(_("Two-factor authentication is required of you: it stays on."))
    TOTPDevice.objects.filter(user=actor.user).delete()
    StaticDevice.objects.filter(user=actor.user).delete()
    audit_record(actor=actor, action=AuditAction.TWO_FACTOR_DISABLE, obj=actor.user)
