"""Login, logout, password reset, two-factor authentication, re-authentication, switching the organisation
acted for, and the members page."""

from base64 import b32encode
from datetime import timedelta
from urllib.parse import urlsplit

import django_otp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medbook.accounts import security
from medbook.accounts.actor import SignedInRequest, actor_for, client_ip
from medbook.accounts.forms import EmailDigestForm, MemberForm
from medbook.accounts.models import Membership, Organization, User
from medbook.accounts.security import reauthentication_required
from medbook.accounts.selectors import organization_members
from medbook.accounts.services import (
    member_permissions_set,
    membership_accept,
    membership_email_digest_set,
    membership_invitation_open,
    membership_set_active,
    organization_switch,
    organization_two_factor_require,
    user_invite,
    user_language_set,
    user_password_reset,
)
from medbook.accounts.two_factor import (
    two_factor_confirm,
    two_factor_device,
    two_factor_disable,
    two_factor_recovery_renew,
    two_factor_start,
)
from medbook.core.decorators import page
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.forms import add_refusal, form_status
from medbook.core.permissions import Perm
from medbook.core.roles import OrgKind
from medbook.core.tenancy import SESSION_ORG_KEY, ActorRequest, acting

members_page = page(Perm.MANAGE_USERS)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        """Log in in the language the login page was read in (chosen there, it becomes the user's own, for
        the pages and the e-mails); without a choice, in the user's own language."""
        user = form.get_user()
        chosen = self.request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if chosen in dict(settings.LANGUAGES) and chosen != user.language:
            user_language_set(user=user, language=chosen)
        response = super().form_valid(form)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
        return response


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Also reach invited users who have not set a password yet, so an expired link can be renewed."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=email, is_active=True)

    def save(self, *args, **kwargs):
        """Build the link from SITE_URL, never from the Host the request claims."""
        site = urlsplit(settings.SITE_URL)
        kwargs.update(domain_override=site.netloc, use_https=site.scheme == "https")
        return super().save(*args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    html_email_template_name = "accounts/email/password_reset.html"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """Throttle the form per address and per email address (each request may send an email)."""
        window = timedelta(minutes=settings.PASSWORD_RESET_WINDOW_MINUTES)
        limit = settings.PASSWORD_RESET_LIMIT
        email = security.email_key(request.POST.get("email", ""))
        allowed = security.throttle_allows(
            "reset-address", client_ip(request) or "-", limit=limit, window=window
        ) and (not email or security.throttle_allows("reset-email", email, limit=limit, window=window))
        if not allowed:
            return security.refused(request, minutes=settings.PASSWORD_RESET_WINDOW_MINUTES)
        return super().post(request, *args, **kwargs)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    request: ActorRequest  # ActorMiddleware's, with its request id

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        """The owner of the mailbox set a new password (audited, the API tokens revoked); the account's login
        refusal ends. As Django's own, the page logs nobody in."""
        request = self.request
        actor = actor_for(form.user, client_ip=client_ip(request), request_id=request.request_id)
        user_password_reset(actor=actor, user=form.user, password=form.cleaned_data["new_password1"])
        del request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        security.login_throttle_clear(form.user.email)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def _safe_next(request: ActorRequest, target: str) -> str:
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "/"


@require_POST
@login_required
def switch_organization(request: ActorRequest) -> HttpResponse:
    """Act for another organisation the user belongs to: only by POST, audited."""
    try:
        membership = organization_switch(
            actor=request.actor, organization_id=request.POST.get("organization", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        request.session[SESSION_ORG_KEY] = membership.organization_id
    return HttpResponseRedirect(_safe_next(request, request.POST.get("next", "")))


@login_required
def organization_switch_ask(request: ActorRequest) -> HttpResponse:
    """Where a link of another organisation of the user leads: ask, with the button that posts the switch;
    nothing changes here."""
    chosen = request.GET.get("organization", "")
    membership = next((m for m in request.actor.memberships if str(m.organization_id) == chosen), None)
    if membership is None:
        raise Http404()
    context = {"membership": membership, "next": _safe_next(request, request.GET.get("next", ""))}
    return render(request, "accounts/organization_switch.html", context)


# The members page: "Users" of an institution, "Administration / Admin Users" of a partner (B-10, P-10).


def _organization(request: ActorRequest) -> Organization:
    """The organisation whose members the page shows: its actor manages its users, so it acts for one."""
    return acting(request.actor.organization)


def _members(request: ActorRequest) -> QuerySet[Membership]:
    return organization_members(_organization(request).pk)


def _title(request: ActorRequest) -> str:
    return _("Admin Users") if _organization(request).kind == OrgKind.PARTNER else _("Users")


@members_page
def member_list(request: ActorRequest) -> HttpResponse:
    """The people who act for the organisation, with their role, permissions and whether they still may."""
    context = {
        "memberships": _members(request),
        "title": _title(request),
        "is_partner": _organization(request).kind == OrgKind.PARTNER,
        "require_two_factor": _organization(request).require_two_factor,
    }
    return render(request, "accounts/member_list.html", context)


@members_page
@require_POST
@reauthentication_required
def two_factor_policy(request: ActorRequest) -> HttpResponse:
    """Require two-factor authentication of the organisation's users, or stop requiring it."""
    required = request.POST.get("required") == "1"
    organization_two_factor_require(actor=request.actor, required=required)
    if required:
        messages.success(request, _("Every user must now set up two-factor authentication."))
    else:
        messages.success(request, _("Two-factor authentication is no longer required here."))
    return redirect("accounts:member-list")


@members_page
def member_create(request: ActorRequest) -> HttpResponse:
    """Invite a person; a new one gets an email with a link to set a password (B-10, N-3)."""
    kind = _organization(request).kind
    form = MemberForm(request.POST if request.method == "POST" else None, kind=kind, invite=True)
    if form.is_bound and form.is_valid():
        try:
            membership = user_invite(actor=request.actor, **form.invitation, **form.permissions)
        except DomainError as error:
            add_refusal(form, error)
        else:
            # The same words whether or not the person already had an account: nothing to learn from it.
            note = _("An invitation is on its way to %(email)s.")
            messages.success(request, note % {"email": membership.user.email})
            return redirect("accounts:member-list")
    context = {"form": form, "title": _("Add user")}
    return render(request, "accounts/member_form.html", context, status=form_status(form))


@members_page
@reauthentication_required
def member_edit(request: ActorRequest, pk: int) -> HttpResponse:
    """Change a member's role and permissions."""
    membership = get_object_or_404(_members(request), pk=pk)
    kind = _organization(request).kind
    data = request.POST if request.method == "POST" else None
    form = MemberForm(data, kind=kind, invite=False, initial=MemberForm.initial_for(membership))
    if form.is_bound and form.is_valid():
        try:
            member_permissions_set(actor=request.actor, membership=membership, **form.permissions)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("accounts:member-list")
    context = {
        "form": form,
        "title": _("Permissions of %(name)s") % {"name": membership.user},
        "membership": membership,
    }
    return render(request, "accounts/member_form.html", context, status=form_status(form))


@members_page
@require_POST
@reauthentication_required
def member_toggle(request: ActorRequest, pk: int) -> HttpResponse:
    """Deactivate (access ends with the next request) or reactivate a member."""
    membership = get_object_or_404(_members(request), pk=pk)
    error = ""
    try:
        membership = membership_set_active(
            actor=request.actor, membership=membership, active=request.POST.get("active") == "1"
        )
    except NotPermitted:
        raise
    except DomainError as refusal:
        error = str(refusal.message)
    if request.htmx:
        context = {
            "membership": membership,
            "error": error,
            "is_partner": _organization(request).kind == OrgKind.PARTNER,
        }
        return render(request, "accounts/member_list.html#member-row", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Saved."))
    return redirect("accounts:member-list")


@login_required
def membership_accept_view(request: ActorRequest, token: str) -> HttpResponse:
    """The link e-mailed to a person with an account: accept the role an organisation offers (or not)."""
    membership = membership_invitation_open(user=request.user, token=token)
    if request.method == "POST":
        membership = membership_accept(actor=request.actor, token=token)
        request.session[SESSION_ORG_KEY] = membership.organization_id
        messages.success(
            request,
            _("You now act for %(organization)s.") % {"organization": membership.organization.name},
        )
        return redirect("core:home")
    return render(request, "accounts/membership_accept.html", {"membership": membership})


# Two-factor authentication and re-authentication.


def _next_or(request: ActorRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return default
    return target


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class PasswordAgainForm(forms.Form):
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


@login_required
def two_factor(request: SignedInRequest) -> HttpResponse:
    """The user's two-factor authentication: turn it on, move it to a new app, renew the recovery codes,
    turn it off."""
    if request.method == "POST":
        return _two_factor_start(request)
    context = {
        "enrolled": two_factor_device(request.user, confirmed=True) is not None,
        "required": security.must_enrol(request.actor),
    }
    return render(request, "accounts/two_factor.html", context)


@reauthentication_required
def _two_factor_start(request: ActorRequest) -> HttpResponse:
    try:
        two_factor_start(actor=request.actor, assurance=security.assurance(request))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("accounts:two-factor")
    return redirect("accounts:two-factor-confirm")


@login_required
@reauthentication_required
def two_factor_setup(request: SignedInRequest) -> HttpResponse:
    """Show the new secret and confirm it with a code; then the recovery codes, this once."""
    device = two_factor_device(request.user, confirmed=False)
    if device is None:
        return redirect("accounts:two-factor")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            codes = two_factor_confirm(
                actor=request.actor,
                assurance=security.assurance(request),
                device=device,
                code=form.cleaned_data["code"],
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            django_otp.login(request, device)
            security.enrolment_changed(request)
            messages.success(request, _("Two-factor authentication is on."))
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
    context = {
        "form": form,
        "secret": b32encode(device.bin_key).decode(),
        "uri": device.config_url,
    }
    return render(request, "accounts/two_factor_setup.html", context, status=form_status(form))


@login_required
def two_factor_verify(request: ActorRequest) -> HttpResponse:
    """The second step of the login: a code of the authenticator app or one of the recovery codes."""
    target = _next_or(request, resolve_url(settings.LOGIN_REDIRECT_URL))
    if security.session_verified(request) or not django_otp.user_has_device(request.user, confirmed=True):
        security.enrolment_changed(request)
        return HttpResponseRedirect(target)
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound and form.is_valid():
        device = django_otp.match_token(request.user, form.cleaned_data["code"].strip().replace(" ", ""))
        if device is not None:
            django_otp.login(request, device)
            return HttpResponseRedirect(target)
        form.add_error("code", _("That code is not right. Wait for the next code and try again."))
        status = 422
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": target}, status=status)


@require_POST
@login_required
@reauthentication_required
def two_factor_recovery(request: ActorRequest) -> HttpResponse:
    """Replace the recovery codes and show the new ones, this once."""
    try:
        codes = two_factor_recovery_renew(actor=request.actor, assurance=security.assurance(request))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("accounts:two-factor")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@require_POST
@login_required
@reauthentication_required
def two_factor_off(request: ActorRequest) -> HttpResponse:
    """Turn two-factor authentication off (not for those the platform requires it of)."""
    try:
        two_factor_disable(
            actor=request.actor,
            assurance=security.assurance(request),
            required=security.must_enrol(request.actor),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        security.enrolment_changed(request)
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:two-factor")


@page(Perm.CHOOSE_BOOKING_EMAILS)
def email_preferences(request: ActorRequest) -> HttpResponse:
    """The member's choice for the organisation acted for: booking e-mails each at once, or a digest."""
    membership = acting(request.actor.membership)
    form = EmailDigestForm(
        request.POST if request.method == "POST" else None, initial={"email_digest": membership.email_digest}
    )
    if form.is_bound and form.is_valid():
        try:
            membership_email_digest_set(actor=request.actor, choice=form.cleaned_data["email_digest"])
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Your choice of e-mails is saved."))
            return redirect("accounts:email-preferences")
    context = {"form": form, "organization": request.actor.organization}
    return render(request, "accounts/email_preferences.html", context, status=form_status(form))


@login_required
def reauthenticate(request: SignedInRequest) -> HttpResponse:
    """Ask for the password again before a sensitive change; wrong passwords count towards the throttle."""
    target = _next_or(request, "/")
    form = PasswordAgainForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        user = authenticate(request, username=request.user.email, password=form.cleaned_data["password"])
        if user is not None and user.pk == request.user.pk:
            security.password_given(request)
            return HttpResponseRedirect(target)
        form.add_error("password", _("That password is not right."))
    context = {"form": form, "next": target}
    return render(request, "accounts/reauthenticate.html", context, status=form_status(form))
