"""Online booking by logged-out patients (issue 22, B-13): hold the slot, prove the e-mail address, book.

1. `online_request_start`: the patient's details for a free time the institution offers online; the time
   is held for `holds.HOLD_MINUTES` (the hold of issue 21, its token known to the patient alone) and a
   6-digit code, with a link carrying it, is e-mailed through the outbox.
2. `online_request_confirm`: the right code (at most `ONLINE_CODE_ATTEMPTS` tries) while the hold lives
   books the time through `scheduling.services.booking_create` with the hold, on the "Online" channel, for
   the record `patients.services.patient_online_register` decides, and the patient's usual confirmation
   with its `.ics` goes out.

Nothing here answers differently for a person the register knows: the pages, the e-mails sent before the
proof and every refusal read the same. Abuse is bounded before anything is held: at most
`ONLINE_UNCONFIRMED_MAX` unconfirmed requests per address and per e-mail address, and
`ONLINE_BOOKING_LIMIT_HOUR` / `_DAY` requests per address, e-mail address and phone number (the
throttle of the password-reset form, `accounts.security.throttle_allows`).
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from medbook.accounts.security import email_key, throttle_allows
from medbook.core.errors import Conflict, DomainError, TooManyRequests
from medbook.core.tenancy import Actor
from medbook.institutions.models import Location, Physician, Service
from medbook.notifications.services import notification_enqueue
from medbook.online.models import OnlineRequest
from medbook.patients.services import patient_online_register
from medbook.scheduling import hold_rules, holds
from medbook.scheduling.services import booking_create

CODE_DIGITS = 6
KEPT_AFTER_EXPIRY = timedelta(hours=1)  # the confirmation page stays readable this long, then all is deleted
WINDOWS = (
    ("hour", timedelta(hours=1), "ONLINE_BOOKING_LIMIT_HOUR"),
    ("day", timedelta(days=1), "ONLINE_BOOKING_LIMIT_DAY"),
)


@dataclass(frozen=True)
class PatientDetails:
    """What the patient entered (validated by `forms.OnlineDetailsForm`)."""

    full_name: str
    birth_date: date
    email: str
    phone: str = ""
    insurance_id: str = ""


def patient_actor(actor: Actor | None) -> Actor:
    """The actor a logged-out patient books as: nobody's user, from the request's address (logged in or not,
    the public pages act for the patient, never for an organisation)."""
    return Actor(
        user=None,
        online=True,
        client_ip=getattr(actor, "client_ip", None),
        request_id=getattr(actor, "request_id", ""),
    )


def _code_hash(hold_key: str, code: str) -> str:
    return salted_hmac("medbook.online.code", f"{hold_key}:{code}").hexdigest()


def online_limits_take(*, actor: Actor, email: str, phone: str) -> None:
    """Count one booking request of the address, e-mail address and phone number; refuse (429) one past
    the unconfirmed requests allowed at once or the hourly and daily limits. Committed on its own, so a
    refused or failed request counts too."""
    now = timezone.now()
    waiting = OnlineRequest.objects.filter(booking__isnull=True, expires_at__gt=now)
    key = email_key(email)
    unconfirmed = settings.ONLINE_UNCONFIRMED_MAX
    if unconfirmed and (
        (actor.client_ip and waiting.filter(client_ip=actor.client_ip).count() >= unconfirmed)
        or waiting.filter(email_key=key).count() >= unconfirmed
    ):
        raise TooManyRequests(
            _(
                "You have %(count)s bookings waiting for their e-mailed code: enter a code, or wait until"
                " they expire after %(minutes)s minutes, before booking again."
            )
            % {"count": unconfirmed, "minutes": holds.HOLD_MINUTES},
            retry_after=holds.HOLD_MINUTES * 60,
        )
    for window, length, setting in WINDOWS:
        limit = getattr(settings, setting)
        if not limit:
            continue
        for dimension, value in (("ip", actor.client_ip or ""), ("email", key), ("phone", phone)):
            if value and not throttle_allows(
                f"online_{dimension}_{window}", value, limit=limit, window=length
            ):
                message = (
                    _("Too many online bookings from here: try again in an hour.")
                    if window == "hour"
                    else _("Too many online bookings from here: try again tomorrow.")
                )
                raise TooManyRequests(message, retry_after=int(length.total_seconds()))


@transaction.atomic
def online_request_start(
    *,
    actor: Actor,
    location: Location,
    physician: Physician,
    service: Service,
    starts_at: datetime,
    details: PatientDetails,
) -> str:
    """Hold the time for the patient and e-mail the code; the hold's token (shown to the patient once)."""
    if not actor.online:
        raise DomainError()
    held = holds.slot_hold(
        actor=actor, location=location, physician=physician, service=service, starts_at=starts_at
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    request = OnlineRequest.objects.create(
        institution_id=held.hold.institution_id,
        location=location,
        physician=physician,
        service=service,
        starts_at=held.hold.starts_at,
        hold_key=held.hold.key_hash,
        full_name=details.full_name,
        birth_date=details.birth_date,
        email=details.email,
        email_key=email_key(details.email),
        phone=details.phone,
        insurance_id=details.insurance_id,
        code_hash=_code_hash(held.hold.key_hash, code),
        client_ip=actor.client_ip,
        expires_at=held.hold.expires_at,
    )
    institution = held.hold.institution
    language = (translation.get_language() or institution.language).split("-")[0]
    link = reverse("online:verify", args=[held.token])
    notification_enqueue(
        to=details.email,
        template="online_code",
        template_dir="online/email",
        context={
            "code": code,
            "link": f"{link}?code={code}",
            "institution_name": institution.name,
            "service_name": service.name,
            "starts_at": held.hold.starts_at,
            "location_name": location.name,
            "minutes": holds.HOLD_MINUTES,
            "time_zone": institution.time_zone,
        },
        language=language,
        kind="online_code",
        reference=f"online:{request.pk}",
    )
    return held.token


def online_request_of(token: object) -> OnlineRequest:
    """The request whose hold this token is, with what its pages show; anything else is 404."""
    key = hold_rules.token_hash(token)
    found = (
        OnlineRequest.objects.select_related(
            "institution", "location", "physician", "service", "booking__location", "booking__physician"
        )
        .filter(hold_key=key, expires_at__gt=timezone.now() - KEPT_AFTER_EXPIRY)
        .first()
        if key is not None
        else None
    )
    if found is None:
        raise Http404()
    return found


def online_request_confirm(*, actor: Actor, token: str, code: str) -> OnlineRequest:
    """Book the request's time once the e-mailed code is right; the booked request (again, for a request
    booked already). Refused: an expired hold, too many wrong codes, a wrong code (counted first)."""
    request = online_request_of(token)
    if request.booking_id is not None:
        return request
    if request.expires_at <= timezone.now():
        raise Conflict(
            _("The time was held for %(minutes)s minutes and is free again: choose a time again.")
            % {"minutes": holds.HOLD_MINUTES}
        )
    # Counted in its own statement before the code is compared, so that parallel guesses are counted too.
    OnlineRequest.objects.filter(pk=request.pk).update(attempts=F("attempts") + 1)
    request.refresh_from_db(fields=["attempts"])
    allowed = settings.ONLINE_CODE_ATTEMPTS
    if request.attempts > allowed:
        raise TooManyRequests(_("Too many wrong codes: choose a time again."))
    code = "".join(str(code or "").split())
    if not (
        code.isascii()
        and code.isdigit()
        and constant_time_compare(_code_hash(request.hold_key, code), request.code_hash)
    ):
        left = allowed - request.attempts
        if left <= 0:
            raise TooManyRequests(_("Too many wrong codes: choose a time again."))
        raise DomainError(
            _("This is not the code we e-mailed. Tries left: %(left)s.") % {"left": left}, field="code"
        )
    return _book(actor=actor, request=request, token=token)


@transaction.atomic
def _book(*, actor: Actor, request: OnlineRequest, token: str) -> OnlineRequest:
    """Make the booking of a proved request (under its row's lock: one booking however many clicks)."""
    locked = OnlineRequest.objects.select_for_update().get(pk=request.pk)
    if locked.booking_id is not None:
        return online_request_of(token)
    patient = patient_online_register(
        actor=actor,
        institution_id=request.institution_id,
        full_name=request.full_name,
        birth_date=request.birth_date,
        email=request.email,
        phone=request.phone,
        insurance_id=request.insurance_id,
    )
    booking = booking_create(
        actor=actor,
        location=request.location,
        physician=request.physician,
        service=request.service,
        patient=patient,
        starts_at=request.starts_at,
        hold=token,
    )
    # Proved and booked: the details are the register's now; the request keeps only what its page shows.
    OnlineRequest.objects.filter(pk=request.pk).update(
        booking=booking, phone="", insurance_id="", code_hash=""
    )
    return online_request_of(token)


def online_requests_expired():
    """The requests whose hold expired an hour ago, booked or not (the sweep deletes them; the retention
    run's dry run counts them)."""
    return OnlineRequest.objects.filter(expires_at__lte=timezone.now() - KEPT_AFTER_EXPIRY)


def online_requests_sweep() -> int:
    """Delete the expired requests (`online_requests_expired`) with the details they kept (a task of
    `run_worker`, WORKER_TASKS): how many."""
    deleted, _rows = online_requests_expired().delete()
    return deleted
