"""The patient register pages: list, search, add, edit, and the tenancy wall."""

import pytest
from django.urls import reverse

from conftest import actor_of
from medbook.core.errors import DomainError
from medbook.patients.models import Patient
from medbook.patients.services import patient_create, patient_update
from medbook.patients.validators import taj_is_valid

pytestmark = pytest.mark.django_db


def test_b6_register_lists_only_own_patients(cast, login):
    html = login(cast.bob).get(reverse("patients:patient-list")).content.decode()
    assert "Anna Patient" in html
    assert "Berta Patient" not in html


def test_b6_search_by_name_and_taj(cast, login):
    client = login(cast.bob)
    assert "Anna Patient" in client.get(reverse("patients:patient-search"), {"q": "anna"}).content.decode()
    assert "Anna Patient" in client.get(reverse("patients:patient-search"), {"q": "1111"}).content.decode()
    short = client.get(reverse("patients:patient-search"), {"q": "a"}).content.decode()
    assert "Anna Patient" not in short and "at least 2 characters" in short
    assert "Berta" not in client.get(reverse("patients:patient-search"), {"q": "Berta"}).content.decode()


def test_b6_add_patient_with_valid_taj_and_phone(cast, login):
    response = login(cast.bob).post(
        reverse("patients:patient-create"),
        {
            "full_name": "Zoe  Zed",
            "insurance_id": "037 687 210",
            "phone": "06 30 123 4567",
            "birth_date": "1980-02-03",
        },
    )
    assert response.status_code == 302
    patient = Patient.objects.get(full_name="Zoe Zed")
    assert patient.institution == cast.institution_a
    assert patient.insurance_id == "037687210" and patient.phone == "+36301234567"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("insurance_id", "123456789", "not a valid health-insurance"),
        ("insurance_id", "111111110", "already registered"),
        ("phone", "12", "valid phone number"),
        ("birth_date", "2999-01-01", "cannot be in the future"),
        ("birth_date", "not a date", "Enter a valid date"),
        ("full_name", " ", "required"),
    ],
)
def test_b6_bad_patient_input_gets_a_clear_message(cast, login, field, value, message):
    data = {"full_name": "Valid Name", field: value}
    response = login(cast.bob).post(reverse("patients:patient-create"), data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Patient.objects.filter(full_name="Valid Name").exists()


def test_b6_edit_patient_and_other_tenants_patient_is_404(cast, login):
    client = login(cast.bob)
    url = reverse("patients:patient-edit", args=[cast.patient_a.pk])
    assert client.post(url, {"full_name": "Anna Renamed"}).status_code == 302
    cast.patient_a.refresh_from_db()
    assert cast.patient_a.full_name == "Anna Renamed"
    assert client.get(reverse("patients:patient-edit", args=[cast.patient_b.pk])).status_code == 404
    assert (
        client.post(
            reverse("patients:patient-edit", args=[cast.patient_b.pk]), {"full_name": "X"}
        ).status_code
        == 404
    )
    cast.patient_b.refresh_from_db()
    assert cast.patient_b.full_name == "Berta Patient"


def test_b6_taj_check_digit():
    assert taj_is_valid("037687210")
    assert not taj_is_valid("037687211")
    assert not taj_is_valid("12345678")


def test_b6_search_with_a_nul_byte_answers_not_a_server_error(cast, login):
    client = login(cast.bob)
    assert "Anna Patient" in client.get(reverse("patients:patient-list"), {"q": "An\x00na"}).content.decode()
    found = client.get(reverse("patients:patient-search"), {"q": "An\x00na"})
    assert found.status_code == 200 and "Anna Patient" in found.content.decode()


def test_b6_the_service_itself_refuses_an_invalid_taj(cast):
    actor = actor_of(cast.bob)
    with pytest.raises(DomainError, match="not a valid health-insurance"):
        patient_create(actor=actor, full_name="Direct Caller", insurance_id="123456789")
    with pytest.raises(DomainError, match="not a valid health-insurance"):
        patient_update(actor=actor, patient=cast.patient_a, insurance_id="123456789")
    assert not Patient.objects.filter(full_name="Direct Caller").exists()
    cast.patient_a.refresh_from_db()
    assert cast.patient_a.insurance_id == "111111110"
    assert patient_create(actor=actor, full_name="Spaced Taj", insurance_id="037 687 210").insurance_id == (
        "037687210"
    )


def test_register_search_ignores_accents_and_case(cast, login):
    from medbook.patients.tests.factories import PatientFactory

    PatientFactory(institution=cast.institution_a, full_name="Németh Ödön")
    client = login(cast.bob)
    for typed in ("nemeth", "NÉMETH", "odon", "Ödön"):
        html = client.get(reverse("patients:patient-search"), {"q": typed}).content.decode()
        assert "Németh Ödön" in html, typed
