"""The patient's page of one booking, opened logged out from the link in their e-mail (B-14, P-16): see it,
confirm a partner's booking, move it, cancel it. Every request counts against the address's limit first;
any token but a live one is the one 404 page."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medbook.accounts.security import throttle_allows
from medbook.core.errors import DomainError, TooManyRequests
from medbook.core.forms import REFUSED_STATUS
from medbook.core.tenancy import ActorRequest
from medbook.scheduling import manage, policy
from medbook.scheduling.forms import MoveForm
from medbook.scheduling.manage_links import manage_link_booking
from medbook.scheduling.models import Booking

THROTTLE_SCOPE = "manage-link"


def _opened(request: ActorRequest, token: str) -> Booking:
    """Count the request against its address's limit, then open the booking of a live link (else 404)."""
    window = timedelta(minutes=settings.MANAGE_LINK_WINDOW_MINUTES)
    address = request.actor.client_ip or "unknown"
    if not throttle_allows(THROTTLE_SCOPE, address, limit=settings.MANAGE_LINK_LIMIT, window=window):
        raise TooManyRequests(retry_after=int(window.total_seconds()))
    return manage_link_booking(token)


def _actor(request: ActorRequest, booking: Booking):
    return manage.patient_actor(
        booking=booking, client_ip=request.actor.client_ip, request_id=request.actor.request_id
    )


def _page(request: ActorRequest, token: str, booking: Booking, *, refusal: str = "", status: int = 200):
    institution = booking.institution
    changeable = policy.patient_change_refusal(booking) is None
    context = {
        "booking": booking,
        "token": token,
        "institution": institution,
        "changeable": changeable,
        "move_days": manage.patient_move_choices(booking=booking) if changeable else [],
        "confirmation_wanted": booking.status == Booking.Status.BOOKED
        and booking.partner_id is not None
        and booking.patient_confirmed_at is None,
        "refusal": refusal,
    }
    response = render(request, "scheduling/manage.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


def _back(token: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("scheduling:manage", args=[token]))


def manage_page(request: ActorRequest, token: str) -> HttpResponse:
    """Show the booking with what the patient may still do (a POST here changes nothing: the same page)."""
    return _page(request, token, _opened(request, token))


@require_POST
def manage_cancel(request: ActorRequest, token: str) -> HttpResponse:
    """Cancel the booking; the link then opens nothing."""
    booking = _opened(request, token)
    try:
        manage.patient_cancel(actor=_actor(request, booking), booking=booking)
    except DomainError as error:
        return _page(request, token, booking, refusal=str(error.message), status=error.status_code)
    return render(request, "scheduling/manage_cancelled.html", {"booking": booking})


@require_POST
def manage_move(request: ActorRequest, token: str) -> HttpResponse:
    """Move the booking to the free time chosen."""
    booking = _opened(request, token)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _page(
            request, token, booking, refusal=_("Choose one of the free times."), status=REFUSED_STATUS
        )
    try:
        manage.patient_move(
            actor=_actor(request, booking), booking=booking, starts_at=form.cleaned_data["starts_at"]
        )
    except DomainError as error:
        return _page(request, token, booking, refusal=str(error.message), status=error.status_code)
    messages.success(request, _("Your appointment was moved."))
    return _back(token)


@require_POST
def manage_confirm(request: ActorRequest, token: str) -> HttpResponse:
    """Confirm that the patient wanted the booking a partner made for them."""
    booking = _opened(request, token)
    try:
        manage.booking_patient_confirm(actor=_actor(request, booking), booking=booking)
    except DomainError as error:
        return _page(request, token, booking, refusal=str(error.message), status=error.status_code)
    messages.success(request, _("Thank you: your appointment is confirmed."))
    return _back(token)
