"""Book to partner (P-11 … P-13): the partner's calendars, booking a free slot for a patient, and the
partner's own bookings (details, move, note, delete)."""

import math
from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medbook.core.errors import DomainError, HoldUnknown, SameDayVisits, TooManyRequests
from medbook.core.forms import add_refusal, hold_again, valid_query, validated_forms
from medbook.core.ids import parse_id_or_none
from medbook.core.permissions import Perm
from medbook.core.tenancy import ActorRequest
from medbook.core.timefmt import when
from medbook.partners import offers
from medbook.partners.access import may_see_patients
from medbook.partners.forms.book import BookFilterForm, FirstFreeForm, NoteForm, PartnerBookingForm
from medbook.partners.selectors import partner_bookings, partner_partnership
from medbook.partners.services import booking as partner_services
from medbook.partners.views.common import partner_page
from medbook.patients.forms import PatientForm
from medbook.patients.selectors import PARTNER_MIN_QUERY_LENGTH
from medbook.scheduling import holds, policy
from medbook.scheduling import selectors as scheduling_selectors
from medbook.scheduling.first_free import HORIZON_WEEKS, FreeTime, first_free
from medbook.scheduling.forms import MoveForm, slot_start
from medbook.scheduling.models import Booking
from medbook.scheduling.patient_shown import booking_patient
from medbook.scheduling.services import desk_preference_save
from medbook.scheduling.undo_flash import undo_flash

WORKSPACE = "partners/book/book.html#workspace"
booker = partner_page(Perm.BOOK_FOR_PARTNER)
PAGE = "book-to-partner"  # the remembered filters of Book to partner
FILTERS = ("institution", "location", "specialty", "physician", "service", "week", "show")
# Calendars on one page of Book to partner: a partner of fifteen institutions may book 455 of them, which as
# one page was 7 MB of HTML and six seconds to render (issue 13).
CALENDARS_PER_PAGE = 10


def _filters(request: ActorRequest, all_offers) -> BookFilterForm:
    data = request.GET if request.method == "GET" else request.POST
    bound = {k: data.get(k) for k in FILTERS if data.get(k)}
    if not bound and request.method == "GET" and not request.htmx:
        # Back on Book to partner: the filters chosen last time, this week, shown at once.
        remembered = scheduling_selectors.desk_preference(actor=request.actor, page=PAGE)
        bound = {k: v for k, v in remembered.items() if k != "week"} or {"show": "1"}
    return BookFilterForm(bound or None, offers=all_offers)


def _page(request: ActorRequest, count: int) -> tuple[int, int]:
    """The page of calendars asked for (1 when absent or not a number, the last when past it) and the number
    of pages: a partner of many institutions sees its calendars CALENDARS_PER_PAGE at a time."""
    data = request.GET if request.method == "GET" else request.POST
    pages = max(1, math.ceil(count / CALENDARS_PER_PAGE))
    try:
        page = int(data.get("page") or 1)
    except ValueError:
        page = 1
    return min(max(page, 1), pages), pages


