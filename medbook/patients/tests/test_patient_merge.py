"""Duplicates in the register (P-15): a partner without patient-data access always registers a new record;
the institution lists records that share a TAJ number and merges them, an audited act of its own."""

from datetime import date

import pytest
from django.http import Http404
from django.urls import reverse

from conftest import actor_of, local, next_weekday
from medbook.audit.models import AuditEntry
from medbook.core.errors import NotPermitted
from medbook.patients.models import Patient
from medbook.patients.selectors import patient_duplicate_groups
from medbook.patients.services import patient_merge
from medbook.patients.tests.factories import PatientFactory
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db

DUPLICATES = reverse("patients:patient-duplicates")


@pytest.fixture
def duplicate(cast, partners, login):
    """Anna Patient's TAJ booked by partner P (no data access) under another spelling of her name."""
    response = login(partners.peter).post(
        reverse("partners:book-slot"),
        {
            "slot_location": cast.location_a1.pk,
            "slot_physician": cast.physician_a.pk,
            "slot_service": cast.service_a.pk,
            "starts_at": local(next_weekday(1), 10).isoformat(),
            "new-full_name": "Anna Patiens",
            "new-insurance_id": "111 111 110",
            "new-phone": "+36 30 123 4567",
        },
    )
    assert response.status_code == 200
    return Patient.objects.get(full_name="Anna Patiens")


def test_p15_the_institution_sees_records_sharing_a_taj_and_merges_them(cast, duplicate, login):
    anna = cast.patient_a
    client = login(cast.alice)
    page = client.get(DUPLICATES)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Anna Patient" in text and "Anna Patiens" in text and "Berta" not in text
    choice = f"merge-{duplicate.pk}-phone"
    response = client.post(DUPLICATES, {"keep": anna.pk, "duplicate": duplicate.pk, choice: "take"})
    assert response.status_code == 302
    assert not Patient.objects.filter(pk=duplicate.pk).exists()
    booking = Booking.objects.get()
    assert booking.patient == anna
    anna.refresh_from_db()
    assert anna.phone == "+36301234567" and anna.full_name == "Anna Patient"  # the detail staff chose
    entry = AuditEntry.objects.get(action="patient.merge")
    assert entry.user == cast.alice and entry.institution == cast.institution_a
    assert entry.object_id == str(anna.pk) and entry.details["duplicate_id"] == duplicate.pk
    assert (
        entry.details["bookings_moved"] == [booking.pk] and entry.details["duplicate_registered_by_partner"]
    )
    assert entry.details["fields_taken"] == ["phone"]
    after = client.get(DUPLICATES).content.decode()
    assert (
        "Anna Patiens was merged into Anna Patient" in after and 'data-testid="duplicate-group"' not in after
    )


def test_p15_another_tenant_or_a_partner_cannot_merge(cast, partners, duplicate, login):
    data = {"keep": cast.patient_a.pk, "duplicate": duplicate.pk}
    assert login(cast.charlie).post(DUPLICATES, data).status_code == 404  # institution B's admin
    assert login(partners.paula).post(DUPLICATES, data).status_code == 403
    assert (
        login(cast.alice).post(DUPLICATES, {"keep": cast.patient_b.pk, "duplicate": duplicate.pk}).status_code
        == 404
    )
    assert Patient.objects.filter(pk=duplicate.pk).exists()
    assert Booking.objects.get().patient == duplicate
    assert not AuditEntry.objects.filter(action="patient.merge").exists()


def test_p15_a_record_is_not_merged_into_itself(cast, login):
    client = login(cast.alice)
    response = client.post(
        DUPLICATES, {"keep": cast.patient_a.pk, "duplicate": cast.patient_a.pk}, follow=True
    )
    assert "Choose two different records" in response.content.decode()
    assert Patient.objects.filter(pk=cast.patient_a.pk).exists()
    assert not AuditEntry.objects.filter(action="patient.merge").exists()


def test_p15_the_merge_service_refuses_another_tenant_and_a_partner(cast, partners):
    other = PatientFactory(institution=cast.institution_a, full_name="Other One")
    with pytest.raises(Http404):
        patient_merge(actor=cast.actor(cast.charlie), keep=cast.patient_a, duplicate=other)
    with pytest.raises(NotPermitted):
        patient_merge(actor=actor_of(partners.paula), keep=cast.patient_a, duplicate=other)
    assert Patient.objects.filter(pk=other.pk).exists()


def test_p15_a_duplicate_awaiting_a_merge_can_still_be_edited(cast, duplicate, login):
    response = login(cast.alice).post(
        reverse("patients:patient-edit", args=[duplicate.pk]),
        {"full_name": "Anna Patiens", "insurance_id": "111111110", "email": "anna@example.org"},
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.email == "anna@example.org"


def test_online_records_without_taj_are_proposed_by_name_or_email_with_the_birth_date(cast, login):
    """Issue 22: an online patient gives no TAJ; the register's record is found by the name (case and
    accents ignored) and birth date, or by the e-mail address and birth date (the name in the other order)."""
    born = date(1980, 1, 2)
    Patient.objects.filter(pk=cast.patient_a.pk).update(birth_date=born, email="anna@example.test")
    a = cast.institution_a
    by_name = PatientFactory(institution=a, full_name="anna pátient", birth_date=born, registered_online=True)
    by_email = PatientFactory(
        institution=a,
        full_name="Patient Anna",
        birth_date=born,
        email="ANNA@example.test",
        registered_online=True,
    )
    PatientFactory(
        institution=a, full_name="Anna Patient", birth_date=date(1990, 5, 5), email="x@example.test"
    )
    PatientFactory(institution=a, full_name="Patient Anna", email="anna@example.test")  # no birth date
    PatientFactory(institution=cast.institution_b, full_name="Anna Patient", birth_date=born)  # B's

    page = login(cast.alice).get(DUPLICATES).content.decode()
    assert page.count('data-testid="duplicate-group"') == 1
    assert page.count('data-testid="merge-form"') == 2  # into Anna Patient, the institution's own record
    assert (
        f'name="duplicate" value="{by_name.pk}"' in page and f'name="duplicate" value="{by_email.pk}"' in page
    )
    assert f'name="keep" value="{cast.patient_a.pk}"' in page and "x@example.test" not in page
    assert page.count("the patient, online") == 2


def test_records_linked_through_one_another_are_one_group_in_one_query(cast, django_assert_num_queries):
    """A shares a TAJ with B, B a name and birth date with C: one group, A kept; the query count does not
    grow with the register."""
    born = date(1975, 3, 4)
    a = cast.institution_a
    first = PatientFactory(institution=a, full_name="Csaba Kiss", insurance_id="222222220", birth_date=born)
    second = PatientFactory(
        institution=a,
        full_name="Kiss Csaba",
        insurance_id="222222220",
        birth_date=born,
        registered_by_partner=True,
    )
    third = PatientFactory(institution=a, full_name="KISS csaba", birth_date=born, registered_online=True)
    actor = actor_of(cast.alice)
    with django_assert_num_queries(1):
        groups = patient_duplicate_groups(actor=actor)
    assert [[p.pk for p in group] for group in groups] == [[first.pk, third.pk, second.pk]]
