"""The reports read a real streaming replica while it keeps up, and the primary when it lags or is down.

The system cluster's pg_hba.conf allows no replication connection (nor should a test edit it), so the
module makes a primary of its own (initdb, trust, replication allowed), loads the test database into it
(pg_dump of the one pytest-django made), copies it with `pg_basebackup -R -X stream` into a standby and
starts both on free ports; both are stopped and deleted after, whatever the outcome. During each test
`default` points at that primary and `replica` at the standby (as config/databases.py builds them).
"""

import copy
import json
import shutil
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import cast_build, local, next_weekday
from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.core import replica
from medbook.core.tests.clusters import (
    Cluster,
    alias_pointed,
    databases_from,
    postgres_owned_tempdir,
    run,
    sql,
    wait_for,
)
from medbook.core.tests.ports import free_port
from medbook.institutions.tests.factories import PASSWORD
from medbook.scheduling.models import Booking

# `replica` is a mirror of `default` for the test runner (nothing to create or flush there); each test
# points it at the standby.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, databases=["default", "replica"])]


@pytest.fixture(scope="module")
def streaming_pair(django_db_setup, django_db_blocker):
    """(primary, standby, database name): a primary holding the test database and its streaming standby."""
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        major = connection.pg_version // 10000
    base = postgres_owned_tempdir("medbook-replica-")
    primary, standby = Cluster(base, "primary", major), Cluster(base, "standby", major)
    try:
        run(primary.pg("initdb", "-D", str(primary.data), "-U", "postgres", "--auth=trust", "--no-sync"))
        with open(primary.data / "postgresql.conf", "a") as conf:  # our own cluster's configuration
            conf.write("\nwal_level = replica\nmax_wal_senders = 4\nfsync = off\n")
        primary.start()
        dump = run(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--no-owner", "--no-privileges", name])
        sql(primary.port, f'CREATE DATABASE "{name}"')
        run(
            ["psql", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-d", name, "-Xq"]
            + ["-v", "ON_ERROR_STOP=1"],
            input=dump,
        )
        run(
            primary.pg("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres")
            + ["-D", str(standby.data), "-R", "-X", "stream", "--checkpoint=fast"]
        )
        standby.start()
        wait_for(lambda: sql(standby.port, "SELECT pg_is_in_recovery()").strip() == "t", "the standby")
        mirror = copy.deepcopy(connection.settings_dict) | {"TEST": {"MIRROR": "default"}}
        with alias_pointed({"replica": mirror}):  # there before the tests' database set-up asks for it
            yield primary, standby, name
    finally:
        try:
            standby.stop()
        finally:
            primary.stop()
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def on_pair(streaming_pair, settings, monkeypatch):
    """`default` on the primary, `replica` on the standby, the lag measured afresh at every read."""
    primary, standby, name = streaming_pair
    built = _built(primary.port, standby.port, name)
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 300
    monkeypatch.setattr(replica, "LAG_CACHE_SECONDS", 0)
    replica.replica_forget()
    with alias_pointed(built):
        try:
            yield primary, standby, name
        finally:
            sql(standby.port, "SELECT pg_wal_replay_resume()")
            call_command("flush", database="default", interactive=False, verbosity=0)
    replica.replica_forget()


def _built(primary_port: int, standby_port: int, name: str) -> dict:
    """DATABASES as config/databases.py builds them for this primary and standby."""
    built = databases_from(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{primary_port}/{name}",
            "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{standby_port}/{name}",
            "DATABASE_PGBOUNCER": "false",
        }
    )
    return built


def _book(cast, day, hour: int) -> Booking:
    from medbook.scheduling import services

    return services.booking_create(
        actor=actor_for(cast.alice),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, hour),
    )


def _report_url(day) -> str:
    return reverse("reports:booking-report") + f"?date_from={day.isoformat()}&date_until={day.isoformat()}"


def _replayed(standby_port: int, name: str, pk: int) -> bool:
    return sql(standby_port, f"SELECT count(*) FROM scheduling_booking WHERE id = {pk}", name).strip() == "1"


