"""More of everything a page or an API operation lists, for the query budgets: `grow` adds `count` units.

A unit is one of each kind of row that some page shows: a physician of A (with working hours and a leave)
who gives A's service at both its locations, a location and a service of A (authorised to partner P), a
patient and a duplicate pair in A's register, bookings (reception's, P's and another partner's) in the
week the calendars show, one of them ended without an attendance, another partner of A with a closed
statement, an institution where P books too, members of A and P, audit entries, outbox rows, a webhook
endpoint with deliveries, and API tokens. The bookings keep clear of the slots the budget requests book.
"""

from datetime import date, time, timedelta

from django.utils import timezone

from conftest import BUDAPEST, actor_of, local
from medbook.accounts.models import Membership
from medbook.accounts.tokens import api_token_create
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.tests.cast import Everyone
from medbook.institutions.models import Location, Physician, Service
from medbook.institutions.tests.factories import (
    InstitutionFactory,
    LocationFactory,
    MembershipFactory,
    PhysicianFactory,
    ScheduleExceptionFactory,
    ServiceFactory,
    UserFactory,
    weekly_hours,
)
from medbook.notifications.models import OutboxMessage
from medbook.partners.tests.factories import (
    TEN_PERCENT,
    gtc_accepted_by,
    partner_make,
    partner_member,
    partnership_make,
)
from medbook.patients.models import Patient
from medbook.reports.selectors import Period
from medbook.reports.services import statement_close
from medbook.scheduling.models import Booking, TrafficChannel
from medbook.webhooks.models import WebhookDelivery, WebhookEndpoint

# The days of the calendars' week that the grown bookings fill (the requests book on the slot day itself).
OTHER_DAYS = (-2, -1, 1, 2)
HALF_HOURS_A_DAY = 16  # 08:00 to 16:00, physician A's working hours


def taj(number: int) -> str:
    """A valid TAJ number (the check digit of weights 3 and 7 appended) made of a counter."""
    body = f"{70000000 + number:08d}"
    total = sum(int(digit) * (3 if i % 2 == 0 else 7) for i, digit in enumerate(body))
    return body + str(total % 10)


def grow(everyone: Everyone, start: int, count: int) -> None:
    """Add the units start … start + count − 1 (each unit's rows are named after its number)."""
    for unit in range(start, start + count):
        _unit(everyone, unit)


