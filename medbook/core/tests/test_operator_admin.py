"""The Django admin at /admin/: the platform operator's back office, closed to institution users."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from medbook.accounts.models import User
from medbook.institutions.models import Institution
from medbook.institutions.tests.factories import UserFactory
from medbook.patients.models import Patient
from medbook.scheduling.models import Booking, TrafficChannel

# Every model in the admin and the requirement it serves; a model registered without a row fails.
ADMIN_MODELS = {
    "accounts.user": "B-10",
    "accounts.organization": "B-1",
    "accounts.membership": "B-10",
    "institutions.institution": "B-1",
    "institutions.location": "B-2",
    "institutions.physician": "B-3",
    "institutions.service": "B-4",
    "patients.patient": "B-6",
    "scheduling.workinghours": "B-5",
    "scheduling.scheduleexception": "B-5",
    "scheduling.trafficchannel": "B-9",
    "scheduling.booking": "B-7",
    "notifications.outboxmessage": "N-outbox",
    "notifications.digestentry": "N-4",
}
MEDBOOK_APPS = {"accounts", "institutions", "patients", "scheduling", "notifications"}
READ_ONLY = {
    "notifications.outboxmessage",
    "notifications.digestentry",
}  # written only by the application, never by hand


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_superuser(
        "operator@platform.test", "Test-pass-2026", full_name="Olga Operator"
    )


def admin_url(label: str, view: str, *args) -> str:
    app_label, model_name = label.split(".")
    return reverse(f"admin:{app_label}_{model_name}_{view}", args=args)


def test_b10_every_project_model_is_in_the_admin():
    registered = {
        model._meta.label_lower for model in admin.site._registry if model._meta.app_label in MEDBOOK_APPS
    }
    assert registered == set(ADMIN_MODELS)


@pytest.mark.parametrize("label", sorted(ADMIN_MODELS), ids=lambda label: f"{ADMIN_MODELS[label]}-{label}")
def test_b10_operator_opens_every_changelist_and_add_page(cast, login, operator, label):
    client = login(operator)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(admin_url(label, "changelist")).status_code == 200
    assert client.get(admin_url(label, "changelist"), {"q": "a"}).status_code == 200
    assert client.get(admin_url(label, "add")).status_code == (403 if label in READ_ONLY else 200)


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_b10_institution_users_are_sent_to_the_admin_login(cast, login, who):
    client = login(getattr(cast, who))
    for url in (reverse("admin:index"), admin_url("scheduling.booking", "changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_b10_anonymous_visitor_is_sent_to_the_admin_login(client, db):
    response = client.get(admin_url("patients.patient", "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_b10_operator_opens_the_change_pages_of_the_cast(cast, login, operator):
    client = login(operator)
    booking = Booking.objects.create(
        institution=cast.institution_a,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=timezone.now() + timedelta(days=7),
        ends_at=timezone.now() + timedelta(days=7, minutes=30),
        channel=TrafficChannel.objects.get(institution=cast.institution_a, code="phone"),
        price=cast.service_a.price,
        currency="HUF",
    )
    for label, obj in (
        ("accounts.user", cast.alice),
        ("institutions.institution", cast.institution_a),
        ("institutions.service", cast.service_a),
        ("patients.patient", cast.patient_a),
        ("scheduling.booking", booking),
    ):
        assert client.get(admin_url(label, "change", obj.pk)).status_code == 200, label


def test_b10_operator_adds_a_user_by_email(login, operator):
    client = login(operator)
    response = client.post(
        admin_url("accounts.user", "add"),
        {
            "email": "New.Person@Example.TEST",
            "full_name": "New Person",
            "usable_password": "true",
            "password1": "Fresh-pass-2026",
            "password2": "Fresh-pass-2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.test")
    assert user.check_password("Fresh-pass-2026") and not user.is_staff


def test_b10_admin_refuses_an_email_differing_only_in_case(login, operator):
    UserFactory(email="taken@example.test")
    response = login(operator).post(
        admin_url("accounts.user", "add"),
        {"email": "TAKEN@example.test", "usable_password": "false"},
    )
    assert response.status_code == 200
    assert User.objects.filter(email__iexact="taken@example.test").count() == 1


def test_b1_institution_added_in_admin_gets_its_default_channels(login, operator):
    response = login(operator).post(
        admin_url("institutions.institution", "add"),
        {
            "name": "Hillside Clinic",
            "registration_number": "01-09-111111",
            "tax_number": "12345676-2-41",
            "address": "Budapest",
            "country": "HU",
            "time_zone": "Europe/Budapest",
            "currency": "HUF",
            "locations-TOTAL_FORMS": "1",
            "locations-INITIAL_FORMS": "0",
            "locations-0-name": "Hillside Main",
            "locations-0-address": "Fő utca 1, Budapest",
            "locations-0-is_active": "on",
        },
    )
    assert response.status_code == 302
    hillside = Institution.objects.get(name="Hillside Clinic")
    assert hillside.kind == "institution"
    assert set(hillside.channels.values_list("code", flat=True)) == {"online", "phone", "reception"}
    assert list(hillside.locations.values_list("name", flat=True)) == ["Hillside Main"]


def test_b6_admin_refuses_an_invalid_taj_number(cast, login, operator):
    client = login(operator)
    url = admin_url("patients.patient", "add")
    data = {"institution": cast.institution_a.pk, "full_name": "Tamás Teszt", "insurance_id": "123456789"}
    assert client.post(url, data).status_code == 200
    assert not Patient.objects.filter(full_name="Tamás Teszt").exists()
    assert client.post(url, {**data, "insurance_id": "123 456 788"}).status_code == 302
    assert Patient.objects.get(full_name="Tamás Teszt").insurance_id == "123456788"


def test_b8_admin_refuses_an_overlapping_booking(cast, login, operator):
    starts = timezone.now().replace(microsecond=0) + timedelta(days=7)
    channel = TrafficChannel.objects.get(institution=cast.institution_a, code="phone")
    common = {
        "institution": cast.institution_a,
        "location": cast.location_a1,
        "physician": cast.physician_a,
        "service": cast.service_a,
        "patient": cast.patient_a,
        "channel": channel,
        "price": cast.service_a.price,
        "currency": "HUF",
    }
    Booking.objects.create(starts_at=starts, ends_at=starts + timedelta(minutes=30), **common)
    later = starts + timedelta(minutes=15)
    data = {name: getattr(value, "pk", value) for name, value in common.items()}
    local_start, local_end = timezone.localtime(later), timezone.localtime(later + timedelta(minutes=30))
    data |= {
        "starts_at_0": local_start.date().isoformat(),
        "starts_at_1": local_start.time().isoformat(),
        "ends_at_0": local_end.date().isoformat(),
        "ends_at_1": local_end.time().isoformat(),
        "status": "booked",
        "payment_status": "unpaid",
    }
    response = login(operator).post(admin_url("scheduling.booking", "add"), data)
    assert response.status_code == 200
    assert "already has an active booking" in response.content.decode()
    assert Booking.objects.count() == 1
