"""The register's search reads the stored folded name (Patient.search_name), which PostgreSQL indexes by
trigrams: one query however large the register, accents ignored, and the folded name kept by the database
whichever way a name is written (issue 13: a search filtered a whole institution's register)."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import actor_of
from medbook.patients.models import Patient
from medbook.patients.selectors import patient_search
from medbook.patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
SEARCH = reverse("patients:patient-search")


def _search(actor, query: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        names = [patient.full_name for patient in patient_search(actor=actor, query=query)]
    return len(queries), names


def test_b6_search_is_one_query_and_finds_accented_names_however_large_the_register(cast):
    actor = actor_of(cast.bob)
    PatientFactory(institution=cast.institution_a, full_name="Németh Éva")
    Patient.objects.bulk_create(
        Patient(institution=cast.institution_a, full_name=f"Kovács {n}") for n in range(10)
    )
    small = _search(actor, "nemeth eva")
    Patient.objects.bulk_create(
        Patient(institution=cast.institution_a, full_name=f"Szabó {n}") for n in range(200)
    )
    large = _search(actor, "nemeth eva")
    assert small == large == (1, ["Németh Éva"])
    assert _search(actor, "SZABÓ 19")[1] == [
        "Szabó 19",
        "Szabó 190",
        "Szabó 191",
        "Szabó 192",
        "Szabó 193",
        "Szabó 194",
        "Szabó 195",
        "Szabó 196",
        "Szabó 197",
        "Szabó 198",
    ]


def test_b6_search_follows_a_renamed_patient(cast, login):
    # A bulk update never calls save(): the database recomputes the folded name itself.
    Patient.objects.filter(pk=cast.patient_a.pk).update(full_name="Ödön Őry")
    page = login(cast.bob).get(SEARCH, {"q": "odon ory"}).content.decode()
    assert "Ödön Őry" in page
    assert "Ödön Őry" not in login(cast.bob).get(SEARCH, {"q": "anna"}).content.decode()


@pytest.mark.postgres
def test_b6_postgresql_searches_the_register_through_trigram_indexes(cast):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'patients_patient'")
        definitions = " ".join(row[0] for row in cursor.fetchall())
    assert "gin (search_name gin_trgm_ops)" in definitions
    assert "upper((email)::text) gin_trgm_ops" in definitions
    # The conditions as the searches write them match the indexes' expressions (on a table this small the
    # planner would rather read the institution's rows: it is told not to, to see what the indexes serve).
    searched = Patient.objects.filter(
        Q(search_name__contains="nemeth") | Q(email__icontains="nemeth") | Q(phone__icontains="nemeth")
    )
    sql, params = searched.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "patient_search_name_trgm" in plan and "patient_contact_trgm" in plan
