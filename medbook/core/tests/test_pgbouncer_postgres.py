"""The app through a real PgBouncer in transaction mode, as config/databases.py sets it up for one.

DATABASE_PGBOUNCER=true: no psycopg pool of the app's own, no prepared statements, no server-side cursors.
The PgBouncer holds one server connection, which every transaction shares: bookings through the API, a
double booking refused by the exclusion constraint (a 409, the connection fine after it), the audit log
(the sealer's `FOR UPDATE SKIP LOCKED` transaction, then `audit_verify` reading it with `.iterator()`).
"""

import json
import shutil
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from conftest import cast_build, local, next_weekday
from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry
from medbook.core.tests.clusters import PgBouncer, alias_pointed, databases_from, postgres_owned_tempdir
from medbook.scheduling import selectors
from medbook.scheduling.models import Booking

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def pgbouncer(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    base = postgres_owned_tempdir("medbook-pgbouncer-")
    bouncer = PgBouncer(base, name)
    try:
        bouncer.start()
        yield bouncer
    finally:
        try:
            bouncer.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def through_pgbouncer(pgbouncer):
    """`default` as config/databases.py builds it for a PgBouncer in front of the test database."""
    url = f"postgres://postgres@127.0.0.1:{pgbouncer.port}/{pgbouncer.dbname}"
    built = databases_from({"DATABASE_URL": url, "DATABASE_PGBOUNCER": "true", "DATABASE_REPLICA_URL": ""})
    with alias_pointed({"default": built["default"]}):
        assert "pool" not in connection.settings_dict["OPTIONS"]
        assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"]
        yield pgbouncer


def _server_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_bookings_refusals_and_the_audit_chain_through_pgbouncer(through_pgbouncer, client, monkeypatch):
    cast = cast_build()
    token = api_token_create(actor=actor_for(cast.alice), name="pgbouncer test")[1]
    api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    day = next_weekday(2)

    def book(hour: int):
        body = {
            "location_id": cast.location_a1.pk,
            "physician_id": cast.physician_a.pk,
            "service_id": cast.service_a.pk,
            "patient_id": cast.patient_a.pk,
            "starts_at": local(day, hour).isoformat(),
        }
        return client.post("/api/v1/bookings", json.dumps(body), content_type="application/json", **api)

    server = _server_pid()
    for hour in (9, 10, 11):  # request after request, on the one server connection
        answer = book(hour)
        assert answer.status_code == 201, answer.content
        assert _server_pid() == server
    # Another client of the PgBouncer gets the same server connection between our transactions.
    other = f"host=127.0.0.1 port={through_pgbouncer.port} dbname={through_pgbouncer.dbname} user=postgres"
    with psycopg.connect(other, prepare_threshold=None) as raw:
        assert raw.execute("SELECT pg_backend_pid()").fetchone()[0] == server

    # The check before the insert would refuse the taken slot; without it, the exclusion constraint does.
    monkeypatch.setattr(selectors, "active_bookings", lambda **kwargs: Booking.objects.none())
    refused = book(9)
    assert refused.status_code == 409, refused.content
    assert refused.json()["error"]["message"] == "This slot is no longer available."
    assert Booking.objects.count() == 3 and _server_pid() == server  # the connection is fine after it
    monkeypatch.undo()

    created = AuditEntry.objects.filter(action=AuditAction.BOOKING_CREATE)
    assert sorted(created.values_list("object_id", flat=True)) == sorted(
        str(pk) for pk in Booking.objects.values_list("pk", flat=True)
    )
    call_command("audit_seal", stdout=StringIO())
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert out.getvalue().startswith("Audit log intact: ")
    assert book(12).status_code == 201
