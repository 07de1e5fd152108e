"""The one rate limit of the JSON API and FHIR (API_RATE_LIMIT, e.g. "600/m"), shared by every process.

Counted per user (all of their tokens together) in fixed windows, in the database: one upsert per request
on the user's own row, so no request of another tenant waits on it.
"""

import time

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from medbook.api.models import RateCount
from medbook.core.errors import TooManyRequests

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# A later window starts the count again; a request still counting an earlier one adds to the later one.
UPSERT = f"""
INSERT INTO {RateCount._meta.db_table} (subject, window_number, requests) VALUES (%s, %s, 1)
ON CONFLICT (subject) DO UPDATE SET
    requests = CASE WHEN {RateCount._meta.db_table}.window_number < excluded.window_number
        THEN 1 ELSE {RateCount._meta.db_table}.requests + 1 END,
    window_number = CASE WHEN {RateCount._meta.db_table}.window_number < excluded.window_number
        THEN excluded.window_number ELSE {RateCount._meta.db_table}.window_number END
RETURNING requests, window_number
"""


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/m" as (600 requests, 60 seconds); "0" or "" lifts the limit (0, 0)."""
    number, _slash, period = (rate or "").partition("/")
    if not number.strip() or int(number) <= 0:
        return 0, 0
    return int(number), PERIODS[period.strip()[:1].lower() or "m"]


def clock() -> float:
    """Now, in Unix seconds (a test sets its own)."""
    return time.time()


def rate_limit_take(*, key: str) -> None:
    """Count one request of `key`; past the limit of its window raise TooManyRequests with Retry-After."""
    limit, seconds = parse_rate(settings.API_RATE_LIMIT)
    if limit == 0:
        return
    now = clock()
    window = int(now // seconds)
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, [key, window])
        count, counted_window = cursor.fetchone()
    if count > limit:
        retry_after = max(1, int((counted_window + 1) * seconds - now + 0.999))
        raise TooManyRequests(_("Too many requests: try again later."), retry_after=retry_after)
