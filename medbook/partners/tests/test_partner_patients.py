"""Patient data while booking (P-7): search with access (audited), never a listing; without access, new data."""

import pytest
from django.urls import reverse

from conftest import local, next_weekday
from medbook.audit.models import AuditEntry
from medbook.patients.models import Patient
from medbook.patients.tests.factories import PatientFactory
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db

SEARCH = reverse("partners:patient-search")
SLOT = reverse("partners:book-slot")


@pytest.fixture
def access(partners):
    partners.partnership_p.patient_data_access = True
    partners.partnership_p.save()
    return partners.partnership_p


def _search(client, partnership, query, **extra):
    return client.get(SEARCH, {"partnership": partnership.pk, "q": query}, REMOTE_ADDR="203.0.113.7", **extra)


def _slot(cast, **extra) -> dict:
    return {
        "slot_location": cast.location_a1.pk,
        "slot_physician": cast.physician_a.pk,
        "slot_service": cast.service_a.pk,
        "starts_at": local(next_weekday(1), 10).isoformat(),
        **extra,
    }


def test_p7_with_access_search_by_name_finds_a_few_and_is_audited(cast, partners, login, access):
    for n in range(8):
        PatientFactory(institution=cast.institution_a, full_name=f"Annabel Many {n}")
    response = _search(login(partners.peter), access, "Annab")
    assert response.status_code == 200
    assert response.content.decode().count('name="patient"') == 5  # a small page, never a listing
    entry = AuditEntry.objects.get(action="patient.partner_search")
    assert entry.user == partners.peter and entry.organization_name == "CallCenter Ltd"
    assert entry.ip_address == "203.0.113.7" and entry.shown_details["query"] == "Annab"
    assert entry.institution == cast.institution_a and len(entry.details["result_ids"]) == 5


def test_p7_search_by_whole_taj_number_only(cast, partners, login, access):
    client = login(partners.peter)
    found = _search(client, access, "111 111 110").content.decode()
    assert "Anna Patient" in found and "111111110" not in found  # the TAJ is masked
    assert "Anna Patient" not in _search(client, access, "1111").content.decode()


def test_p7_short_query_returns_nothing_and_other_institutions_patients_never(cast, partners, login, access):
    client = login(partners.peter)
    assert 'name="patient"' not in _search(client, access, "An").content.decode()
    assert "Berta" not in _search(client, access, "Berta").content.decode()


def test_p7_picked_patient_is_booked_and_the_opened_record_audited(cast, partners, login, access):
    client = login(partners.peter)
    assert "Anna Patient" in _search(client, access, "Anna").content.decode()  # P-15: picked from a search
    response = client.post(SLOT, _slot(cast, patient=cast.patient_a.pk), REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 200
    assert Booking.objects.get().patient == cast.patient_a
    entry = AuditEntry.objects.get(action="patient.partner_open")
    assert entry.object_id == str(cast.patient_a.pk) and entry.ip_address == "203.0.113.8"


def test_p7_another_institutions_patient_cannot_be_picked(cast, partners, login, access):
    response = login(partners.peter).post(SLOT, _slot(cast, patient=cast.patient_b.pk))
    assert response.status_code == 404
    assert not Booking.objects.exists()


def test_p7_without_access_search_is_refused_on_the_page_and_by_url(cast, partners, login):
    client = login(partners.peter)
    form = client.get(SLOT, _slot(cast)).content.decode()
    assert SEARCH not in form and 'name="new-full_name"' in form
    assert _search(client, partners.partnership_p, "Anna").status_code == 403
    assert not AuditEntry.objects.filter(action="patient.partner_search").exists()


def test_p7_without_access_a_posted_patient_id_is_refused(cast, partners, login):
    response = login(partners.peter).post(SLOT, _slot(cast, patient=cast.patient_a.pk))
    assert response.status_code == 403
    assert not Booking.objects.exists()


def test_p7_without_access_the_partner_enters_a_new_patient_each_time(cast, partners, login):
    # P-15 changed this: a registered TAJ with another name is no longer refused (that told the partner the
    # TAJ is registered); it books for a new record, flagged for the institution to merge.
    client = login(partners.peter)
    response = client.post(
        SLOT, _slot(cast, **{"new-full_name": "Nina New", "new-insurance_id": "222 222 220"})
    )
    assert response.status_code == 200
    assert Patient.objects.get(full_name="Nina New").institution == cast.institution_a
    clash = client.post(
        SLOT,
        _slot(
            cast,
            starts_at=local(next_weekday(1), 11).isoformat(),
            **{"new-full_name": "Somebody Else", "new-insurance_id": "111 111 110"},
        ),
    )
    assert clash.status_code == 200 and "Anna" not in clash.content.decode()  # nothing of the register leaks
    assert Booking.objects.count() == 2
    assert Patient.objects.get(full_name="Somebody Else").registered_by_partner


def test_p7_no_listing_or_export_of_patients_for_partners(cast, partners, login, access):
    client = login(partners.peter)
    for url in (reverse("patients:patient-list"), reverse("patients:patient-search") + "?q=Anna"):
        assert client.get(url).status_code == 403
    assert client.get(reverse("patients:patient-edit", args=[cast.patient_a.pk])).status_code == 403
    assert (
        client.get(SEARCH, {"partnership": access.pk, "q": "Anna", "limit": 1000})
        .content.decode()
        .count('name="patient"')
        <= 5
    )


def test_p7_search_for_a_pending_or_other_partnership_is_refused(cast, partners, login, access):
    access.status = "pending_approval"
    access.save()
    assert _search(login(partners.peter), access, "Anna").status_code == 403
    assert _search(login(partners.quentin), access, "Anna").status_code == 404
    assert _search(login(partners.petra), access, "Anna").status_code == 403


def test_p7_search_with_a_nul_byte_answers_not_a_server_error(cast, partners, login, access):
    response = _search(login(partners.peter), access, "Ann\x00a")
    assert response.status_code == 200 and "Anna Patient" in response.content.decode()
    assert AuditEntry.objects.get(action="patient.partner_search").shown_details["query"] == "Anna"
