""" "API tokens": a member makes, names and revokes personal tokens for the organisation it acts for."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from medbook.accounts.tokens import DEFAULT_DAYS, MAX_DAYS, api_token_create, api_token_revoke, api_tokens_of
from medbook.core.decorators import page
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.forms import add_refusal, form_status
from medbook.core.tenancy import ActorRequest


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"), min_value=1, max_value=MAX_DAYS, initial=DEFAULT_DAYS
    )
    read_only = forms.BooleanField(label=gettext_lazy("Read only"), required=False)


def _member(request: ActorRequest) -> None:
    if request.actor.membership is None:
        raise NotPermitted(_("Only a member of an organisation can hold an API token."))


@page()
def token_list(request: ActorRequest) -> HttpResponse:
    """The actor's tokens for this organisation, and the form that makes one (its secret shown once)."""
    _member(request)
    form = TokenForm(request.POST or None)
    secret = None
    if form.is_bound and form.is_valid():
        try:
            _token, secret = api_token_create(actor=request.actor, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            form = TokenForm()
    context = {
        "form": form,
        "secret": secret,
        "tokens": api_tokens_of(request.actor),
        "organization": request.actor.organization,
    }
    response = render(request, "accounts/api_tokens.html", context, status=form_status(form))
    response["Cache-Control"] = "no-store"
    return response


@page()
@require_POST
def token_revoke(request: ActorRequest, pk: int) -> HttpResponse:
    _member(request)
    token = api_token_revoke(actor=request.actor, token_id=pk)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("accounts:api-token-list")
