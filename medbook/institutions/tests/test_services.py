"""Services: name, duration, price with currency, the locations and physicians giving them (B-4)."""

from decimal import Decimal

from django.urls import reverse

from medbook.institutions.models import Service
from medbook.institutions.tests.factories import PhysicianFactory

LIST = reverse("institutions:service-list")
CREATE = reverse("institutions:service-create")


def service_data(cast, **changes) -> dict:
    data = {
        "name": "Echocardiography",
        "duration_minutes": "45",
        "price": "25000.50",
        "currency": "huf",
        "locations": [cast.location_a1.pk],
        "physicians": [cast.physician_a.pk],
        "is_active": "on",
    }
    return {**data, **changes}


def test_b4_admin_sees_own_services(cast, login):
    response = login(cast.alice).get(LIST)
    assert b"Cardiology check" in response.content and b"Dermatology check" not in response.content


def test_b4_admin_adds_service(cast, login):
    response = login(cast.alice).post(CREATE, service_data(cast), follow=True)
    assert b"Echocardiography" in response.content
    service = Service.objects.get(name="Echocardiography")
    assert service.institution == cast.institution_a
    assert (service.price, service.currency, service.duration_minutes) == (Decimal("25000.50"), "HUF", 45)
    assert list(service.physicians.all()) == [cast.physician_a]
    assert list(service.locations.all()) == [cast.location_a1]


def test_b4_new_service_form_proposes_the_institution_currency(cast, login):
    cast.institution_a.currency = "EUR"
    cast.institution_a.save()
    assert b'value="EUR"' in login(cast.alice).get(CREATE).content


def test_b4_admin_edits_service_price(cast, login):
    url = reverse("institutions:service-edit", args=[cast.service_a.pk])
    response = login(cast.alice).post(
        url, service_data(cast, name="Cardiology check", price="15000"), follow=True
    )
    assert b"Saved." in response.content
    cast.service_a.refresh_from_db()
    assert cast.service_a.price == Decimal("15000.00")


def test_b4_negative_price_is_a_clear_form_error(cast, login):
    response = login(cast.alice).post(CREATE, service_data(cast, price="-1"))
    assert response.status_code == 422
    assert b"Ensure this value is greater than or equal to 0." in response.content
    assert not Service.objects.filter(name="Echocardiography").exists()


def test_b4_bad_currency_and_short_duration_are_form_errors(cast, login):
    response = login(cast.alice).post(CREATE, service_data(cast, currency="H1F", duration_minutes="2"))
    assert response.status_code == 422
    assert b"three-letter currency code" in response.content
    assert b"Ensure this value is greater than or equal to 5." in response.content


def test_b4_other_institution_physician_and_location_are_refused(cast, login):
    data = service_data(cast, physicians=[cast.physician_b.pk], locations=[cast.location_b.pk])
    response = login(cast.alice).post(CREATE, data)
    assert response.status_code == 422
    assert response.content.count(b"Select a valid choice.") == 2
    assert not Service.objects.filter(name="Echocardiography").exists()


def test_b4_form_offers_only_own_physicians(cast, login):
    PhysicianFactory(institution=cast.institution_b, full_name="Dr. Stranger")
    response = login(cast.alice).get(CREATE)
    assert b"Dr. Alpha" in response.content
    assert b"Dr. Beta" not in response.content and b"Dr. Stranger" not in response.content
