"""G-1, G-2, G-5 (issue 24): a patient's export, erasure and restriction, and the requests log."""

import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import local, next_weekday
from medbook.accounts.tests.test_security import age_session
from medbook.audit.models import AuditEntry, AuditPersonal
from medbook.audit.sealer import audit_seal
from medbook.core.errors import DomainError
from medbook.notifications.models import OutboxMessage
from medbook.online.models import OnlineRequest
from medbook.partners.models import Partnership
from medbook.partners.services.booking import partner_patient_search
from medbook.partners.tests import services as partner_services
from medbook.patients.models import Patient
from medbook.patients.services import patient_register_read
from medbook.patients.tests.factories import PatientFactory
from medbook.privacy import services
from medbook.privacy.models import DataRequest, one_month_after
from medbook.scheduling import services as scheduling
from medbook.scheduling.models import Booking, ManageLink

pytestmark = pytest.mark.django_db


def _book(cast, user, patient, hour, day=None):
    return partner_services.booking_create(
        actor=cast.actor(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=patient,
        starts_at=local(day or next_weekday(2), hour),
    )


def _history(cast, partners):
    """Anna: a reception booking, a partner's booking, a read of her record, a partner's search; Otto
    (another patient of A) with a booking of his own."""
    Partnership.objects.filter(pk=partners.partnership_p.pk).update(patient_data_access=True)
    anna = cast.patient_a
    Patient.objects.filter(pk=anna.pk).update(email="anna@example.test")
    anna.refresh_from_db()
    otto = PatientFactory(institution=cast.institution_a, full_name="Otto Other", email="otto@example.test")
    mine = [_book(cast, cast.bob, anna, 9), _book(cast, partners.peter, anna, 10)]
    other = _book(cast, cast.bob, otto, 11)
    patient_register_read(actor=cast.actor(cast.bob), view="record", patients=[anna])
    patient_register_read(actor=cast.actor(cast.bob), view="list", patients=[otto, anna], query="Ott", page=1)
    partners.partnership_p.refresh_from_db()
    partner_patient_search(actor=cast.actor(partners.peter), partnership=partners.partnership_p, query="Anna")
    return anna, otto, mine, other


def _export(client, patient, fmt="json", **more):
    return client.post(reverse("privacy:patient-export", args=[patient.pk]), {"format": fmt, **more})


def test_g1_the_export_holds_every_booking_and_audit_entry_of_the_patient_and_nothing_of_another(
    cast, partners, login
):
    anna, otto, mine, other = _history(cast, partners)
    response = _export(login(cast.alice), anna)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    document = json.loads(response.content)
    assert document["schema"] == "medbook.patient-export/1"
    assert document["patient"]["full_name"] == "Anna Patient"
    assert {row["id"] for row in document["bookings"]} == {booking.pk for booking in mine}
    partner_row = next(row for row in document["bookings"] if row["partner"])
    assert (partner_row["partner"]["name"], partner_row["booked_by"]["email"]) == (
        "CallCenter Ltd",
        "peter@p.test",
    )
    about = {
        entry.pk
        for entry in AuditEntry.objects.filter(institution=cast.institution_a)
        if (entry.object_type, entry.object_id) == ("patients.Patient", str(anna.pk))
        or entry.details.get("patient_id") == anna.pk
        or anna.pk in entry.details.get("patient_ids", []) + entry.details.get("result_ids", [])
    }
    export = AuditEntry.objects.get(action="patient.export")  # written after the document was made
    assert {row["id"] for row in document["audit"]} == about - {export.pk}
    listed = next(row for row in document["audit"] if row["action"] == "patient.register_read")
    assert listed["details"] == {"view": "list", "page": 1}  # neither Otto's id nor the search text
    assert {"booking.create", "patient.view", "patient.partner_search"} <= {
        row["action"] for row in document["audit"]
    }
    assert {row["to"] for row in document["emails"]} == {"anna@example.test"}
    assert [row["name"] for row in document["partners"]] == ["CallCenter Ltd"]
    text = response.content.decode()
    assert (
        "Otto" not in text
        and "otto@example.test" not in text
        and str(other.pk) not in {str(row["id"]) for row in document["bookings"]}
    )
    # The export itself is audited, and answers a portability request received today.
    assert AuditEntry.objects.filter(action="patient.export", object_id=str(anna.pk)).exists()
    request = DataRequest.objects.get(patient=anna)
    assert (request.kind, request.answered_at is not None) == ("portability", True)


def test_g1_the_readable_export_is_in_the_institutions_language_and_zone(cast, partners, login):
    anna, *_ = _history(cast, partners)
    assert cast.institution_a.language == "hu"
    response = _export(login(cast.alice), anna, "html")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Foglalások" in page and "Anna Patient" in page and "Otto" not in page
    assert "UTC" not in page and "T09:00" not in page


@pytest.mark.parametrize(("who", "status"), [("charlie", 404), ("bob", 403), ("paula", 403), ("peter", 403)])
def test_g1_only_the_patients_institution_admin_exports(cast, partners, login, who, status):
    user = getattr(cast, who, None) or getattr(partners, who)
    client = login(user)
    assert _export(client, cast.patient_a).status_code == status
    assert client.get(reverse("privacy:patient-rights", args=[cast.patient_a.pk])).status_code == status
    assert not AuditEntry.objects.filter(action="patient.export").exists()
    assert not DataRequest.objects.exists()


def test_g5_a_request_is_logged_due_a_month_later_and_answered_by_the_export(cast, login):
    client = login(cast.alice)
    url = reverse("privacy:request-create", args=[cast.patient_a.pk])
    assert client.post(url, {"kind": "access", "received_on": "2026-01-31"}).status_code == 302
    request = DataRequest.objects.get()
    assert (request.due_on, request.answered_at) == (date(2026, 2, 28), None)
    assert one_month_after(date(2026, 12, 15)) == date(2027, 1, 15)
    assert client.post(url, {"kind": "nonsense"}).status_code == 422
    _export(client, cast.patient_a, "html")
    request.refresh_from_db()
    assert request.answered_at is not None and request.answered_in_time is False
    log = client.get(reverse("privacy:request-list")).content.decode()
    assert "Anna Patient" in log
    assert login(cast.charlie).get(reverse("privacy:request-list")).content.decode().count("Anna") == 0


def _verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_g2_erasure_needs_the_password_again(cast, login):
    client = login(cast.alice)
    age_session(client, password_at=11 * 60)
    url = reverse("privacy:patient-erase", args=[cast.patient_a.pk])
    response = client.post(url, {"reason": "asked", "confirm": "on"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauthenticate"))
    cast.patient_a.refresh_from_db()
    assert cast.patient_a.erased_at is None


def test_g2_erasure_anonymises_keeps_the_bookings_and_the_audit_log_still_verifies(cast, partners, login):
    anna, otto, mine, other = _history(cast, partners)
    for booking in mine:  # visits ahead hold the identity: cancelled first
        scheduling.booking_cancel(actor=cast.actor(cast.bob), booking=booking, reason="Anna asked")
    typed = OnlineRequest.objects.create(  # what she typed had she booked the first one online
        institution=cast.institution_a,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        starts_at=mine[0].starts_at,
        hold_key="0" * 64,
        full_name="Anna Patient",
        birth_date=date(1980, 1, 1),
        email="anna@example.test",
        email_key="anna@example.test",
        expires_at=mine[0].starts_at,
        booking=mine[0],
    )
    ManageLink.objects.create(booking=mine[1], key_hash="1" * 64)  # a link the desk's cancel did not see
    audit_seal()
    pending = OutboxMessage.objects.filter(to_email="anna@example.test", status="pending").count()
    assert pending
    client = login(cast.alice)
    url = reverse("privacy:patient-erase", args=[anna.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 422
    response = client.post(url, {"reason": "The patient asked (e-mail of 3 March)", "confirm": "on"})
    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.erased_at is not None and "Anna" not in anna.full_name
    assert (anna.email, anna.phone, anna.insurance_id, anna.birth_date) == ("", "", "", None)
    assert Booking.objects.filter(patient=anna).count() == 2
    assert (
        not Booking.objects.filter(patient=anna)
        .exclude(note="", cancel_reason="", partner_patient_name="")
        .exists()
    )
    assert not OutboxMessage.objects.filter(to_email="anna@example.test").exists()
    assert OutboxMessage.objects.filter(status="withdrawn", to_email="").count() >= pending
    assert not any("Anna" in str(row.data) for row in AuditPersonal.objects.all())
    audit_seal()
    assert "entries" in _verify()  # raises CommandError when a proof fails
    request = DataRequest.objects.get(patient=anna, kind="erasure")
    assert request.outcome == "erased" and request.reason.startswith("The patient asked")
    otto.refresh_from_db()
    assert otto.full_name == "Otto Other"
    assert not OnlineRequest.objects.filter(pk=typed.pk).exists()
    assert not ManageLink.objects.filter(booking__in=mine, revoked_at__isnull=True).exists()


def test_g2_upcoming_visits_hold_the_identity_the_patient_is_restricted_meanwhile(cast, partners, login):
    anna, *_ = _history(cast, partners)
    result = services.patient_erase(actor=cast.actor(cast.alice), patient=anna, reason="asked")
    anna.refresh_from_db()
    assert not result.erased and result.holds and anna.restricted_at is not None and anna.erased_at is None
    assert anna.full_name == "Anna Patient"
    with pytest.raises(DomainError):
        _book(cast, cast.bob, anna, 13)
    partners.partnership_p.refresh_from_db()
    found = partner_patient_search(
        actor=cast.actor(partners.peter), partnership=partners.partnership_p, query="Anna"
    )
    assert anna.pk not in [patient.pk for patient in found]
    page = login(cast.alice).get(reverse("privacy:patient-erase", args=[anna.pk])).content.decode()
    assert "upcoming" in page or "közelgő" in page


def test_g2_restriction_is_lifted_and_the_patient_can_be_booked_again(cast, login):
    client = login(cast.alice)
    url = reverse("privacy:patient-restriction", args=[cast.patient_a.pk])
    assert client.post(url, {"restrict": "1"}).status_code == 302
    cast.patient_a.refresh_from_db()
    assert cast.patient_a.restricted_at is not None
    with pytest.raises(DomainError):
        _book(cast, cast.bob, cast.patient_a, 9)
    assert client.post(url, {"restrict": "0"}).status_code == 302
    cast.patient_a.refresh_from_db()
    assert cast.patient_a.restricted_at is None
    assert _book(cast, cast.bob, cast.patient_a, 9).pk
    assert DataRequest.objects.get().kind == "restriction"
