"""The slot search's reads stay bounded however long a physician's history grows (issue 13's first cause)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import next_weekday
from medbook.scheduling import selectors

pytestmark = pytest.mark.django_db


def test_the_busy_times_query_reads_a_bounded_window_not_the_whole_history(cast):
    """The (physician, starts_at) index serves a range: the start is bounded from below as well."""
    day = next_weekday(0)
    with CaptureQueriesContext(connection) as queries:
        selectors.available_slots(
            physician=cast.physician_a,
            location=cast.location_a1,
            service=cast.service_a,
            date_from=day,
            date_until=day,
        )
    busy = [q["sql"] for q in queries if 'FROM "scheduling_booking"' in q["sql"]]
    assert busy and all('"starts_at" >' in sql and '"starts_at" <' in sql for sql in busy)
