"""The message after a move or cancellation on a calendar page, with its "Undo" button (issue 23).

The button posts to the page's undo URL (`services.booking_undo` decides); it is a plain form, so it works
without JavaScript too, and htmx posts it with the page's filters (`include`) to redraw the calendars.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from medbook.core.timefmt import when
from medbook.scheduling.models import Booking

TEMPLATE = "scheduling/_undo_message.html"


def undo_flash(
    request: HttpRequest,
    *,
    booking: Booking,
    done: str,
    url: str,
    include: str = "#calendar-filters",
    from_calendar: bool = False,
) -> None:
    """Tell the user what was done (`done`, with `%(time)s` the booking's time now) and offer to undo it
    for UNDO_SECONDS: a message tagged "undo", rendered with its form (`core/messages.html`)."""
    context = {
        "done": done % {"time": when(booking.starts_at, booking.institution)},
        "undo_url": reverse(url, args=[booking.pk]),
        "include": include,
        "from_calendar": from_calendar,
        "seconds": settings.UNDO_SECONDS,
        "start": booking.starts_at.isoformat(),
        "booking": booking.pk,
    }
    messages.success(request, render_to_string(TEMPLATE, context, request=request), extra_tags="undo")
