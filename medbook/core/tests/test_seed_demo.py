"""The demo data behind `make run`: complete, bookable and safe to load twice."""

from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from medbook.institutions.models import Institution
from medbook.patients.validators import taj_is_valid
from medbook.scheduling.models import Booking, ScheduleException

DEMO_PASSWORD = "Demo-pass-2026"
LOGINS = (
    "operator@platform.example",
    "admin@northside.example",
    "reception@northside.example",
    "admin@lakeside.example",
)
MEDBOOK_APPS = ("accounts", "institutions", "patients", "scheduling")


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows of every model of the project, and of every many-to-many table between them."""
    counts = {}
    for label in MEDBOOK_APPS:
        for model in apps.get_app_config(label).get_models():
            counts[model._meta.label] = model.objects.count()
            for field in model._meta.local_many_to_many:
                counts[field.remote_field.through._meta.label] = field.remote_field.through.objects.count()
    return counts


@pytest.fixture
def northside(db) -> Institution:
    seed()
    return Institution.objects.get(name="Northside Clinic")


def test_b1_seed_demo_is_idempotent(db):
    seed()
    first = row_counts()
    seed()
    assert row_counts() == first
    assert first["scheduling.Booking"] >= 30
    assert first["institutions.Institution"] == 2


def test_b10_seed_demo_logins_authenticate_with_the_demo_password(db):
    output = seed()
    for email in LOGINS:
        user = authenticate(username=email, password=DEMO_PASSWORD)
        assert user is not None, email
        assert email in output
    assert DEMO_PASSWORD in output
    assert "http://127.0.0.1:8000" in output
    operator = authenticate(username="operator@platform.example", password=DEMO_PASSWORD)
    assert operator.is_superuser and operator.is_staff
    assert not any(authenticate(username=email, password=DEMO_PASSWORD).is_staff for email in LOGINS[1:])


def test_b10_seed_demo_restores_a_changed_demo_password(db):
    seed()
    reception = authenticate(username="reception@northside.example", password=DEMO_PASSWORD)
    reception.set_password("Something-else-2026")
    reception.save()
    seed()
    assert authenticate(username="reception@northside.example", password=DEMO_PASSWORD) is not None


def test_b1_seed_demo_institutions_are_legal_entities_with_channels(northside):
    lakeside = Institution.objects.get(name="Lakeside Hospital")
    for institution in (northside, lakeside):
        assert institution.registration_number and institution.tax_number and institution.address
        assert institution.time_zone == "Europe/Budapest"
        codes = set(institution.channels.values_list("code", flat=True))
        assert {"online", "phone", "reception"} <= codes
    assert lakeside.locations.count() == 1
    assert lakeside.physicians.count() == 2
    assert lakeside.services.count() == 3
    assert northside.memberships.filter(user__email="reception@northside.example", role="staff").exists()
    assert northside.memberships.filter(user__email="admin@northside.example", role="admin").exists()
    assert lakeside.memberships.filter(user__email="admin@lakeside.example", role="admin").exists()


def test_b2_b3_b4_seed_demo_northside_offers_a_full_catalogue(northside):
    assert northside.locations.count() == 3
    assert northside.physicians.count() >= 6
    assert len(set(northside.physicians.values_list("specialty", flat=True))) >= 3
    assert northside.services.count() >= 12
    for physician in northside.physicians.all():
        assert 1 <= physician.locations.count() <= 2
        assert physician.working_hours.exists()
    for service in northside.services.all():
        assert 15 <= service.duration_minutes <= 60
        assert service.price > 0 and service.currency == "HUF"
        physicians = service.physicians.all()
        assert physicians and len({p.specialty for p in physicians}) == 1
        # Someone can actually give the service somewhere it is offered.
        assert service.locations.filter(physicians__in=physicians).exists()


def test_b5_seed_demo_has_leave_and_a_public_holiday(northside):
    exceptions = ScheduleException.objects.filter(physician__institution=northside)
    assert exceptions.filter(kind=ScheduleException.Kind.LEAVE).exists()
    holidays = exceptions.filter(kind=ScheduleException.Kind.HOLIDAY)
    assert holidays.count() == northside.physicians.count()
    assert all(h.date_from > timezone.localdate() and h.date_from.weekday() < 5 for h in holidays)


def test_b6_seed_demo_patients_have_valid_taj_numbers(northside):
    patients = list(northside.patients.all())
    assert len(patients) >= 30
    for patient in patients:
        assert taj_is_valid(patient.insurance_id), patient.insurance_id
        assert patient.full_name and patient.birth_date and patient.email and patient.phone


def test_b7_b8_seed_demo_future_bookings_exist_and_never_overlap(northside):
    now = timezone.now()
    bookings = list(
        Booking.objects.filter(institution=northside, starts_at__gt=now, status__in=Booking.ACTIVE_STATUSES)
        .select_related("channel", "service")
        .order_by("physician_id", "starts_at")
    )
    assert len(bookings) >= 30
    # The partner's demo bookings come through its own channel (partner-<id>); the rest through the three.
    assert {b.channel.code for b in bookings if b.partner_id is None} == {"online", "phone", "reception"}
    assert all(b.price == b.service.price and b.booked_by is not None for b in bookings)
    assert max(b.starts_at for b in bookings) - now <= timedelta(days=22)
    for earlier, later in zip(bookings, bookings[1:], strict=False):
        if earlier.physician_id == later.physician_id:
            assert earlier.ends_at <= later.starts_at, (earlier, later)


def test_b5_seed_demo_books_nobody_during_leave_or_holiday(northside):
    for exception in ScheduleException.objects.filter(physician__institution=northside):
        days = {
            b.starts_at.astimezone(timezone.get_current_timezone()).date()
            for b in Booking.objects.filter(physician=exception.physician)
        }
        assert not any(exception.date_from <= day <= exception.date_until for day in days)