def _workspace(request: ActorRequest, status: int = 200, focus: Booking | None = None) -> HttpResponse:
    """The filters and, once "Show calendars" is pressed, the chosen calendars side by side; `focus` names
    the slot the focus returns to (the booking's, booked, moved to or freed)."""
    all_offers = offers.bookable_offers(actor=request.actor)
    form = _filters(request, all_offers)
    context = {
        "form": form,
        "offers": all_offers,
        "calendars": [],
        "focus": focus,
        "first_free_form": _first_free_form(all_offers, service=parse_id_or_none(form.data.get("service"))),
    }
    if form.is_bound and form.is_valid():
        desk_preference_save(actor=request.actor, page=PAGE, values={k: form.data.get(k) for k in FILTERS})
        week = form.cleaned_data["week"]
        everything = offers.narrow(all_offers, **form.chosen())
        page, pages = _page(request, len(everything))
        chosen = everything[(page - 1) * CALENDARS_PER_PAGE : page * CALENDARS_PER_PAGE]
        weeks = scheduling_selectors.calendar_weeks(
            actor=request.actor, calendars=[_calendar_of(offer) for offer in chosen], week_start=week
        )
        context["calendars"] = [
            {
                "offer": offer,
                "physician": offer.physician,
                "location": offer.location,
                "service": offer.service,
                "institution": offer.institution,
                "tz": ZoneInfo(offer.institution.time_zone),
                "days": days,
            }
            for offer, days in zip(chosen, weeks, strict=True)
        ]
        base = {k: v for k, v in form.data.items() if k != "week"}
        context["prev_query"] = urlencode({**base, "week": (week - timedelta(days=7)).isoformat()})
        context["next_query"] = urlencode({**base, "week": (week + timedelta(days=7)).isoformat()})
        context["week"] = week
        context["shown"] = True
        context.update(
            total=len(everything),
            page=page,
            pages=pages,
            first=(page - 1) * CALENDARS_PER_PAGE + 1,
            last=(page - 1) * CALENDARS_PER_PAGE + len(chosen),
            prev_page_query=urlencode({**form.data, "page": page - 1}),
            next_page_query=urlencode({**form.data, "page": page + 1}),
        )
    template = WORKSPACE if request.htmx else "partners/book/book.html"
    response = render(request, template, context, status=status)
    if request.htmx and request.method == "POST":
        response["HX-Retarget"] = "#workspace"
        response["HX-Reswap"] = "innerHTML"
    return response


def _calendar_of(offer: offers.Offer) -> scheduling_selectors.Calendar:
    return scheduling_selectors.Calendar(
        offer.physician,
        offer.location,
        offer.service,
        patient_data_access=may_see_patients(offer.partnership),
    )


def _first_free_form(all_offers, data=None, service: int | None = None) -> FirstFreeForm:
    """The first free time's choice of service (by default the one the filters chose, by name)."""
    named = [o.service.name for o in all_offers if o.service.pk == service]
    return FirstFreeForm(
        data, offers=all_offers, initial={"service": named[0] if named else ""}, auto_id="first-free-%s"
    )


@booker
def book_first_free(request: ActorRequest) -> HttpResponse:
    """The earliest free times of a service across every institution, location and physician the partner
    may book (issue 23), each opening its booking form as a free slot of the calendars does."""
    all_offers = offers.bookable_offers(actor=request.actor)
    data = request.GET if request.method == "GET" else request.POST
    chosen = valid_query(_first_free_form(all_offers, data))
    calendars = [_calendar_of(offer) for offer in offers.of_service(all_offers, chosen["service"])]
    rows = [(time, _slot_query(time)) for time in first_free(actor=request.actor, calendars=calendars)]
    context = {
        "rows": rows,
        "service": chosen["service"],
        "slot_url": "partners:book-slot",
        "horizon_weeks": HORIZON_WEEKS,
    }
    return render(request, "scheduling/_first_free_times.html", context)


def _slot_query(time: FreeTime) -> str:
    """The booking form's request of a free time: the one its free slot on the calendars sends."""
    return urlencode(
        {
            "slot_location": time.location.pk,
            "slot_physician": time.physician.pk,
            "slot_service": time.service.pk,
            "starts_at": time.starts_at.isoformat(),
        }
    )


@booker
def book(request: ActorRequest) -> HttpResponse:
    """ "Book to partner": every authorised calendar by default, narrowed on request; free green, booked red."""
    return _workspace(request)


def _offer_of(request: ActorRequest, data) -> offers.Offer:
    return offers.offer_for(
        actor=request.actor,
        location_id=data.get("slot_location"),
        physician_id=data.get("slot_physician"),
        service_id=data.get("slot_service"),
    )


