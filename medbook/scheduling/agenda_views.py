"""The desk's day agenda page (issue 23): a location's day, every physician side by side.

It opens on today (in the institution's zone) at the user's last location: the one this user last showed
on the agenda for this organisation, else the one last chosen on the week calendar, else the first
(`DeskPreference`, kept in the database so that it follows the user from one computer to another). Its
free slots open the week calendar's booking form (`views.booking_create`) with the same parameters.
"""

from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from medbook.core.decorators import page
from medbook.core.forms import DayField
from medbook.core.ids import parse_id_or_none
from medbook.core.permissions import Perm
from medbook.core.tenancy import Actor, ActorRequest, get_for_actor, scoped
from medbook.institutions.models import Location, Service
from medbook.scheduling import selectors, services
from medbook.scheduling.agenda import day_agenda, institution_today

PAGE = "agenda"  # the remembered location and service of the agenda (the week calendar's is "calendar")
TEMPLATE = "scheduling/agenda.html"


class DayForm(forms.Form):
    """The day shown (today when none is given)."""

    date = DayField(label=_("Date"), required=False)


def _remembered(actor: Actor, preferences: list[dict], name: str, model, **narrowing):
    """The object the actor last chose on the agenda, else on the week calendar (one still there), else the
    first."""
    active = scoped(model, actor).filter(is_active=True, **narrowing)
    for chosen in preferences:
        pk = parse_id_or_none(chosen.get(name))
        found = active.filter(pk=pk).first() if pk else None
        if found is not None:
            return found
    return active.order_by("pk").first()


def _choice(request: ActorRequest, preferences: list[dict]) -> tuple[Location | None, Service | None]:
    """The location (asked for, else the last one, else the first) and the service whose free slots are
    shown (asked for, else the last one given there, else the first); another institution's, an inactive
    one or a bad id asked for is 404."""
    actor, asked = request.actor, request.GET
    if asked.get("location"):
        location = get_for_actor(Location.objects.filter(is_active=True), actor, asked["location"])
    else:
        location = _remembered(actor, preferences, "location", Location)
    if asked.get("service"):
        return location, get_for_actor(Service.objects.filter(is_active=True), actor, asked["service"])
    if location is None:
        return None, None
    return location, _remembered(actor, preferences, "service", Service, locations=location)


def _day_query(location: Location, service: Service, day: date) -> str:
    return urlencode({"location": location.pk, "service": service.pk, "date": day.isoformat()})


@page(Perm.VIEW_CALENDAR, audience="institution")
def agenda(request: ActorRequest) -> HttpResponse:
    """Show one day of a location: its physicians side by side, bookings by service and status, free slots."""
    actor = request.actor
    preferences = [selectors.desk_preference(actor=actor, page=name) for name in (PAGE, "calendar")]
    location, service = _choice(request, preferences)
    form = DayForm(request.GET)
    context: dict = {"form": form, "location": location, "service": service}
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=400)
    if location is None or service is None:
        return render(request, TEMPLATE, context)
    day = form.cleaned_data["date"] or institution_today(actor)
    remembered = {"location": str(location.pk), "service": str(service.pk)}
    if preferences[0] != remembered:
        services.desk_preference_save(actor=actor, page=PAGE, values=remembered)
    today = institution_today(actor)
    context.update(
        agenda=day_agenda(actor=actor, location=location, service=service, day=day),
        day=day,
        today=today,
        locations=scoped(Location, actor).filter(is_active=True),
        services=scoped(Service, actor).filter(is_active=True),
        previous_query=_day_query(location, service, day - timedelta(days=1)),
        next_query=_day_query(location, service, day + timedelta(days=1)),
        today_query=_day_query(location, service, today),
        day_query=_day_query(location, service, day),
        week_query=urlencode({"location": location.pk, "service": service.pk, "week": day.isoformat()}),
    )
    template = f"{TEMPLATE}#agenda-body" if request.htmx else TEMPLATE
    return render(request, template, context)
