"""No TAJ oracle (P-15, issue 9 F4): a partner without patient-data access gets one identical answer whatever
the TAJ number it enters, a new record flagged for the institution to merge; nobody is attached by TAJ
silently, and the record's creation is audited."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from conftest import local, next_weekday
from medbook.audit.models import AuditEntry
from medbook.patients.models import Patient
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db

SLOT = reverse("partners:book-slot")
ANNA_TAJ = "111 111 110"  # the cast's Anna Patient at institution A


def _post(client, cast, name: str, taj: str):
    data = {
        "slot_location": cast.location_a1.pk,
        "slot_physician": cast.physician_a.pk,
        "slot_service": cast.service_a.pk,
        "starts_at": local(next_weekday(1), 10).isoformat(),
        "new-full_name": name,
        "new-insurance_id": taj,
    }
    return client.post(SLOT, data)


def _page(response) -> str:
    """The answer as the partner sees it, less what differs between any two renderings (CSRF tokens)."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)


CASES = {
    "unknown TAJ": ("Nina New", "222 222 220"),
    "registered TAJ, another name": ("Somebody Else", ANNA_TAJ),
    "registered TAJ, the same name": ("Anna Patient", ANNA_TAJ),
}


def test_f4_without_access_the_answer_is_the_same_whatever_the_taj(cast, partners, login):
    assert not partners.partnership_p.patient_data_access
    client = login(partners.peter)
    anna = Patient.objects.get(institution=cast.institution_a, insurance_id="111111110")
    answers = {}
    for case, (name, taj) in CASES.items():
        with transaction.atomic():  # each case books the same slot from the same register
            response = _post(client, cast, name, taj)
            answers[case] = (response.status_code, _page(response))
            booking = Booking.objects.get()
            # a new record, flagged for the institution, never the registered patient
            assert booking.patient != anna and booking.patient.full_name == name, case
            assert booking.patient.registered_by_partner, case
            created = AuditEntry.objects.get(action="patient.create", object_id=str(booking.patient.pk))
            assert created.institution == cast.institution_a and created.user == partners.peter, case
            assert created.details["shares_taj"] is (taj == ANNA_TAJ), case  # told to the institution only
            assert not Booking.objects.filter(patient=anna).exists(), case
            transaction.set_rollback(True)
    (status, page), *others = answers.values()
    assert status == 200
    for case, answer in zip(list(CASES)[1:], others, strict=True):
        assert answer == (status, page), f"{case} answers differently from an unknown TAJ"
    assert "do not match" not in page and "registered" not in page


def test_f4_with_access_a_registered_taj_points_to_the_search_and_attaches_nobody(cast, partners, login):
    partners.partnership_p.patient_data_access = True
    partners.partnership_p.save()
    client = login(partners.peter)
    for name in ("Somebody Else", "Anna Patient"):
        response = _post(client, cast, name, ANNA_TAJ)
        assert response.status_code == 422
        assert "find them with the search" in response.content.decode()
    assert not Booking.objects.exists()
    assert Patient.objects.filter(insurance_id="111111110").count() == 1
