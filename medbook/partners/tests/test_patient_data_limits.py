"""Patient-data limits (P-15, issue 9 F3): the harvest of the register by many searches is refused past the
per-user and per-partnership quotas (429, audited, one e-mail per window to the institution's admins), and a
booking opens only a patient that the same user's recent search returned."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import local, next_weekday
from medbook.accounts.models import Membership
from medbook.audit.models import AuditEntry
from medbook.core.timefmt import when
from medbook.institutions.tests.factories import MembershipFactory, UserFactory
from medbook.notifications.models import OutboxMessage
from medbook.partners.models import PatientSearch
from medbook.patients.tests.factories import PatientFactory
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db

SEARCH = reverse("partners:patient-search")
SLOT = reverse("partners:book-slot")
QUOTA_HIT = "patient.search_quota_hit"
ALERT = "partner_search_quota_hit"


@pytest.fixture
def access(partners):
    partners.partnership_p.patient_data_access = True
    partners.partnership_p.save()
    return partners.partnership_p


@pytest.fixture
def quotas(settings):
    settings.PATIENT_SEARCH_QUOTA_USER_HOUR = 3
    settings.PATIENT_SEARCH_QUOTA_USER_DAY = 200
    settings.PATIENT_SEARCH_QUOTA_PARTNERSHIP_DAY = 1000
    return settings


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _search(client, partnership, query, **extra):
    return client.get(SEARCH, {"partnership": partnership.pk, "q": query}, **extra)


def _slot(cast, **extra) -> dict:
    return {
        "slot_location": cast.location_a1.pk,
        "slot_physician": cast.physician_a.pk,
        "slot_service": cast.service_a.pk,
        "starts_at": local(next_weekday(1), 10).isoformat(),
        **extra,
    }


def _age_searches(hours: float) -> None:
    """Let time pass: every recorded search (answered or refused) happened `hours` earlier."""
    for search in PatientSearch.objects.all():
        PatientSearch.objects.filter(pk=search.pk).update(
            created_at=search.created_at - timedelta(hours=hours)
        )


def test_f3_harvest_by_many_searches_is_refused_with_429_and_when_to_try_again(
    cast, partners, access, quotas
):
    for n in range(8):
        PatientFactory(institution=cast.institution_a, full_name=f"Harvest Target {n:02d}")
    peter = _client(partners.peter)
    answers = [_search(peter, access, f"Target {n:02d}") for n in range(8)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    refused = answers[3:]
    assert {a.status_code for a in refused} == {429}
    assert all("Harvest Target" not in a.content.decode() for a in refused)  # nothing more leaks
    first = PatientSearch.objects.filter(refused="").earliest("created_at").created_at
    again = first + timedelta(hours=1)
    zone = ZoneInfo(cast.institution_a.time_zone)
    today = again.astimezone(zone).date() == timezone.now().astimezone(zone).date()
    shown = when(again, zone, "time" if today else "datetime")  # past local midnight, with the day
    assert f"Too many patient searches: try again after {shown}" in refused[0].content.decode()
    assert 0 < int(refused[0]["Retry-After"]) <= 3600
    # the register was searched three times, not eight
    assert AuditEntry.objects.filter(action="patient.partner_search").count() == 3
    hits = AuditEntry.objects.filter(action=QUOTA_HIT)
    assert hits.count() == 5 and {h.institution_id for h in hits} == {cast.institution_a.pk}
    assert {h.user_id for h in hits} == {partners.peter.pk} and hits.first().details["quota"] == "user_hour"
    # the institution admin sees the hits in the audit log
    log = _client(cast.alice).get(reverse("audit:entry-list"), {"action": QUOTA_HIT})
    assert log.status_code == 200 and QUOTA_HIT in log.content.decode()


def test_f3_a_refused_search_answers_429_as_an_htmx_fragment_too(cast, partners, access, quotas):
    quotas.PATIENT_SEARCH_QUOTA_USER_HOUR = 1
    peter = _client(partners.peter)
    assert _search(peter, access, "Anna", HTTP_HX_REQUEST="true").status_code == 200
    refused = _search(peter, access, "Anna", HTTP_HX_REQUEST="true")
    assert refused.status_code == 429 and "Too many patient searches" in refused.content.decode()
    assert "<html" not in refused.content.decode()


def test_f3_five_refused_searches_send_one_email_to_each_admin_in_their_language(
    cast, partners, access, quotas
):
    hanna = UserFactory(email="hanna@a.test", full_name="Hanna Admin", language="hu")
    MembershipFactory(user=hanna, organization=cast.institution_a, role=Membership.Role.ADMIN)
    peter = _client(partners.peter)
    for _n in range(3):
        assert _search(peter, access, "Anna").status_code == 200
    for _n in range(5):
        assert _search(peter, access, "Anna").status_code == 429
    alerts = OutboxMessage.objects.filter(kind=ALERT)
    assert sorted((m.to_email, m.language) for m in alerts) == [
        ("alice@a.test", "en"),
        ("hanna@a.test", "hu"),
    ]
    english = alerts.get(to_email="alice@a.test")
    assert "Peter Booker" in english.text_body and "CallCenter Ltd" in english.text_body
    assert "Anna" not in english.text_body  # the alert carries no patient data
    assert not OutboxMessage.objects.filter(
        to_email__in=["paula@p.test", "peter@p.test", "bob@a.test"]
    ).exists()
    # an hour on, the quota is free again; used up again, it is a new window and a new alert
    _age_searches(1.01)
    for _n in range(3):
        assert _search(peter, access, "Anna").status_code == 200
    assert _search(peter, access, "Anna").status_code == 429
    assert OutboxMessage.objects.filter(kind=ALERT, to_email="alice@a.test").count() == 2


def test_f3_the_quota_is_per_user_and_the_partnership_has_one_of_its_own(cast, partners, access, quotas):
    quotas.PATIENT_SEARCH_QUOTA_USER_HOUR = 2
    quotas.PATIENT_SEARCH_QUOTA_PARTNERSHIP_DAY = 3
    peter, paula = _client(partners.peter), _client(partners.paula)
    assert [_search(peter, access, "Anna").status_code for _n in range(3)] == [200, 200, 429]
    assert _search(paula, access, "Anna").status_code == 200  # Peter's quota is his own
    refused = _search(paula, access, "Anna")  # the partnership's third answered search was the last
    assert refused.status_code == 429
    hit = AuditEntry.objects.filter(action=QUOTA_HIT, user=partners.paula).get()
    assert hit.details["quota"] == "partnership_day"
    # a day later, both may search again
    _age_searches(24.01)
    assert _search(paula, access, "Anna").status_code == 200


def test_f3_a_days_quota_refuses_even_when_each_hour_is_within_its_own(cast, partners, access, quotas):
    quotas.PATIENT_SEARCH_QUOTA_USER_HOUR = 2
    quotas.PATIENT_SEARCH_QUOTA_USER_DAY = 4
    peter = _client(partners.peter)
    for _hour in range(2):
        assert [_search(peter, access, "Anna").status_code for _n in range(2)] == [200, 200]
        _age_searches(1.01)
    refused = _search(peter, access, "Anna")
    assert refused.status_code == 429
    assert AuditEntry.objects.get(action=QUOTA_HIT).details["quota"] == "user_day"
    assert int(refused["Retry-After"]) > 3600 * 20


def test_f3_queries_too_short_to_search_do_not_count(cast, partners, access, quotas):
    quotas.PATIENT_SEARCH_QUOTA_USER_HOUR = 1
    peter = _client(partners.peter)
    for query in ("A", "An", "", "  "):
        assert _search(peter, access, query).status_code == 200
    assert "Anna Patient" in _search(peter, access, "Anna").content.decode()


def test_f3_a_zero_quota_lifts_that_limit(cast, partners, access, quotas):
    quotas.PATIENT_SEARCH_QUOTA_USER_HOUR = 0
    quotas.PATIENT_SEARCH_QUOTA_USER_DAY = 0
    quotas.PATIENT_SEARCH_QUOTA_PARTNERSHIP_DAY = 0
    peter = _client(partners.peter)
    assert {_search(peter, access, "Anna").status_code for _n in range(5)} == {200}


def test_f3_booking_opens_only_a_patient_the_same_users_recent_search_returned(cast, partners, access):
    other = PatientFactory(institution=cast.institution_a, full_name="Never Searched")
    peter, paula = _client(partners.peter), _client(partners.paula)
    assert "Anna Patient" in _search(peter, access, "Anna").content.decode()
    # another agent of the same partner cannot book the patient Peter's search returned
    assert paula.post(SLOT, _slot(cast, patient=cast.patient_a.pk)).status_code == 404
    # Peter cannot book a patient that no search of his returned, nor a made-up id: as if unknown
    assert peter.post(SLOT, _slot(cast, patient=other.pk)).status_code == 404
    assert peter.post(SLOT, _slot(cast, patient=999999)).status_code == 404
    assert not Booking.objects.exists()
    assert not AuditEntry.objects.filter(action="patient.partner_open").exists()
    # the patient his search returned he can
    assert peter.post(SLOT, _slot(cast, patient=cast.patient_a.pk)).status_code == 200
    assert Booking.objects.get().patient == cast.patient_a


def test_f3_a_search_older_than_the_pick_window_no_longer_opens_its_patients(
    cast, partners, access, settings
):
    settings.PATIENT_SEARCH_PICK_MINUTES = 30
    peter = _client(partners.peter)
    assert "Anna Patient" in _search(peter, access, "Anna").content.decode()
    _age_searches(31 / 60)
    assert peter.post(SLOT, _slot(cast, patient=cast.patient_a.pk)).status_code == 404
    assert not Booking.objects.exists()


def test_f3_a_refused_search_opens_nobody(cast, partners, access, quotas):
    quotas.PATIENT_SEARCH_QUOTA_USER_HOUR = 1
    peter = _client(partners.peter)
    assert "Anna" not in _search(peter, access, "Zzz").content.decode()
    assert _search(peter, access, "Anna").status_code == 429
    assert peter.post(SLOT, _slot(cast, patient=cast.patient_a.pk)).status_code == 404
    # the refusal is recorded, not the patients it would have returned
    assert PatientSearch.objects.get(refused="user_hour").result_ids == []


def test_f3_with_access_the_new_patient_forms_taj_look_up_counts_as_a_search(cast, partners, access, quotas):
    quotas.PATIENT_SEARCH_QUOTA_USER_HOUR = 2
    peter = _client(partners.peter)
    assert _search(peter, access, "Anna").status_code == 200
    taken = peter.post(SLOT, _slot(cast, **{"new-full_name": "Some One", "new-insurance_id": "111 111 110"}))
    assert taken.status_code == 422  # registered: use the search (and one look-up counted)
    refused = peter.post(
        SLOT, _slot(cast, **{"new-full_name": "Some One", "new-insurance_id": "222 222 220"})
    )
    assert refused.status_code == 429 and "Too many patient searches" in refused.content.decode()
    assert not Booking.objects.exists()
    assert AuditEntry.objects.filter(action=QUOTA_HIT, user=partners.peter).count() == 1
    # without a TAJ nothing is looked up, so nothing is counted
    plain = peter.post(SLOT, _slot(cast, **{"new-full_name": "No Taj"}))
    assert plain.status_code == 200 and Booking.objects.get().patient.full_name == "No Taj"


def test_f3_searches_older_than_every_window_are_forgotten_but_stay_in_the_audit_log(cast, partners, access):
    peter = _client(partners.peter)
    assert _search(peter, access, "Anna").status_code == 200
    _age_searches(49)
    assert _search(peter, access, "Anna").status_code == 200
    assert PatientSearch.objects.count() == 1
    assert AuditEntry.objects.filter(action="patient.partner_search").count() == 2