@booker
def book_slot(request: ActorRequest) -> HttpResponse:
    """The booking form for a free slot (GET; opened from the calendar, htmx, it holds the slot for the
    user: someone else holding or having booked it is told at once) and the booking (POST, consuming the
    hold): the server checks every id."""
    data = request.POST if request.method == "POST" else request.GET
    offer = _offer_of(request, data)
    timezone.activate(ZoneInfo(offer.institution.time_zone))
    hold = ""
    if request.method == "GET" and request.htmx:  # as the desk's: a plain link holds nothing
        hold = _hold(request, offer, slot_start(data.get("starts_at")))
    posted = request.POST.copy()  # mutable: an ended hold's new token goes in (hold_again)
    form = PartnerBookingForm(posted if request.method == "POST" else None, initial=data.dict())
    patient_form = PatientForm(
        request.POST if request.method == "POST" else None, prefix="new", use_required_attribute=False
    )
    context = {
        "form": form,
        "patient_form": patient_form,
        "offer": offer,
        "starts_at": data.get("starts_at", ""),
        "hold": hold,
        "may_search": may_see_patients(offer.partnership),
        "min_length": PARTNER_MIN_QUERY_LENGTH,
    }
    if request.method == "GET":
        return render(request, "partners/book/book_form.html", context)
    if form.is_valid():
        try:
            booking = _book(request, form, patient_form, offer)
        except TooManyRequests:
            raise  # a used-up search quota answers 429 (DomainErrorMiddleware), not a form error
        except SameDayVisits as warning:
            context["same_day"] = warning
        except HoldUnknown:
            hold_again(form, posted, lambda: _hold(request, offer, form.cleaned_data["starts_at"]))
        except DomainError as error:
            add_refusal(form, error)
        else:
            if booking is not None:
                messages.success(
                    request,
                    _("Booked: %(time)s") % {"time": when(booking.starts_at, offer.institution)},
                )
                return _workspace(request, focus=booking)
    context["hold"] = posted.get("hold", "")
    context["summary_forms"] = validated_forms(form, patient_form)
    return render(request, "partners/book/book_form.html", context, status=422)


def _hold(request: ActorRequest, offer: offers.Offer, starts_at) -> str:
    """Hold the slot of the offer for the user (`partner_slot_hold`, refused as its booking would be): the
    hold's token."""
    return partner_services.partner_slot_hold(actor=request.actor, offer=offer, starts_at=starts_at).token


@booker
@require_POST
def book_slot_release(request: ActorRequest) -> HttpResponse:
    """The booking form closed: release its hold (the slot is free for everyone again at once) and empty
    the panel; the same answer whether there was a hold of the user's to release or not."""
    holds.slot_hold_release(actor=request.actor, hold=request.POST.get("hold", ""))
    return HttpResponse("")


def _book(request: ActorRequest, form, patient_form: PatientForm, offer) -> Booking | None:
    patient_id = form.cleaned_data["patient"]
    new_patient = None
    if not patient_id:
        if not patient_form.is_valid():
            if not patient_form.has_changed():
                form.add_error(None, _("Choose a patient from the search or enter the patient's details."))
            return None
        new_patient = patient_form.cleaned_data
    return partner_services.partner_booking_create(
        actor=request.actor,
        offer=offer,
        starts_at=form.cleaned_data["starts_at"],
        patient_id=patient_id,
        new_patient=new_patient,
        note=form.cleaned_data["note"],
        hold=form.cleaned_data["hold"],
        refuse_same_day=form.cleaned_data["same_day_ok"] != patient_id,
    )


@booker
def patient_search(request: ActorRequest) -> HttpResponse:
    """A few of the institution's patients matching the query, for the booking form only (P-7); audited."""
    partnership = partner_partnership(actor=request.actor, pk=request.GET.get("partnership"))
    query = request.GET.get("q", "")
    results = partner_services.partner_patient_search(
        actor=request.actor, partnership=partnership, query=query
    )
    context = {"results": results, "query": query, "min_length": PARTNER_MIN_QUERY_LENGTH}
    return render(request, "partners/book/patient_search.html", context)


def _own_booking(request: ActorRequest, pk: int) -> Booking:
    """One of the partner's own bookings at an active partnership; anything else is 404."""
    booking = get_object_or_404(partner_bookings(request.actor), pk=pk)
    timezone.activate(ZoneInfo(booking.institution.time_zone))
    return booking


