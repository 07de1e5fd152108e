"""`core.sql.UnixSeconds`: a timestamp read as Unix seconds and turned back is the stored instant, to the
microsecond, on PostgreSQL and SQLite alike."""

from datetime import UTC, datetime

import pytest

from medbook.accounts.models import User
from medbook.core.sql import UnixSeconds, instant
from medbook.institutions.tests.factories import UserFactory

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
