"""The partner's own bookings: the list with its filters and the secret iCalendar feed (X-6)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medbook.core.tenancy import ActorRequest
from medbook.partners import access, ical
from medbook.partners.forms.book import BookingListFilterForm
from medbook.partners.models import CalendarFeed
from medbook.partners.selectors import partner_booking_rows, partner_bookings
from medbook.partners.services import feed as feed_services
from medbook.partners.views.book import booker

NEW_FEED_TOKEN = "new_calendar_feed_token"  # the session key holding a new address until the list shows it


@booker
def booking_list(request: ActorRequest) -> HttpResponse:
    """The partner's bookings, filtered by institution, period and status."""
    partnerships = access.bookable_partnerships(actor=request.actor)
    form = BookingListFilterForm(request.GET or None, institutions=[p.institution for p in partnerships])
    bookings = partner_bookings(request.actor).order_by("-starts_at", "-pk")
    if form.is_bound and not form.is_valid():
        bookings = bookings.none()  # an unknown institution or a bad date: the errors say why
    elif form.is_bound:
        data = form.cleaned_data
        if data["institution"]:
            bookings = bookings.filter(institution_id=data["institution"])
        if data["status"]:
            bookings = bookings.filter(status=data["status"])
        if data["date_from"]:
            bookings = bookings.filter(starts_at__date__gte=data["date_from"])
        if data["date_until"]:
            bookings = bookings.filter(starts_at__date__lte=data["date_until"])
    feed = CalendarFeed.objects.filter(membership=request.actor.membership).first()
    # The address just made, shown this once (only its hash is kept): taken out of the session as it is read.
    new_token = request.session.pop(NEW_FEED_TOKEN, None) if feed is not None else None
    context = {
        "form": form,
        "bookings": partner_booking_rows(bookings[:500]),
        "feed": feed,
        "new_feed_token": new_token,
    }
    return render(request, "partners/book/booking_list.html", context)


@booker
@require_POST
def feed_settings(request: ActorRequest) -> HttpResponse:
    """Create or replace (the old address stops working) or switch off the secret feed address."""
    if request.POST.get("action") == "revoke":
        request.session.pop(NEW_FEED_TOKEN, None)
        feed_services.calendar_feed_revoke(actor=request.actor)
        messages.success(request, _("The calendar feed is switched off."))
    else:
        _feed, token = feed_services.calendar_feed_renew(actor=request.actor)
        request.session[NEW_FEED_TOKEN] = token
        messages.success(request, _("A new calendar feed address was made; the old one no longer works."))
    return redirect("partners:booking-list")


def feed(request: ActorRequest, token: str) -> HttpResponse:
    """The iCalendar feed at its secret address (no login: calendar applications fetch it)."""
    name, bookings = ical.feed_bookings(token)
    response = HttpResponse(ical.render_calendar(name, bookings), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="medbook-bookings.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
