"""The staff calendar: show calendars, book a free slot, move or cancel a booking, record its attendance and
payment (htmx)."""

from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medbook.core.decorators import page, requires
from medbook.core.errors import DomainError, HoldUnknown, NotPermitted, SameDayVisits
from medbook.core.forms import REFUSED_STATUS, add_refusal, hold_again, valid_query, validated_forms
from medbook.core.permissions import Perm
from medbook.core.tenancy import Actor, ActorRequest, acting, get_for_actor, scoped
from medbook.core.timefmt import when
from medbook.institutions.models import Physician
from medbook.patients.forms import PatientForm
from medbook.patients.selectors import attendance_of
from medbook.scheduling import holds, manage, policy, selectors, services
from medbook.scheduling.first_free import HORIZON_WEEKS, FreeTime, first_free
from medbook.scheduling.forms import (
    BookingForm,
    CalendarFilterForm,
    FirstFreeForm,
    MoveForm,
    monday_of,
    slot_start,
)
from medbook.scheduling.manage_links import manage_link_live
from medbook.scheduling.models import Booking
from medbook.scheduling.undo_flash import undo_flash

WORKSPACE = "scheduling/calendar.html#workspace"


PAGE = "calendar"  # the remembered filters of reception's calendar
FILTERS = ("location", "physician", "service", "week")


def _filters(request: ActorRequest) -> CalendarFilterForm:
    """The calendar choice, from the query string or (for htmx posts) the included filter fields."""
    data = request.GET if request.method == "GET" else request.POST
    bound = {k: data.get(k) for k in FILTERS if data.get(k)}
    if not bound and request.method == "GET" and not request.htmx:
        # Back on the calendar: the filters chosen last time, this week, shown at once.
        bound = {
            k: v for k, v in selectors.desk_preference(actor=request.actor, page=PAGE).items() if k != "week"
        }
    return CalendarFilterForm(bound or None, actor=request.actor)


def _calendars(actor: Actor, form: CalendarFilterForm) -> list:
    """One calendar per chosen physician (or per physician giving the service at the location), read
    together: the same few queries for one physician or twenty."""
    if not form.is_bound or not form.is_valid():
        return []
    location, service = form.cleaned_data["location"], form.cleaned_data["service"]
    chosen = form.cleaned_data["physician"]
    physicians = (
        [chosen]
        if chosen
        else list(
            scoped(Physician, actor)
            .filter(is_active=True, locations=location, services=service)
            .distinct()
            .order_by("full_name", "pk")
        )
    )
    if chosen and not (
        chosen.locations.filter(pk=location.pk).exists() and service.physicians.filter(pk=chosen.pk).exists()
    ):
        form.add_error(None, _("%(name)s does not give this service at this location.") % {"name": chosen})
        return []
    if not physicians:
        form.add_error(None, _("No physician gives this service at this location."))
        return []
    institution = acting(actor.institution)
    for physician in physicians:
        physician.institution = institution  # scoped to the actor's institution: read once, by the actor
    weeks = selectors.calendar_weeks(
        actor=actor,
        calendars=[selectors.Calendar(physician, location, service) for physician in physicians],
        week_start=form.cleaned_data["week"],
    )
    return [
        {
            "physician": physician,
            "location": location,
            "service": service,
            "institution": institution,
            "tz": institution.time_zone,
            "days": days,
        }
        for physician, days in zip(physicians, weeks, strict=True)
    ]


def _workspace(
    request: ActorRequest,
    form: CalendarFilterForm | None = None,
    status: int = 200,
    focus: Booking | None = None,
    panel: Booking | None = None,
    overdue_open: bool = False,
) -> HttpResponse:
    """Render the calendar workspace (the page, or just its fragment for htmx): the calendars, the bookings
    whose attendance is overdue, and `panel`'s booking panel open; `focus` names the slot the focus returns to
    (the booking's, booked, moved to or freed)."""
    form = form or _filters(request)
    calendars = _calendars(request.actor, form)
    context = {
        "form": form,
        "calendars": calendars,
        "focus": focus,
        "overdue": selectors.attendance_overdue(actor=request.actor),
        "overdue_open": overdue_open,
        "panel": panel is not None,
    }
    if panel is not None:
        context.update(_panel_context(panel))
    if form.is_bound and form.is_valid():
        services.desk_preference_save(
            actor=request.actor, page=PAGE, values={k: form.data.get(k) for k in FILTERS}
        )
        week = form.cleaned_data["week"]
        base = {k: v for k, v in form.data.items() if k != "week"}
        context["prev_query"] = urlencode({**base, "week": (week - timedelta(days=7)).isoformat()})
        context["next_query"] = urlencode({**base, "week": (week + timedelta(days=7)).isoformat()})
        context["week"] = week
    template = WORKSPACE if request.htmx else "scheduling/calendar.html"
    response = render(request, template, context, status=status)
    if request.htmx and request.method == "POST":
        response["HX-Retarget"] = "#workspace"
        response["HX-Reswap"] = "innerHTML"
    return response


