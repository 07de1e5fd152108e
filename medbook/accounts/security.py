"""Authentication hardening: login throttling, the two-factor gate, session limits, no-store, re-authentication."""

import time
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import cast

from axes.backends import AxesStandaloneBackend
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect
from django_otp import user_has_device

from medbook.accounts.actor import client_ip
from medbook.accounts.models import ThrottleEvent
from medbook.accounts.two_factor import Assurance
from medbook.core.roles import Role
from medbook.core.tenancy import Actor, ActorRequest

SESSION_LOGIN_AT = "login_at"  # when the session logged in (the 8-hour limit counts from here)
SESSION_SEEN_AT = "seen_at"  # the last request (the idle limit counts from here)
SESSION_AUTH_AT = "password_at"  # when the password was last given: at login or re-authentication
SESSION_ENROLLED = "otp_enrolled"  # whether the user has a confirmed second factor (cached per session)
SEEN_RESOLUTION = 60  # seconds: the last request is written to the session at most once a minute
ADMIN_ROLES = (Role.ADMIN, Role.PARTNER_ADMIN)


# Throttling (F7): django-axes counts wrong passwords per account and per address; these are its hooks.


class ThrottleBackend(AxesStandaloneBackend):
    """Refuse a login while its account or address cools off; without a request (a command) nothing is
    throttled, as no one can guess through it."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def throttle_address(request: HttpRequest) -> str | None:
    """The address counted: the one the audit log records."""
    return client_ip(request)


def email_key(value: str) -> str:
    """The key an e-mail address is counted by, in the login's and the password reset's throttles alike.

    Every spelling a database's case-insensitive comparison takes for the same address gets the same key on
    both engines: PostgreSQL's iexact compares UPPER() of both sides, so "alıce" (a dotless ı) finds alice
    there; upper() before casefold() maps ı to i (casefold alone keeps it), and NFKC the compatibility forms
    (full-width letters, ligatures). An e-mail address is at most 254 characters; anything longer is counted
    by its first 254 (the throttle stores it, and a 5,000-character "username" must be refused, not crash).
    """
    text = unicodedata.normalize("NFKC", value.replace("\x00", "").strip())
    return unicodedata.normalize("NFKC", text.upper().casefold())[:254]


def throttle_username(request: HttpRequest, credentials) -> str | None:
    """The account counted, whatever the case, spelling or spaces the form was given."""
    credentials = credentials or {}
    username = str(credentials.get("username") or credentials.get("email") or "")
    return email_key(username) or None


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def refused(request: HttpRequest, minutes: int | None = None) -> HttpResponse:
    """The 429 page of a login or reset refused for too many attempts."""
    context = {"minutes": minutes or lockout_minutes()}
    return render(request, "accounts/throttled.html", context, status=429)


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    return refused(request)


@receiver(user_login_failed)
def slow_down_failure(sender, credentials=None, request: HttpRequest | None = None, **kwargs) -> None:
    """A wrong password answers late, so guessing is slow even before the refusal."""
    if request is not None and settings.LOGIN_FAILURE_DELAY_SECONDS > 0:
        time.sleep(settings.LOGIN_FAILURE_DELAY_SECONDS)


@transaction.atomic
def throttle_allows(scope: str, key: str, *, limit: int, window: timedelta) -> bool:
    """Count one attempt of `scope` by `key`; False once `limit` attempts fall within the window."""
    since = timezone.now() - window
    ThrottleEvent.objects.filter(scope=scope, created_at__lt=since).delete()
    if ThrottleEvent.objects.filter(scope=scope, key=key, created_at__gte=since).count() >= limit:
        return False
    ThrottleEvent.objects.create(scope=scope, key=key)
    return True


def throttle_clear(scope: str, key: str) -> None:
    ThrottleEvent.objects.filter(scope=scope, key=key).delete()


def login_throttle_clear(username: str) -> None:
    """End an account's refusal (after its password was reset through its mailbox)."""
    axes_reset(username=email_key(username))


# Sessions (F10): 8 hours after login, 30 minutes idle; the times live in the session itself.


@receiver(user_logged_in)
def session_start(sender, request: HttpRequest | None = None, user=None, **kwargs) -> None:
    """Stamp the new session (Django has rotated its key) with the login and password times."""
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[SESSION_LOGIN_AT] = now
    request.session[SESSION_SEEN_AT] = now
    request.session[SESSION_AUTH_AT] = now
    request.session.pop(SESSION_ENROLLED, None)


def _to(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows as a whole page."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


class SessionLimitsMiddleware:
    """Log out a session 8 hours after its login or 30 minutes after its last request (both configurable)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            login_at = session.setdefault(SESSION_LOGIN_AT, now)
            seen_at = session.get(SESSION_SEEN_AT, now)
            if now - seen_at > settings.SESSION_IDLE_TIMEOUT or now - login_at > settings.SESSION_COOKIE_AGE:
                logout(request)
                messages.info(request, _("Your session has ended. Please log in again."))
                return _to(request, _with_next("accounts:login", request.get_full_path()))
            if now - seen_at >= SEEN_RESOLUTION or SESSION_SEEN_AT not in session:
                session[SESSION_SEEN_AT] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """Forbid every cache to keep an authenticated response (pages with patient data among them)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True)
        return response