def _panel(
    request: ActorRequest,
    booking: Booking,
    move_form=None,
    note_form=None,
    status: int = 200,
    move_confirm=None,
    refusal: str = "",
) -> HttpResponse:
    """The panel of one own booking: details, move to a free slot (or confirm the move to `move_confirm`),
    change the note, delete; `refusal`, why the last change was refused."""
    context = {
        "booking": booking,
        "patient": booking_patient(booking),  # as the partner sees it (issue 19)
        "started": policy.has_started(booking),
        "move_confirm": move_confirm,
        "refusal": refusal,
        "move_days": [] if move_confirm else scheduling_selectors.move_choices(booking=booking, partner=True),
        "move_form": move_form or MoveForm(),
        "note_form": note_form or NoteForm(initial={"note": booking.note}),
    }
    return render(request, "partners/book/booking_detail.html", context, status=status)


@booker
def booking_detail(request: ActorRequest, pk: int) -> HttpResponse:
    """Show an own booking with modify and delete."""
    return _panel(request, _own_booking(request, pk))


@booker
@require_POST
def booking_move(request: ActorRequest, pk: int) -> HttpResponse:
    """Move an own booking to another free slot of the grid, once confirmed (as the desk's: the old and the
    new time, "Move" / "Back"); the move can be undone for a while."""
    booking = _own_booking(request, pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        if not form.cleaned_data["confirm"] and policy.cancel_refusal(booking) is None:
            return _panel(request, booking, move_confirm=form.cleaned_data["starts_at"])
        try:
            booking = partner_services.partner_booking_move(
                actor=request.actor, booking=booking, starts_at=form.cleaned_data["starts_at"], undoable=True
            )
        except DomainError as error:
            add_refusal(form, error, field="starts_at")
        else:
            _undo_flash(request, booking, _("Moved to %(time)s"))
            return _after_change(request, focus=booking)
    return _panel(request, booking, move_form=form, status=422)


@booker
@require_POST
def booking_note(request: ActorRequest, pk: int) -> HttpResponse:
    """Change an own booking's details (the note)."""
    booking = _own_booking(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            partner_services.partner_booking_note_set(
                actor=request.actor, booking=booking, note=form.cleaned_data["note"]
            )
        except DomainError as error:
            add_refusal(form, error, field="note")
        else:
            messages.success(request, _("Saved."))
            return _after_change(request, focus=booking)
    return _panel(request, booking, note_form=form, status=422)


@booker
@require_POST
def booking_cancel(request: ActorRequest, pk: int) -> HttpResponse:
    """Delete (cancel) an own booking; its slot turns green again."""
    booking = _own_booking(request, pk)
    booking = partner_services.partner_booking_cancel(actor=request.actor, booking=booking, undoable=True)
    _undo_flash(request, booking, _("Deleted"))
    return _after_change(request, focus=booking)  # the slot freed


@booker
@require_POST
def booking_undo(request: ActorRequest, pk: int) -> HttpResponse:
    """Undo the partner's last move or deletion of an own booking, for a while after it (the desk's rule,
    `booking_undo`); a refusal is shown in the booking's panel (409)."""
    booking = _own_booking(request, pk)
    try:
        booking = partner_services.partner_booking_undo(actor=request.actor, booking=booking)
    except DomainError as error:
        return _panel(request, booking, status=error.status_code, refusal=str(error.message))
    messages.success(
        request,
        _("Undone: the booking is at %(time)s.") % {"time": when(booking.starts_at, booking.institution)},
    )
    return _after_change(request, focus=booking)


def _undo_flash(request: ActorRequest, booking: Booking, done: str) -> None:
    undo_flash(
        request,
        booking=booking,
        done=done,
        url="partners:booking-undo",
        include="#book-filters",
        from_calendar=request.POST.get("from") == "calendar",
    )


def _after_change(request: ActorRequest, focus: Booking) -> HttpResponse:
    """Back to the calendars (htmx, from "Book to partner"), the focus on `focus`'s slot, or to the
    bookings list."""
    if request.htmx and request.POST.get("from") == "calendar":
        return _workspace(request, focus=focus)
    return redirect("partners:booking-list")
