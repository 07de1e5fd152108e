"""The public booking pages (issue 22, B-13): logged out, phone-first, English and Hungarian.

Home (the institutions taking online bookings) → an institution (its services offered online) → the
earliest free times of a service (optionally at a location, with a physician) → the patient's details →
the e-mailed code → the confirmation. Every page acts as the patient (`services.patient_actor`), whoever
is logged in; anything not offered online is 404.
"""

from datetime import timedelta

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from medbook.core.errors import DomainError, TooManyRequests
from medbook.core.forms import add_refusal, form_status
from medbook.core.ids import parse_id
from medbook.core.tenancy import ActorRequest
from medbook.online import selectors, services
from medbook.online.forms import CodeForm, OnlineDetailsForm, TimesForm
from medbook.scheduling import online
from medbook.scheduling.holds import HOLD_MINUTES

ROBOT_STATUS = 400


def home(request: ActorRequest) -> HttpResponse:
    """ "Book an appointment": the institutions that take online bookings."""
    return render(request, "online/home.html", {"institutions": online.online_institutions()})


def institution(request: ActorRequest, institution_id: int) -> HttpResponse:
    """An institution's stable address: its services offered online."""
    found = online.online_institution(parse_id(institution_id))
    services_ = online.online_services(found)
    return render(request, "online/institution.html", {"institution": found, "services": services_})


def _offer(institution_id: int, service_id: int):
    service = selectors.online_service(institution_id, service_id)
    return service.institution, service, selectors.online_calendars(service.institution, service)


def times(request: ActorRequest, institution_id: int, service_id: int) -> HttpResponse:
    """The earliest free times of the service across physicians (narrowed by location or physician)."""
    found, service, calendars = _offer(institution_id, service_id)
    form = TimesForm(request.GET or None, calendars=calendars)
    chosen = form.cleaned_data if form.is_bound and form.is_valid() else {}
    date_from = chosen.get("date_from") or timezone.localdate()
    shown = selectors.narrowed(calendars, location=chosen.get("location"), physician=chosen.get("physician"))
    days, later = selectors.free_days(institution=found, calendars=shown, date_from=date_from)
    horizon = timezone.now() + timedelta(days=found.booking_horizon_days)
    context = {
        "institution": found,
        "service": service,
        "form": form,
        "days": days,
        "later": later if later <= horizon.date() else None,
        "chosen": chosen,
    }
    return render(
        request, "online/times.html", context, status=200 if not form.is_bound or form.is_valid() else 400
    )


@require_http_methods(["GET", "POST"])
def details(request: ActorRequest, institution_id: int, service_id: int) -> HttpResponse:
    """The patient's details for the picked time; sent, the time is held and the code e-mailed."""
    found, service, calendars = _offer(institution_id, service_id)
    picked = request.POST if request.method == "POST" else request.GET
    calendar, starts_at = selectors.chosen_time(
        calendars, location=picked.get("location"), physician=picked.get("physician"), at=picked.get("at")
    )
    form = OnlineDetailsForm(request.POST or None, institution=found)
    context = {
        "institution": found,
        "service": service,
        "calendar": calendar,
        "starts_at": starts_at,
        "at": picked.get("at"),
        "form": form,
        "form_list": [form],
        "minutes": HOLD_MINUTES,
    }
    if request.method != "POST":
        return render(request, "online/details.html", context)
    if form.is_robot:
        context["robot"] = True
        return render(request, "online/details.html", context, status=ROBOT_STATUS)
    if not form.is_valid():
        return render(request, "online/details.html", context, status=form_status(form))
    patient = services.patient_actor(request.actor)
    data = form.cleaned_data
    try:
        services.online_limits_take(actor=patient, email=data["email"], phone=data["phone"])
        token = services.online_request_start(
            actor=patient,
            location=calendar.location,
            physician=calendar.physician,
            service=service,
            starts_at=starts_at,
            details=services.PatientDetails(
                full_name=data["full_name"],
                birth_date=data["birth_date"],
                email=data["email"],
                phone=data["phone"],
                insurance_id=data["insurance_id"],
            ),
        )
    except TooManyRequests as error:
        form.add_error(None, str(error.message))
        response = render(request, "online/details.html", context, status=error.status_code)
        response["Retry-After"] = str(error.retry_after or 60)
        return response
    except DomainError as error:
        return render(request, "online/details.html", context, status=add_refusal(form, error))
    return redirect("online:verify", token)


@require_http_methods(["GET", "POST"])
def verify(request: ActorRequest, token: str) -> HttpResponse:
    """Enter the e-mailed code (the e-mailed link fills it in); right, the booking is made and shown."""
    pending = services.online_request_of(token)
    form = CodeForm(request.POST or None, initial={"code": request.GET.get("code", "")[:20]})
    status = 200
    if request.method == "POST" and pending.booking_id is None and form.is_valid():
        try:
            pending = services.online_request_confirm(
                actor=services.patient_actor(request.actor), token=token, code=form.cleaned_data["code"]
            )
        except TooManyRequests as error:
            form.add_error(None, str(error.message))
            status = error.status_code
        except DomainError as error:
            status = add_refusal(form, error)
        else:
            return redirect("online:verify", token)
    elif request.method == "POST" and pending.booking_id is None:
        status = form_status(form)
    context = {
        "pending": pending,
        "institution": pending.institution,
        "form": form,
        "form_list": [form],
        "expired": pending.booking_id is None and pending.expires_at <= timezone.now(),
        "minutes": HOLD_MINUTES,
    }
    return render(request, "online/verify.html", context, status=status)