# Two-factor authentication: an enrolled user's session counts only after the code; administrators and the
# operator must enrol where the platform requires it.

TWO_FACTOR_FREE = {  # the only pages a session may reach between the password and the code
    "accounts:two-factor-verify",
    "accounts:logout",
    "admin:logout",
    "core:language-set",
}
# The enrolment pages (and the password prompt they may ask for) before the second factor: only for a user
# without one, who must enrol. A user who has a second factor reaches them only after its code, so the
# password alone can never put another authenticator in its place.
FIRST_ENROLMENT_PAGES = {
    "accounts:two-factor",
    "accounts:two-factor-confirm",
    "accounts:reauthenticate",
}


def is_enrolled(request: HttpRequest) -> bool:
    """Whether the user has a confirmed second factor: asked again after a minute, so that an enrolment made
    in another session soon applies to this one too."""
    now = time.time()
    cached = request.session.get(SESSION_ENROLLED)
    if isinstance(cached, list) and len(cached) == 2 and now - cached[1] < SEEN_RESOLUTION:
        return bool(cached[0])
    enrolled = user_has_device(request.user, confirmed=True)
    request.session[SESSION_ENROLLED] = [enrolled, now]
    return enrolled


def enrolment_changed(request: HttpRequest) -> None:
    request.session.pop(SESSION_ENROLLED, None)


def must_enrol(actor: Actor) -> bool:
    """Whether this actor must use two-factor authentication: an organisation of theirs requires it of its
    users, or the platform of administrators and the operator."""
    if actor.user is None:
        return False
    if any(m.organization.require_two_factor for m in actor.memberships):
        return True
    if not settings.REQUIRE_2FA_FOR_ADMINS:
        return False
    if actor.user.is_staff or actor.user.is_superuser:
        return True
    return any(m.role in ADMIN_ROLES for m in actor.memberships)


class TwoFactorMiddleware:
    """Send an enrolled user to the code page until the session is verified, and an administrator who must
    enrol to the enrolment page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: ActorRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or session_verified(request):
            return None
        match = request.resolver_match
        view_name = match.view_name if match is not None else None
        if view_name in TWO_FACTOR_FREE:
            return None
        if is_enrolled(request):
            return _to(request, _with_next("accounts:two-factor-verify", request.get_full_path()))
        if view_name in FIRST_ENROLMENT_PAGES:
            return None
        if must_enrol(request.actor):
            messages.warning(request, _("Set up two-factor authentication first: it is required of you."))
            return _to(request, reverse("accounts:two-factor"))
        return None


def session_verified(request: HttpRequest) -> bool:
    """Whether the session proved the user's second factor with a code."""
    # django-otp's OTPMiddleware gives every request's user an is_verified(); User's and AnonymousUser's types
    # do not know it.
    return request.user.is_verified()  # type: ignore[union-attr]


def second_factor_complete(request: ActorRequest) -> bool:
    """Whether the session has nothing more to prove: verified by its code, or of a user who has no second
    factor and need not have one."""
    user = request.user
    if not user.is_authenticated:
        return False
    if session_verified(request):
        return True
    return not user_has_device(user, confirmed=True) and not must_enrol(request.actor)


def assurance(request: HttpRequest) -> Assurance:
    """What this session has proved, for the services that change the second factor."""
    return Assurance(verified=session_verified(request), recent_password=password_is_recent(request))


# Re-authentication before role changes, partner deletion and data-access changes.


def password_is_recent(request: HttpRequest) -> bool:
    given = request.session.get(SESSION_AUTH_AT, 0)
    return time.time() - given <= settings.REAUTH_MAX_AGE_SECONDS


def password_given(request: HttpRequest) -> None:
    request.session[SESSION_AUTH_AT] = time.time()


def _back_to(request: HttpRequest) -> str:
    """Where to return after re-authenticating: this page, or for a form post the page that sent it."""
    if request.method == "GET":
        return request.get_full_path()
    candidate = getattr(getattr(request, "htmx", None), "current_url", None) or request.META.get(
        "HTTP_REFERER", ""
    )
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return "/"


def reauthentication_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ask for the password again unless it was given in the last few minutes (REAUTH_MAX_AGE_SECONDS)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and not password_is_recent(request):
            return _to(request, _with_next("accounts:reauthenticate", _back_to(request)))
        return view(request, *args, **kwargs)

    return wrapper


# The operator's /admin/: the same login as everyone's (password, then the code), never Django's own form.


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """Send /admin/login/ to the application's login, which asks for the code of an enrolled user; a logged-in
    person whom admin still refuses is not an operator (403), never shown a second, plainer login."""
    target = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("admin:index")
    if not request.user.is_authenticated:
        return HttpResponseRedirect(_with_next("accounts:login", target))
    if admin_has_permission(request):
        return HttpResponseRedirect(target)
    raise PermissionDenied


def admin_has_permission(request: HttpRequest) -> bool:
    """Admin is the operator's, and only once the session has proved its second factor (or has none to
    prove)."""
    user = request.user
    # Django's admin hands over an HttpRequest; ActorMiddleware has made every request an ActorRequest.
    return user.is_active and user.is_staff and second_factor_complete(cast(ActorRequest, request))
