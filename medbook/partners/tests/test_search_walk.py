"""Issue 19: one user's hourly search quota walked a small register (27 of 30 demo patients in 2 s). The
different patients one user's searches show in an hour have a ceiling no sequence of searches passes."""

import pytest

from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.notifications.models import OutboxMessage
from medbook.partners.models import PatientSearch
from medbook.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

SURNAMES = ("Nagy", "Kovács", "Tóth", "Szabó", "Horváth", "Varga", "Kiss", "Molnár", "Németh", "Farkas")
GIVEN = ("Anna", "Béla", "Csilla")


@pytest.fixture
def register(cast, partners):
    """A demo-like register of 30 patients (and the cast's Anna Patient) at institution A, which partner P
    may search."""
    partners.partnership_p.patient_data_access = True
    partners.partnership_p.save()
    made = {
        PatientFactory(institution=cast.institution_a, full_name=f"{surname} {given}").pk
        for surname in SURNAMES
        for given in GIVEN
    }
    return made | {cast.patient_a.pk}


def _walk(client, token: str, institution_id: int, queries) -> tuple[set[int], list[int]]:
    found: set[int] = set()
    statuses = []
    for query in queries:
        answer = client.get(
            "/api/v1/patients",
            {"q": query, "institution_id": institution_id},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        statuses.append(answer.status_code)
        if answer.status_code == 200:
            found |= {row["id"] for row in answer.json()}
    return found, statuses


def test_finding_hourly_quota_does_not_walk_a_small_register(client, cast, partners, register, settings):
    assert settings.PATIENT_SEARCH_QUOTA_USER_HOUR_PATIENTS == 10  # the default
    token = api_token_create(actor=actor_for(partners.peter), name="walk")[1]
    # The walker's best: every 3-letter piece of every name, then common vowels-and-letters triples.
    pieces = sorted({name[i : i + 3].lower() for s in (*SURNAMES, *GIVEN) for name in [s] for i in range(2)})
    found, statuses = _walk(client, token, cast.institution_a.pk, [*pieces, "ová", "agy", "nna", "éla"])
    assert found <= register and len(found) <= 10  # at most a third of the register, however it is walked
    assert statuses.count(429) >= len(statuses) - 4  # refused after a few searches
    refused = PatientSearch.objects.filter(refused="user_hour_patients")
    assert refused.exists() and not any(r.result_ids for r in refused)
    alert = OutboxMessage.objects.get(kind="partner_search_quota_hit", to_email="alice@a.test")
    assert "10 different patients" in alert.text_body  # the institution's admin is told what was hit


def test_finding_hourly_patients_quota_lets_the_same_patient_be_found_again(client, cast, partners, register):
    token = api_token_create(actor=actor_for(partners.peter), name="desk")[1]
    # A desk that books the same few patients again and again is not stopped by the patients ceiling.
    found, statuses = _walk(client, token, cast.institution_a.pk, ["Nagy Anna", "Kiss Béla"] * 10)
    assert statuses == [200] * 20 and len(found) == 2
    other = api_token_create(actor=actor_for(partners.paula), name="other")[1]
    assert _walk(client, other, cast.institution_a.pk, ["Tóth"])[1] == [200]  # the ceiling is per user