@requires(Perm.VIEW_CALENDAR)
def calendar(request: ActorRequest) -> HttpResponse:
    """Pick location, physician, service and week; "Show calendars" shows free (green) and booked (red) slots.
    `booking` (a link from the patient's record) opens that booking's panel; another institution's is 404."""
    asked = request.GET.get("booking")
    bookings = selectors.bookings_for_actor(request.actor)
    panel = get_for_actor(bookings, request.actor, asked) if asked else None
    return _workspace(request, panel=panel)


@requires(Perm.BOOK)
def first_free_times(request: ActorRequest) -> HttpResponse:
    """The earliest free times of the service the calendar filters chose, at every location or the one
    chosen, across the physicians the desk may book (issue 23), each opening the booking form of its
    calendar as a free slot does."""
    data = request.GET if request.method == "GET" else request.POST
    chosen = valid_query(FirstFreeForm(data, actor=request.actor))
    service = chosen["service"]
    location = None if chosen["every_location"] else chosen["location"]
    calendars = [
        calendar
        for calendar in selectors.desk_offers(actor=request.actor)
        if calendar.service.pk == service.pk and (location is None or calendar.location.pk == location.pk)
    ]
    rows = [(time, _slot_query(time)) for time in first_free(actor=request.actor, calendars=calendars)]
    context = {
        "rows": rows,
        "service": service,
        "slot_url": "scheduling:booking-create",
        "horizon_weeks": HORIZON_WEEKS,
    }
    return render(request, "scheduling/_first_free_times.html", context)


def _slot_query(time: FreeTime) -> str:
    """The booking form's request of a free time, as a free slot of the calendar sends it but with the
    calendar filters of the time itself (its location, service and week, every physician) instead of the
    page's: the booking form keeps them, so the booking is made there and its calendars shown after."""
    local_day = time.starts_at.astimezone(ZoneInfo(time.institution.time_zone)).date()
    return urlencode(
        {
            "location": time.location.pk,
            "service": time.service.pk,
            "physician": "",
            "week": monday_of(local_day).isoformat(),
            "slot_physician": time.physician.pk,
            "starts_at": time.starts_at.isoformat(),
        }
    )


def _booking_target(request: ActorRequest):
    """The calendar and the physician of the slot being booked; another institution's ids answer 404."""
    data = request.GET if request.method == "GET" else request.POST
    physician = get_for_actor(Physician, request.actor, data.get("slot_physician"))
    filters = _filters(request)
    if not filters.is_valid():
        if any(e.code == "invalid_choice" for errors in filters.errors.as_data().values() for e in errors):
            raise Http404()
        raise DomainError(_("Choose a location and a service first."))
    return filters, physician


