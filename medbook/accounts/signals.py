"""Logins, logouts and failed logins in the audit log (X-3, F8), from django.contrib.auth's signals."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from medbook.accounts.actor import actor_for, client_ip
from medbook.accounts.models import User
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.tenancy import Actor


def _origin(request: HttpRequest | None) -> dict:
    if request is None:
        return {"client_ip": None, "request_id": ""}
    return {"client_ip": client_ip(request), "request_id": getattr(request, "request_id", "")}


@receiver(user_logged_in, dispatch_uid="audit_login")
def audit_login(sender, request: HttpRequest, user, **kwargs) -> None:
    """Who logged in, from where; in the log of the institution they act for first."""
    audit_record(actor=actor_for(user, **_origin(request)), action=AuditAction.LOGIN, obj=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def audit_logout(sender, request: HttpRequest, user, **kwargs) -> None:
    """Who logged out (or whose session ended: idle, too old, deactivated), from where."""
    if user is None:  # an anonymous session "logged out": nobody to record
        return
    audit_record(actor=actor_for(user, **_origin(request)), action=AuditAction.LOGOUT, obj=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(sender, credentials, request: HttpRequest | None = None, **kwargs) -> None:
    """The e-mail tried and the address; in the log of that account's institution when the account exists."""
    email = str(credentials.get(User.USERNAME_FIELD) or credentials.get("username") or "")[:254]
    account = User.objects.filter(email__iexact=email).first() if email else None
    institution = actor_for(account).institution if account is not None else None
    audit_record(
        actor=Actor(user=None, **_origin(request)),
        action=AuditAction.LOGIN_FAILED,
        obj=None,
        institution_id=institution.pk if institution is not None else None,
        email=email,
    )
