"""F8: the acts the audit log was missing: register reads, logins, switches, exports, operator reads,
privilege changes and (de)activation, each recorded with who, for whom, from where."""

import pytest
from django.urls import reverse

from conftest import local, next_weekday
from medbook.accounts.models import Membership
from medbook.audit.models import AuditEntry
from medbook.institutions.tests.factories import PASSWORD, MembershipFactory, UserFactory
from medbook.partners.tests import services as partner_services
from medbook.reports.tests.data import PERIOD

pytestmark = pytest.mark.django_db
IP = "198.51.100.7"


def _entries(action: str):
    return AuditEntry.objects.filter(action=action).order_by("pk")


def test_f8_staff_register_list_search_and_record_are_audited(cast, login):
    client = login(cast.bob)
    client.get(reverse("patients:patient-list"), REMOTE_ADDR=IP)
    client.get(reverse("patients:patient-list"), {"q": "Anna"})
    client.get(reverse("patients:patient-search"), {"q": "An"})
    client.get(reverse("patients:patient-search"), {"q": "A"})  # too short: nothing shown, nothing read
    listing, searched, booking_form = _entries("patient.register_read")
    assert (listing.user, listing.institution, listing.ip_address) == (cast.bob, cast.institution_a, IP)
    assert listing.details["patient_ids"] == [cast.patient_a.pk] and listing.details["view"] == "list"
    assert searched.shown_details["query"] == "Anna" and booking_form.details["view"] == "search"
    assert cast.patient_b.pk not in listing.details["patient_ids"]


def test_f8_opening_a_patient_record_is_audited(cast, login):
    login(cast.alice).get(reverse("patients:patient-edit", args=[cast.patient_a.pk]))
    entry = _entries("patient.view").get()
    assert (entry.user, entry.object_id, entry.institution) == (
        cast.alice,
        str(cast.patient_a.pk),
        cast.institution_a,
    )


def test_f8_login_and_failed_login_are_audited(cast, client):
    url = reverse("accounts:login")
    assert (
        client.post(url, {"username": "bob@a.test", "password": "wrong"}, REMOTE_ADDR=IP).status_code == 200
    )
    assert (
        client.post(url, {"username": "nobody@x.test", "password": "wrong"}, REMOTE_ADDR=IP).status_code
        == 200
    )
    assert (
        client.post(url, {"username": "bob@a.test", "password": PASSWORD}, REMOTE_ADDR=IP).status_code == 302
    )
    known, unknown = _entries("auth.login_failed")
    assert (known.user, known.ip_address, known.details) == (None, IP, {"email": "bob@a.test"})
    assert known.institution == cast.institution_a  # bob's institution's admins see attempts on his account
    assert unknown.institution is None and unknown.details == {"email": "nobody@x.test"}
    assert "wrong" not in str(known.details) + str(unknown.details)
    success = _entries("auth.login").get()
    assert (success.user, success.ip_address, success.institution) == (cast.bob, IP, cast.institution_a)
    assert success.request_id


def test_f8_organisation_switch_is_audited(cast, client, login):
    MembershipFactory(user=cast.alice, organization=cast.institution_b, role=Membership.Role.STAFF)
    client = login(cast.alice)
    client.post(reverse("accounts:organization-switch"), {"organization": cast.institution_b.pk})
    entry = _entries("organization.switch").get()
    assert (entry.user, entry.institution, entry.organization_name) == (
        cast.alice,
        cast.institution_b,
        "Institution A",
    )
    assert entry.details == {"previous": "Institution A"}
    client.post(reverse("accounts:organization-switch"), {"organization": "999999"})  # not a member: nothing
    assert _entries("organization.switch").count() == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_f8_statement_exports_are_audited_for_the_institution(cast, partners, login, fmt):
    query = {"date_from": PERIOD[0].isoformat(), "date_until": PERIOD[1].isoformat()}
    login(cast.alice).get(reverse("reports:settlement-download", args=[partners.partner_p.pk, fmt]), query)
    login(partners.paula).get(
        reverse("reports:partner-statement-download", args=[cast.institution_a.pk, fmt]), query
    )
    by_institution, by_partner = _entries("statement.export")
    assert (by_institution.user, by_partner.user) == (cast.alice, partners.paula)
    assert by_institution.institution == by_partner.institution == cast.institution_a
    assert by_partner.details["format"] == fmt and by_partner.details["date_from"] == PERIOD[0].isoformat()
    assert by_partner.object_repr == partners.partner_p.name


def test_f8_operator_reads_of_patients_and_bookings_in_the_admin_are_audited(cast, partners, login):
    booking = partner_services.booking_create(
        actor=cast.actor(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(2), 9),
    )
    operator = UserFactory(email="op@medbook.test", is_staff=True, is_superuser=True)
    client = login(operator)
    for url in (
        reverse("admin:patients_patient_changelist") + "?q=Anna",
        reverse("admin:patients_patient_change", args=[cast.patient_a.pk]),
        reverse("admin:scheduling_booking_changelist"),
        reverse("admin:scheduling_booking_change", args=[booking.pk]),
    ):
        assert client.get(url, REMOTE_ADDR=IP).status_code == 200
    patients, bookings = _entries("admin.list")
    assert (patients.user, patients.ip_address, patients.shown_details) == (
        operator,
        IP,
        {"model": "patients.Patient", "query": "q=Anna"},
    )
    assert bookings.details["model"] == "scheduling.Booking"
    patient, booked = _entries("admin.view")
    assert (patient.object_id, patient.institution) == (str(cast.patient_a.pk), cast.institution_a)
    assert (booked.object_type, booked.object_id) == ("scheduling.Booking", str(booking.pk))


def test_f8_privilege_change_and_deactivation_are_audited(cast, login):
    client = login(cast.alice)
    bob = Membership.objects.get(user=cast.bob)
    client.post(reverse("accounts:member-edit", args=[bob.pk]), {"role": "admin"})
    client.post(reverse("accounts:member-toggle", args=[bob.pk]), {"active": "0"})
    client.post(reverse("accounts:member-toggle", args=[bob.pk]), {"active": "1"})
    changed = _entries("member.permissions_set").get()
    assert (changed.user, changed.object_id, changed.institution) == (
        cast.alice,
        str(bob.pk),
        cast.institution_a,
    )
    assert _entries("member.deactivate").get().object_id == str(bob.pk)
    assert _entries("member.activate").get().object_id == str(bob.pk)