@requires(Perm.BOOK)
def booking_create(request: ActorRequest) -> HttpResponse:
    """Show the booking form for a free slot (GET; opened from the calendar, htmx, it holds the slot for
    the user: someone else holding or having booked it is told at once) and book it (POST, consuming the
    hold)."""
    filters, physician = _booking_target(request)
    if request.method == "GET":
        starts_at = request.GET.get("starts_at")
        # Only htmx opens hold: the header is one a page elsewhere cannot send, so a plain link holds nothing.
        hold = _hold(request, filters, physician, slot_start(starts_at)) if request.htmx else ""
        form = BookingForm(actor=request.actor, initial={"starts_at": starts_at, "hold": hold})
    else:
        posted = request.POST.copy()  # mutable: an ended hold's new token goes in (hold_again)
        form = BookingForm(posted, actor=request.actor)
    data = request.POST if request.method == "POST" else None
    patient_form = PatientForm(
        data, prefix="new", institution=request.actor.institution, use_required_attribute=False
    )
    context = {"form": form, "patient_form": patient_form, "physician": physician, "filters": filters}
    if request.method == "GET":
        return render(request, "scheduling/booking_form.html", context)
    if form.is_valid():
        try:
            booking = _book(request, form, patient_form, filters, physician)
        except SameDayVisits as warning:
            context["same_day"] = warning
        except HoldUnknown:
            hold_again(
                form, posted, lambda: _hold(request, filters, physician, form.cleaned_data["starts_at"])
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            if booking is not None:
                messages.success(request, _("Booked: %(booking)s") % {"booking": booking})
                return _workspace(request, filters, focus=booking)
    context["summary_forms"] = validated_forms(form, patient_form)
    return render(request, "scheduling/booking_form.html", context, status=422)


def _hold(request: ActorRequest, filters: CalendarFilterForm, physician: Physician, starts_at) -> str:
    """Hold the slot being booked for the user (`holds.slot_hold`, refused as its booking would be): the
    hold's token."""
    return holds.slot_hold(
        actor=request.actor,
        location=filters.cleaned_data["location"],
        physician=physician,
        service=filters.cleaned_data["service"],
        starts_at=starts_at,
    ).token


@require_POST
@requires(Perm.BOOK)
def booking_hold_release(request: ActorRequest) -> HttpResponse:
    """The booking form closed: release its hold, so the slot is free for everyone at once, and empty the
    panel. The same answer whether there was a hold of the user's to release or not (another's token
    releases nothing and tells nothing)."""
    holds.slot_hold_release(actor=request.actor, hold=request.POST.get("hold", ""))
    return HttpResponse("")


def _book(
    request: ActorRequest, form: BookingForm, patient_form: PatientForm, filters, physician
) -> Booking | None:
    """Book for the register's patient or the new one entered; None when the new patient's details are
    invalid (the form shows why)."""
    patient_id = form.cleaned_data["patient"]
    if not patient_id and not patient_form.is_valid():
        if not patient_form.has_changed():
            form.add_error(None, _("Choose a patient from the register or enter a new patient."))
        return None
    return services.desk_booking_create(
        actor=request.actor,
        location=filters.cleaned_data["location"],
        physician=physician,
        service=filters.cleaned_data["service"],
        starts_at=form.cleaned_data["starts_at"],
        patient_id=patient_id,
        new_patient=None if patient_id else patient_form.cleaned_data,
        channel=form.cleaned_data["channel"],
        note=form.cleaned_data["note"],
        hold=form.cleaned_data["hold"],
        refuse_same_day=form.cleaned_data["same_day_ok"] != patient_id,
    )


def _panel_context(
    booking: Booking, move_form: MoveForm | None = None, refusal: str = "", move_confirm=None
) -> dict:
    """What the panel of one booking shows: its details, the free slots it can move to and cancel (before it
    starts), the attendance and payment the desk may record (after), and a refusal. With `move_confirm`
    (the time chosen to move to) it asks to confirm that move instead of offering the free slots."""
    movable = policy.cancel_refusal(booking) is None  # booked and not started: moved or cancelled alike
    return {
        "booking": booking,
        "movable": movable,
        "move_form": move_form or MoveForm(),
        "move_confirm": move_confirm,
        "move_days": selectors.move_choices(booking=booking) if movable and not move_confirm else [],
        "attendance_choices": policy.attendance_choices(booking),
        "payment_choices": policy.payment_choices(booking),
        "refusal": refusal,
        "attendance": attendance_of(booking.patient),
        "manage_link_live": movable and manage_link_live(booking=booking),
    }


def _booking_panel(
    request: ActorRequest,
    booking: Booking,
    move_form: MoveForm | None = None,
    status: int = 200,
    refusal: str = "",
    move_confirm=None,
) -> HttpResponse:
    """The panel of one booking, on its own (htmx swaps it into #panel)."""
    context = _panel_context(booking, move_form, refusal, move_confirm)
    return render(request, "scheduling/booking_detail.html", context, status=status)


@requires(Perm.VIEW_CALENDAR)
def booking_detail(request: ActorRequest, pk: int) -> HttpResponse:
    """Show a booking with move and cancel."""
    booking = get_for_actor(selectors.bookings_for_actor(request.actor), request.actor, pk)
    return _booking_panel(request, booking)


@require_POST
@requires(Perm.BOOK)
def booking_move(request: ActorRequest, pk: int) -> HttpResponse:
    """Move a booking to another free slot: the chosen time is shown beside the old one to confirm ("Move" /
    "Back"); only the confirming post moves, and the move can be undone for a while."""
    booking = get_for_actor(selectors.bookings_for_actor(request.actor), request.actor, pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        if not form.cleaned_data["confirm"] and policy.cancel_refusal(booking) is None:
            return _booking_panel(request, booking, move_confirm=form.cleaned_data["starts_at"])
        try:
            booking = services.booking_move(
                actor=request.actor, booking=booking, starts_at=form.cleaned_data["starts_at"], undoable=True
            )
        except DomainError as error:
            add_refusal(form, error, field="starts_at")
        else:
            undo_flash(request, booking=booking, done=_("Moved to %(time)s"), url="scheduling:booking-undo")
            return _workspace(request, focus=booking)
    return _booking_panel(request, booking, form, status=422)


@require_POST
@requires(Perm.BOOK)
def booking_cancel(request: ActorRequest, pk: int) -> HttpResponse:
    """Cancel a booking; its slot turns green again."""
    booking = get_for_actor(selectors.bookings_for_actor(request.actor), request.actor, pk)
    booking = services.booking_cancel(actor=request.actor, booking=booking, undoable=True)
    undo_flash(request, booking=booking, done=_("Cancelled"), url="scheduling:booking-undo")
    return _workspace(request, focus=booking)


@require_POST
@requires(Perm.BOOK)
def booking_undo(request: ActorRequest, pk: int) -> HttpResponse:
    """Undo the last move or cancellation of a booking, for a while after it (`services.booking_undo`); a
    refusal (the time passed, the old time taken meanwhile) is shown in the booking's panel (409)."""
    booking = get_for_actor(selectors.bookings_for_actor(request.actor), request.actor, pk)
    try:
        booking = services.booking_undo(actor=request.actor, booking=booking)
    except DomainError as error:
        if isinstance(error, NotPermitted):
            raise
        return _booking_panel(request, booking, status=error.status_code, refusal=str(error.message))
    messages.success(
        request,
        _("Undone: the booking is at %(time)s.") % {"time": when(booking.starts_at, booking.institution)},
    )
    return _workspace(request, panel=booking)


@require_POST
@page(Perm.BOOK, audience="institution")
def booking_link_revoke(request: ActorRequest, pk: int) -> HttpResponse:
    """Revoke the patient's manage links of a booking (sent to a wrong address, say)."""
    booking = get_for_actor(selectors.bookings_for_actor(request.actor), request.actor, pk)
    manage.manage_link_revoke(actor=request.actor, booking=booking)
    messages.success(request, _("The patient's link to this booking no longer works."))
    return _workspace(request, panel=booking)


def _refused(request: ActorRequest, booking: Booking, error: DomainError) -> HttpResponse:
    """The booking's panel with the reason the desk's change was refused (422); a 403 stays a 403."""
    if isinstance(error, NotPermitted):
        raise error
    return _booking_panel(request, booking, status=REFUSED_STATUS, refusal=str(error.message))


def _recorded(request: ActorRequest, booking: Booking) -> HttpResponse:
    """The workspace after the desk's change: the booking's panel open, or (from the list) the overdue list."""
    messages.success(
        request,
        _("Recorded for %(booking)s: %(status)s, %(payment)s")
        % {
            "booking": booking,
            "status": booking.get_status_display(),
            "payment": booking.get_payment_status_display(),
        },
    )
    if request.POST.get("from") == "overdue":
        return _workspace(request, overdue_open=True)
    return _workspace(request, panel=booking)


@require_POST
@page(Perm.BOOK, audience="institution")
def booking_approve(request: ActorRequest, pk: int) -> HttpResponse:
    """Approve an online booking awaiting the desk's approval (a repeat no-show's); the patient is e-mailed."""
    booking = get_for_actor(selectors.bookings_for_actor(request.actor), request.actor, pk)
    try:
        booking = services.booking_approve(actor=request.actor, booking=booking)
    except DomainError as error:
        return _refused(request, booking, error)
    messages.success(request, _("The booking was approved; the patient is told."))
    return _workspace(request, panel=booking)


@require_POST
@page(Perm.BOOK, audience="institution")
def booking_attendance(request: ActorRequest, pk: int) -> HttpResponse:
    """Record that the patient came ("Completed") or did not ("No-show"), or undo it."""
    booking = get_for_actor(selectors.bookings_for_actor(request.actor), request.actor, pk)
    try:
        booking = services.booking_attendance_set(
            actor=request.actor, booking=booking, status=request.POST.get("status", "")
        )
    except DomainError as error:
        return _refused(request, booking, error)
    return _recorded(request, booking)


@require_POST
@page(Perm.BOOK, audience="institution")
def booking_payment(request: ActorRequest, pk: int) -> HttpResponse:
    """Record that the patient paid the institution, was refunded, or (a correction) has not paid."""
    booking = get_for_actor(selectors.bookings_for_actor(request.actor), request.actor, pk)
    try:
        booking = services.booking_payment_set(
            actor=request.actor, booking=booking, payment_status=request.POST.get("payment_status", "")
        )
    except DomainError as error:
        return _refused(request, booking, error)
    return _recorded(request, booking)
