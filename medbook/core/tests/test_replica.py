"""The replica router without a replica (both engines): what goes to the primary, and the settings' builder."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.test import RequestFactory

from medbook.core import replica
from medbook.core.tests.clusters import databases_from
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db(transaction=True)  # outside an atomic block, as a request runs


def test_writes_and_migrations_go_to_the_primary_even_in_marked_code():
    with replica.replica_reads():
        assert router.db_for_write(Booking) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "scheduling")
    assert not router.allow_migrate(replica.REPLICA, "scheduling")


def test_unmarked_reads_go_to_the_primary():
    assert router.db_for_read(Booking) == DEFAULT_DB_ALIAS


def test_marked_reads_without_a_replica_alias_go_to_the_primary():
    assert replica.REPLICA not in connections.settings
    with replica.replica_reads():
        assert router.db_for_read(Booking) == DEFAULT_DB_ALIAS
        assert list(Booking.objects.all()) == []


def test_the_marker_lets_only_safe_methods_through_and_ends_with_the_view():
    seen = []

    @replica.replica_readable
    def view(request):
        seen.append(replica._replica_readable.get())
        return None

    view(RequestFactory().get("/"))
    view(RequestFactory().post("/"))
    assert seen == [True, False]
    assert replica._replica_readable.get() is False


def test_the_report_views_and_endpoints_are_marked_and_the_writing_ones_not():
    from medbook.api import v1
    from medbook.reports import views

    marked = [views.booking_report, views.traffic, views.settlement, views.partner_statement_download]
    marked += [v1.traffic, v1.settlement]
    assert all(_marked(view) for view in marked)
    assert not any(_marked(view) for view in (views.partner_booking_cancel, views.settlement_close))


def _marked(view) -> bool:
    """Whether replica_readable wraps the view somewhere under its other decorators."""
    while view is not None:
        if getattr(view, "__code__", None) is replica.replica_readable(lambda r: r).__code__:
            return True
        view = getattr(view, "__wrapped__", None)
    return False


def test_the_builder_adds_a_mirrored_pooled_replica():
    built = databases_from(
        {
            "DATABASE_URL": "postgres://postgres@primary.test:5432/medbook",
            "DATABASE_REPLICA_URL": "postgres://postgres@replica.test:5432/medbook",
            "DATABASE_PGBOUNCER": "false",
        },
    )
    assert built["replica"]["HOST"] == "replica.test" and built["replica"]["TEST"] == {"MIRROR": "default"}
    assert built["replica"]["OPTIONS"]["pool"]["max_size"] == built["default"]["OPTIONS"]["pool"]["max_size"]
    assert built["replica"]["OPTIONS"]["connect_timeout"] == 2
    assert "replica" not in databases_from({"DATABASE_REPLICA_URL": ""})


def test_the_builder_behind_pgbouncer_holds_no_pool_no_prepared_statements_no_server_cursors():
    built = databases_from(
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:6432/medbook", "DATABASE_PGBOUNCER": "true"},
    )["default"]
    assert "pool" not in built["OPTIONS"] and built["OPTIONS"]["prepare_threshold"] is None
    assert built["DISABLE_SERVER_SIDE_CURSORS"] is True and built["CONN_MAX_AGE"] == 60
