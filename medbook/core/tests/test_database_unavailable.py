"""A database that cannot take the request answers 503 with Retry-After, never a 500 (issue 20, failover).

The same rule (medbook/core/middleware.py `database_unavailable`) for pages, the JSON API and FHIR; the
failover test (test_failover_postgres.py) proves it against a real primary killed mid-load. And the multi-host
DATABASE_URL that reaches a pg_auto_failover pair parses into what psycopg 3 connects with.
"""

import psycopg
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connections
from django.db.backends.postgresql.base import DatabaseWrapper
from django.db.utils import InterfaceError, OperationalError
from django.urls import reverse

from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.api import fhir, v1
from medbook.core.middleware import DATABASE_RETRY_AFTER_SECONDS, database_unavailable
from medbook.core.tests.clusters import databases_from
from medbook.reports import views as report_views

LOST = OperationalError("server closed the connection unexpectedly")
READ_ONLY = OperationalError("cannot execute INSERT in a read-only transaction")


def test_multi_host_database_url_parses_for_psycopg():
    built = databases_from(
        {
            "DATABASE_URL": "postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write",
            "DATABASE_REPLICA_URL": "",
            "DATABASE_PGBOUNCER": "false",
        }
    )["default"]
    assert (built["HOST"], built["PORT"], built["NAME"]) == ("h1,h2", "5432,5433", "db")
    assert built["OPTIONS"]["target_session_attrs"] == "read-write"
    # What Django hands psycopg: one connection string naming both hosts, tried in order for a writable one.
    settings = connections.configure_settings({"default": built})["default"]
    params = DatabaseWrapper(settings).get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    assert params.pop("prepare_threshold") == 5  # psycopg's connection argument, not a connection string's
    parsed = psycopg.conninfo.conninfo_to_dict(psycopg.conninfo.make_conninfo(**params))
    assert parsed["host"] == "h1,h2"
    assert parsed["port"] == "5432,5433"
    assert parsed["target_session_attrs"] == "read-write"


@pytest.mark.parametrize("error", [LOST, READ_ONLY, InterfaceError("connection already closed")])
def test_lost_or_read_only_database_is_unavailable(error):
    assert database_unavailable(error)


def test_other_errors_are_not_unavailable():
    assert not database_unavailable(ValueError("x"))
    assert not database_unavailable(OperationalError("no such table: scheduling_booking"))


def _raise(error):
    def raising(*args, **kwargs):
        raise error

    return raising


@pytest.fixture
def bearer(cast):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(actor=actor_for(cast.alice), name='t')[1]}"}


@pytest.mark.parametrize("error", [LOST, READ_ONLY])
def test_api_answers_503_with_retry_after(client, bearer, monkeypatch, error):
    monkeypatch.setattr(v1, "bookings_read", _raise(error))
    response = client.get("/api/v1/bookings", **bearer)
    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert response.json()["error"]["code"] == "unavailable"


def test_fhir_answers_503_with_retry_after(client, bearer, monkeypatch):
    monkeypatch.setattr(fhir, "bookings_read", _raise(LOST))
    response = client.get("/fhir/R4/Appointment", **bearer)
    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "transient"


def test_page_answers_503_with_retry_after(client, login, cast, monkeypatch):
    login(cast.alice)
    monkeypatch.setattr(report_views.selectors, "booking_report", _raise(READ_ONLY))
    response = client.get(reverse("reports:booking-report"))
    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert "try again" in response.content.decode()


def test_page_answers_503_when_a_middleware_loses_the_database(client, login, cast, monkeypatch):
    """The session's user is read by middleware before any view: the same 503, not Django's 500."""
    login(cast.alice)
    monkeypatch.setattr(SessionStore, "load", _raise(LOST))
    client.raise_request_exception = False  # the test client would re-raise what Django reports
    response = client.get(reverse("reports:booking-report"))
    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