def _unit(everyone: Everyone, unit: int) -> None:
    cast, partners = everyone.cast, everyone.partners
    a, a1, a2 = cast.institution_a, cast.location_a1, cast.location_a2
    physician = _physician(everyone, unit)
    _offer(everyone, unit)
    patient = _patients(everyone, unit)
    other = _partner(everyone, unit)
    channel = TrafficChannel.objects.get(institution=a, code="phone")
    booked = [(None, channel, cast.bob), (partners.partner_p, partners.partnership_p.channel, partners.peter)]
    booked.append((other.partner, other.channel, None))
    day = everyone.slot_day + timedelta(days=OTHER_DAYS[unit % len(OTHER_DAYS)])
    for index, (partner, booking_channel, user) in enumerate(booked):
        half_hour = (unit // len(OTHER_DAYS)) * len(booked) + index
        assert half_hour < HALF_HOURS_A_DAY, "more units than the week has free slots"
        starts_at = local(day, 8 + half_hour // 2, 30 * (half_hour % 2))
        _booking(everyone, physician=cast.physician_a, location=a1, patient=patient, starts_at=starts_at,
                 channel=booking_channel, partner=partner, booked_by=user)  # fmt: skip
    # The grown physician's own booking on the slot day, and one that ended without an attendance.
    _booking(everyone, physician=physician, location=a2, patient=patient, starts_at=local(everyone.slot_day, 9),
             channel=channel, partner=None, booked_by=cast.bob)  # fmt: skip
    ended = timezone.now() - timedelta(hours=3, minutes=unit)
    _booking(everyone, physician=physician, location=a1, patient=patient, starts_at=ended - timedelta(minutes=30),
             channel=partners.partnership_p.channel, partner=partners.partner_p, booked_by=partners.peter)  # fmt: skip
    _people(everyone, unit)
    _logs(everyone, unit, patient)


def _physician(everyone: Everyone, unit: int) -> Physician:
    cast = everyone.cast
    physician = PhysicianFactory(
        institution=cast.institution_a,
        full_name=f"Dr. Grown {unit}",
        locations=[cast.location_a1, cast.location_a2],
    )
    cast.service_a.physicians.add(physician)
    weekly_hours(physician, cast.location_a1)
    weekly_hours(physician, cast.location_a2, start=time(16), end=time(18))
    ScheduleExceptionFactory(physician=physician, date_from=date.today() + timedelta(days=60 + unit))
    return physician


def _offer(everyone: Everyone, unit: int) -> tuple[Location, Service]:
    """A location and a service of A, both authorised to P."""
    cast, partnership = everyone.cast, everyone.partners.partnership_p
    location = LocationFactory(institution=cast.institution_a, name=f"A Grown {unit}")
    cast.physician_a.locations.add(location)
    cast.service_a.locations.add(location)
    service = ServiceFactory(
        institution=cast.institution_a,
        name=f"Grown check {unit}",
        locations=[cast.location_a1, location],
        physicians=[cast.physician_a],
    )
    partnership.locations.add(location)
    partnership.services.add(service)
    return location, service


def _patients(everyone: Everyone, unit: int) -> Patient:
    """Two patients found by the searches for "Anna", and a pair sharing a TAJ number (a duplicate)."""
    a = everyone.cast.institution_a
    shared = taj(2 * unit + 1)
    made = Patient.objects.bulk_create(
        [
            Patient(institution=a, full_name=f"Anna Grown {unit}", insurance_id=taj(2 * unit), phone="+36301234567"),
            Patient(institution=a, full_name=f"Anna Other {unit}", email=f"anna{unit}@grown.test"),
            Patient(institution=a, full_name=f"Dora Twin {unit}", insurance_id=shared),
            Patient(institution=a, full_name=f"Dora Twin {unit}", insurance_id=shared, registered_by_partner=True),
        ]
    )  # fmt: skip
    return made[0]


def _partner(everyone: Everyone, unit: int):
    """Another partner active at A, with its admin and a closed statement; and an institution where P books."""
    cast, partners = everyone.cast, everyone.partners
    partner = partner_make(
        f"Grown Partner {unit} Kft.", f"01-09-{600000 + unit}", "12345676-2-41", f"grown{unit}@partner.test"
    )
    partnership = partnership_make(
        cast.institution_a, partner, locations=[cast.location_a1], services=[cast.service_a], **TEN_PERCENT
    )
    admin = UserFactory(email=f"admin{unit}@partner.test", full_name=f"Grown Admin {unit}")
    partner_member(admin, partner, Membership.Role.PARTNER_ADMIN, can_book=True)
    gtc_accepted_by(partner, admin, partners.gtc)
    statement_close(
        actor=actor_of(cast.alice), partner=partner, period=Period(date(2020, 1, 1), date(2020, 1, 31), BUDAPEST.key)
    )  # fmt: skip
    elsewhere = InstitutionFactory(name=f"Grown Clinic {unit}")
    location = LocationFactory(institution=elsewhere, name=f"Grown Site {unit}")
    doctor = PhysicianFactory(institution=elsewhere, full_name=f"Dr. Elsewhere {unit}", locations=[location])
    service = ServiceFactory(institution=elsewhere, locations=[location], physicians=[doctor])
    weekly_hours(doctor, location)
    partnership_make(elsewhere, partners.partner_p, locations=[location], services=[service], **TEN_PERCENT)
    return partnership


def _booking(
    everyone: Everyone, *, physician, location, patient, starts_at, channel, partner, booked_by
) -> None:
    a = everyone.cast.institution_a
    Booking.objects.create(
        institution=a,
        location=location,
        physician=physician,
        service=everyone.cast.service_a,
        patient=patient,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        channel=channel,
        partner=partner,
        booked_by=booked_by,
        price=everyone.cast.service_a.price,
        currency="HUF",
        commission_percent=TEN_PERCENT["commission_percent"] if partner else None,
        payment_status=Booking.PaymentStatus.UNPAID,
    )


def _people(everyone: Everyone, unit: int) -> None:
    """A reception user of A and a user of P; an API token more for alice and for peter."""
    cast, partners = everyone.cast, everyone.partners
    staff = UserFactory(email=f"staff{unit}@a.test", full_name=f"Grown Staff {unit}")
    MembershipFactory(user=staff, organization=cast.institution_a, role=Membership.Role.STAFF)
    partner_member(
        UserFactory(email=f"user{unit}@p.test", full_name=f"Grown User {unit}"), partners.partner_p
    )
    for user in (cast.alice, partners.peter, partners.paula):
        api_token_create(actor=actor_of(user), name=f"grown {unit}")


def _logs(everyone: Everyone, unit: int, patient: Patient) -> None:
    """Audit entries of A, e-mails in the outbox, and a webhook endpoint of A and of P with deliveries."""
    cast, partners = everyone.cast, everyone.partners
    for action in (AuditAction.PATIENT_CREATE, AuditAction.PATIENT_UPDATE, AuditAction.PATIENT_VIEW):
        audit_record(actor=actor_of(cast.alice), action=action, obj=patient)
    OutboxMessage.objects.bulk_create(
        OutboxMessage(to_email=f"out{unit}-{n}@grown.test", subject=f"Grown {unit}", text_body="Hello")
        for n in range(3)
    )
    for organization in (cast.institution_a, partners.partner_p):
        endpoint = WebhookEndpoint.objects.create(
            organization=organization,
            url=f"https://grown{unit}.example/hook",
            events=["booking.created"],
            secret="whsec_" + "G" * 44,
        )
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(endpoint=endpoint, event="booking.created", payload={"n": n}) for n in range(2)
        )
