""" "Webhooks": an organisation's administrator registers endpoints, reads the delivery log, redelivers."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from medbook.core.decorators import page
from medbook.core.errors import DomainError
from medbook.core.forms import add_refusal, form_status
from medbook.core.permissions import Perm
from medbook.core.tenancy import ActorRequest
from medbook.webhooks.models import WebhookEvent
from medbook.webhooks.services import (
    deliveries_of,
    endpoints_of,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_redeliver,
)

administrators = page(Perm.MANAGE_USERS)
LOG_LENGTH = 50


class EndpointForm(forms.Form):
    url = forms.CharField(label=gettext_lazy("URL"), max_length=500)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )


@administrators
def endpoint_list(request: ActorRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    secret = None
    if form.is_bound and form.is_valid():
        try:
            _endpoint, secret = webhook_endpoint_create(actor=request.actor, **form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            form = EndpointForm()
    context = {
        "form": form,
        "secret": secret,
        "endpoints": endpoints_of(request.actor),
        "deliveries": deliveries_of(request.actor).order_by("-created_at", "-pk")[:LOG_LENGTH],
    }
    response = render(request, "webhooks/endpoints.html", context, status=form_status(form))
    response["Cache-Control"] = "no-store"
    return response


@administrators
@require_POST
def endpoint_delete(request: ActorRequest, pk: int) -> HttpResponse:
    webhook_endpoint_delete(actor=request.actor, endpoint_id=pk)
    messages.success(request, _("Endpoint removed."))
    return redirect("webhooks:endpoint-list")


@administrators
@require_POST
def delivery_redeliver(request: ActorRequest, pk: int) -> HttpResponse:
    webhook_redeliver(actor=request.actor, delivery_id=pk)
    messages.success(request, _("The delivery will be sent again."))
    return redirect("webhooks:endpoint-list")
