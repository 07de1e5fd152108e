"""Login, logout, password reset, switching the organisation acted for, and the members page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medbook.accounts.forms import MemberForm
from medbook.accounts.models import User
from medbook.accounts.selectors import organization_members
from medbook.accounts.services import (
    member_permissions_set,
    membership_accept,
    membership_invitation_open,
    membership_set_active,
    organization_switch,
    user_invite,
)
from medbook.core.decorators import page
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.forms import add_refusal, form_status
from medbook.core.permissions import Perm
from medbook.core.roles import OrgKind
from medbook.core.tenancy import SESSION_ORG_KEY

members_page = page(Perm.MANAGE_USERS)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        """Log in and switch the interface to the user's own language."""
        response = super().form_valid(form)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.get_user().language, samesite="Lax")
        return response


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Also reach invited users who have not set a password yet, so an expired link can be renewed."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=email, is_active=True)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    html_email_template_name = "accounts/email/password_reset.html"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@require_POST
@login_required
def switch_organization(request):
    """Act for another organisation the user belongs to."""
    try:
        membership = organization_switch(
            actor=request.actor, organization_id=request.POST.get("organization", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        request.session[SESSION_ORG_KEY] = membership.organization_id
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target)


# The members page: "Users" of an institution, "Administration / Admin Users" of a partner (B-10, P-10).


def _members(request: HttpRequest):
    return organization_members(request.actor.organization.pk)


def _title(request: HttpRequest) -> str:
    return _("Admin Users") if request.actor.organization.kind == OrgKind.PARTNER else _("Users")


@members_page
def member_list(request: HttpRequest) -> HttpResponse:
    """The people who act for the organisation, with their role, permissions and whether they still may."""
    context = {
        "memberships": _members(request),
        "title": _title(request),
        "is_partner": request.actor.organization.kind == OrgKind.PARTNER,
    }
    return render(request, "accounts/member_list.html", context)


@members_page
def member_create(request: HttpRequest) -> HttpResponse:
    """Invite a person; a new one gets an email with a link to set a password (B-10, N-3)."""
    kind = request.actor.organization.kind
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
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a member's role and permissions."""
    membership = get_object_or_404(_members(request), pk=pk)
    kind = request.actor.organization.kind
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
def member_toggle(request: HttpRequest, pk: int) -> HttpResponse:
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
            "is_partner": request.actor.organization.kind == OrgKind.PARTNER,
        }
        return render(request, "accounts/member_list.html#member-row", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Saved."))
    return redirect("accounts:member-list")


@login_required
def membership_accept_view(request: HttpRequest, token: str) -> HttpResponse:
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