def _report(client, day, *, replica_up: bool = True):
    """The report as the client sees it, and the queries it ran on each side (None for a replica down)."""
    with CaptureQueriesContext(connections["default"]) as on_primary:
        if not replica_up:
            response, on_replica = client.get(_report_url(day)), None
        else:
            with CaptureQueriesContext(connections["replica"]) as on_replica:
                response = client.get(_report_url(day))
    assert response.status_code == 200
    return response.content.decode(), on_primary, on_replica


def _reads_bookings(captured) -> bool:
    return any("scheduling_booking" in query["sql"] for query in captured.captured_queries)


def test_reports_read_the_replica_everything_else_the_primary(on_pair, client):
    primary, standby, name = on_pair
    cast = cast_build()
    day = next_weekday(2)
    with CaptureQueriesContext(connections["replica"]) as elsewhere:
        logged_in = client.post(
            reverse("accounts:login"), {"username": cast.alice.email, "password": PASSWORD}
        )
        assert logged_in.status_code == 302
        token = api_token_create(actor=actor_for(cast.alice), name="replica test")[1]
        api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        body = {
            "location_id": cast.location_a1.pk,
            "physician_id": cast.physician_a.pk,
            "service_id": cast.service_a.pk,
            "patient_id": cast.patient_a.pk,
            "starts_at": local(day, 9).isoformat(),
        }
        created = client.post("/api/v1/bookings", json.dumps(body), content_type="application/json", **api)
        assert created.status_code in (200, 201), created.content
    assert elsewhere.captured_queries == []  # login, token and booking: the primary alone
    booking = Booking.objects.get()
    wait_for(lambda: _replayed(standby.port, name, booking.pk), "the booking to reach the standby")

    html, on_primary, on_replica = _report(client, day)
    assert f'data-booking="{booking.pk}"' in html
    assert _reads_bookings(on_replica) and not _reads_bookings(on_primary)
    period = {"date_from": day.isoformat(), "date_until": (day + timedelta(days=1)).isoformat()}
    with CaptureQueriesContext(connections["replica"]) as api_on_replica:
        traffic = client.get("/api/v1/reports/traffic", period, **api)
    assert traffic.status_code == 200 and sum(r["bookings"] for r in traffic.json()["channels"]) == 1
    assert _reads_bookings(api_on_replica)


def test_a_lagging_replica_gives_way_to_the_primary_until_it_catches_up(on_pair, client, settings):
    primary, standby, name = on_pair
    cast = cast_build()
    day = next_weekday(2)
    client.force_login(cast.alice)
    first = _book(cast, day, 9)
    wait_for(lambda: _replayed(standby.port, name, first.pk), "the first booking to reach the standby")
    sql(standby.port, "SELECT pg_wal_replay_pause()")
    second = _book(cast, day, 10)

    # Within the bound (300 s) the paused standby still serves, without the second booking: reads are there.
    html, _, on_replica = _report(client, day)
    assert _reads_bookings(on_replica)
    assert f'data-booking="{first.pk}"' in html and f'data-booking="{second.pk}"' not in html

    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.2
    wait_for(lambda: (replica.replica_lag() or 0) > 0.2, "the paused standby's lag to pass the bound")
    html, on_primary, on_replica = _report(client, day)
    assert _reads_bookings(on_primary) and not _reads_bookings(on_replica)
    assert f'data-booking="{second.pk}"' in html

    sql(standby.port, "SELECT pg_wal_replay_resume()")
    wait_for(lambda: replica.replica_lag() == 0, "the standby to replay everything")
    html, on_primary, on_replica = _report(client, day)
    assert _reads_bookings(on_replica) and not _reads_bookings(on_primary)
    assert f'data-booking="{second.pk}"' in html


def test_a_replica_that_is_down_leaves_the_reports_to_the_primary(on_pair, client, monkeypatch):
    primary, standby, name = on_pair
    monkeypatch.setattr(replica, "LAG_CACHE_SECONDS", 60)  # as in production: one probe, not one per read
    cast = cast_build()
    day = next_weekday(2)
    booking = _book(cast, day, 9)
    client.force_login(cast.alice)
    nobody = _built(primary.port, free_port(), name)["replica"]  # nothing listens there
    with alias_pointed({"replica": nobody}):
        assert replica.replica_lag() is None  # the probe's one wait (2 s), then the remembered answer
        html, on_primary, _ = _report(client, day, replica_up=False)
    assert _reads_bookings(on_primary) and f'data-booking="{booking.pk}"' in html
