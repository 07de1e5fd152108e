"""`core.sql`, on PostgreSQL and SQLite alike: `UnixSeconds` (a timestamp read as Unix seconds and turned back
is the stored instant, to the microsecond) and `Compiled` (a query compiled once answers as the ORM does for
any ids, and refuses a build it cannot fill in)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from medbook.accounts.models import User
from medbook.core.sql import Compiled, UnixSeconds, columns, instant, loaded
from medbook.institutions.models import Institution, Service
from medbook.institutions.tests.factories import InstitutionFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

INSTANTS = [
    datetime(2026, 12, 16, 7, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, 59, 999999, tzinfo=UTC),  # a DST change's night in Europe
    datetime(2026, 12, 16, 7, 0, 0, 500000, tzinfo=UTC),  # half a second: not rounded up
    datetime(2038, 1, 19, 3, 14, 8, 1, tzinfo=UTC),  # past 32-bit seconds, one microsecond
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", INSTANTS, ids=str)
def test_unix_seconds_read_back_are_the_stored_instant(moment):
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(last_login=moment)
    (seconds,) = User.objects.filter(pk=user.pk).values_list(UnixSeconds("last_login"), flat=False).get()
    assert instant(seconds) == moment


def _services(institution_id, service_ids):
    return (
        Service.objects.filter(institution_id=institution_id, pk__in=service_ids, is_active=True)
        .values_list(*columns(Service), *columns(Institution, "institution__"))
        .order_by("name", "pk")
    )


def test_a_compiled_query_answers_as_the_orm_for_any_ids():
    compiled = Compiled(Service, _services)
    mine, theirs = InstitutionFactory(), InstitutionFactory()
    services = [ServiceFactory(institution=mine, name=f"S{n}", price=Decimal("12.50")) for n in range(3)]
    other = ServiceFactory(institution=theirs)
    Service.objects.filter(pk=services[2].pk).update(is_active=False)
    for institution, ids in [
        (mine.pk, [s.pk for s in services]),
        (mine.pk, [services[1].pk, other.pk]),  # another institution's service is not among them
        (theirs.pk, [other.pk, services[0].pk]),  # the same shape, other ids
        (mine.pk, [services[0].pk]),
        (theirs.pk, []),
    ]:
        with CaptureQueriesContext(connection) as queries:
            rows = compiled.rows(institution_id=institution, service_ids=ids)
        assert rows == list(_services(institution, ids))
        assert len(queries) == (1 if ids else 0)
    (row,) = compiled.rows(institution_id=mine.pk, service_ids=[services[0].pk])
    service, institution = loaded(row, Service, Institution)
    assert (service.pk, service.price, service.institution_id) == (services[0].pk, Decimal("12.50"), mine.pk)
    assert (institution.pk, institution.name, institution.time_zone) == (mine.pk, mine.name, mine.time_zone)
    assert service._state.adding is False


def test_a_compiled_query_refuses_a_build_it_cannot_fill_in():
    transformed = Compiled(Service, lambda pk: Service.objects.filter(pk=pk + 1).values_list("name"))
    with pytest.raises(ValueError, match="transformed"):
        transformed.rows(pk=1)
    shaped = Compiled(
        Service, lambda pk: Service.objects.filter(pk=pk).values_list("name")[: abs(pk) % 7 + 1]
    )
    with pytest.raises(ValueError, match="depends"):
        shaped.rows(pk=1)
    ignored = Compiled(Service, lambda pk, other: Service.objects.filter(pk=pk).values_list("name"))
    with pytest.raises(ValueError, match="does not reach"):
        ignored.rows(pk=1, other=2)
    with pytest.raises(TypeError):
        Compiled(Service, _services).rows(institution_id=1.0, service_ids=[1])
    with pytest.raises(TypeError):  # a naive time: which instant is it?
        Compiled(User, _logged_in).rows(since=datetime(2026, 1, 1), until=INSTANTS[0], email="a@b.example")


def _logged_in(since, until, email):
    """Users seen within three hours before `since` and `until`, but not `email` (a shifted time, a string)."""
    return (
        User.objects.filter(last_login__gt=since - timedelta(hours=3), last_login__lt=until)
        .exclude(email=email)
        .values_list("pk", "last_login")
        .order_by("pk")
    )


def test_a_compiled_query_fills_in_times_shifted_as_the_build_shifts_them():
    compiled = Compiled(User, _logged_in)
    users = [UserFactory() for _ in range(4)]
    for user, moment in zip(users, INSTANTS, strict=False):
        User.objects.filter(pk=user.pk).update(last_login=moment)
    for since, until, email in [
        (INSTANTS[0], INSTANTS[3], users[1].email),  # the half second after 07:00 is within
        (INSTANTS[0] + timedelta(hours=3), INSTANTS[3], "nobody@example.com"),  # 07:00 is not after 07:00
        (
            INSTANTS[0] + timedelta(hours=2, minutes=59),
            INSTANTS[3] + timedelta(microseconds=1),
            users[2].email,
        ),
        (INSTANTS[1], INSTANTS[0], users[0].email),
    ]:
        rows = compiled.rows(since=since, until=until, email=email)
        assert rows == list(_logged_in(since, until, email))
        assert all(isinstance(moment, datetime) and moment.tzinfo for _, moment in rows)
    assert compiled.rows(since=INSTANTS[0], until=INSTANTS[3], email="nobody@example.com") != []


def test_a_compiled_query_takes_dates_in_the_active_zone():
    compiled = Compiled(User, lambda day: User.objects.filter(date_joined__date=day).values_list("pk"))
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(date_joined=datetime(2026, 12, 16, 23, 30, tzinfo=UTC))
    with timezone.override("UTC"):
        assert compiled.rows(day=date(2026, 12, 16)) == [(user.pk,)]
        assert compiled.rows(day=date(2026, 12, 17)) == []
    with timezone.override("Europe/Budapest"):  # 00:30 the next day there
        assert compiled.rows(day=date(2026, 12, 17)) == [(user.pk,)]
        assert compiled.rows(day=date(2026, 12, 16)) == []


@pytest.mark.postgres
def test_a_compiled_query_run_often_is_prepared_on_postgresql_and_answers_alike():
    # Bound on the server, the query is prepared once run `prepare_threshold` times on the connection
    # (config.databases): PostgreSQL no longer plans it at each run.
    compiled = Compiled(Service, _services)
    mine = InstitutionFactory()
    services = [ServiceFactory(institution=mine, name=f"S{n}") for n in range(3)]
    for n in range(8):
        ids = [services[n % 3].pk, services[(n + 1) % 3].pk]
        assert compiled.rows(institution_id=mine.pk, service_ids=ids) == list(_services(mine.pk, ids))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any(statement.startswith('SELECT "institutions_service"."id"') for statement in prepared)
