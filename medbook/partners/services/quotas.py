"""Patient-data quotas (P-15): how many searches of an institution's patients a partner's user may make an
hour and a day, and all users of a partnership a day, counted from the `PatientSearch` rows (an indexed
range query); and (issue 19) how many different patients one user's searches may show in an hour, so that
no user lists a register of a few dozen patients within the hour. The limits are settings
(`PATIENT_SEARCH_QUOTA_*`, 0 lifts one)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from medbook.partners.models import Partnership, PatientSearch
from medbook.patients.selectors import PARTNER_RESULT_LIMIT

USER_HOUR, USER_DAY, PARTNERSHIP_DAY = "user_hour", "user_day", "partnership_day"
USER_HOUR_PATIENTS = "user_hour_patients"
HOUR = timedelta(hours=1)
# (name, counted per user, window, setting)
QUOTAS = (
    (USER_HOUR, True, HOUR, "PATIENT_SEARCH_QUOTA_USER_HOUR"),
    (USER_DAY, True, timedelta(days=1), "PATIENT_SEARCH_QUOTA_USER_DAY"),
    (PARTNERSHIP_DAY, False, timedelta(days=1), "PATIENT_SEARCH_QUOTA_PARTNERSHIP_DAY"),
)


@dataclass(frozen=True)
class QuotaHit:
    """A quota the next search would exceed, and when a search is allowed again."""

    scope: str
    per_user: bool
    window: timedelta
    limit: int
    retry_at: datetime


def _rows(*, user, partnership: Partnership, per_user: bool, since: datetime, refused: str = ""):
    rows = PatientSearch.objects.filter(partnership=partnership, created_at__gt=since, refused=refused)
    return rows.filter(user=user) if per_user else rows


def quota_hit(*, user, partnership: Partnership, now: datetime) -> QuotaHit | None:
    """The used-up quota that frees last, or None while the user and the partnership are within all."""
    recent = list(
        _rows(user=user, partnership=partnership, per_user=True, since=now - HOUR)
        .order_by("created_at")
        .values_list("created_at", "result_ids")
    )  # the user's hour: both hourly quotas read it (one query)
    hits = [hit for hit in (_count_hit(recent), _patients_hit(recent)) if hit is not None]
    for scope, per_user, window, setting in QUOTAS[1:]:
        limit = int(getattr(settings, setting))
        if limit <= 0:
            continue
        rows = _rows(user=user, partnership=partnership, per_user=per_user, since=now - window)
        # The limit-th latest answered search in the window: once it leaves the window, one is free again.
        edge = list(rows.order_by("-created_at").values_list("created_at", flat=True)[limit - 1 : limit])
        if edge:
            hits.append(QuotaHit(scope, per_user, window, limit, edge[0] + window))
    return max(hits, key=lambda hit: hit.retry_at, default=None)


def _count_hit(recent: list[tuple[datetime, list]]) -> QuotaHit | None:
    """The user's searches an hour (PATIENT_SEARCH_QUOTA_USER_HOUR), from the hour's rows (oldest first)."""
    limit = int(settings.PATIENT_SEARCH_QUOTA_USER_HOUR)
    if limit <= 0 or len(recent) < limit:
        return None
    return QuotaHit(USER_HOUR, True, HOUR, limit, recent[-limit][0] + HOUR)


def _patients_hit(recent: list[tuple[datetime, list]]) -> QuotaHit | None:
    """The different patients the user's searches showed within the hour (PATIENT_SEARCH_QUOTA_USER_HOUR_
    PATIENTS). A search may show up to PARTNER_RESULT_LIMIT more, so one is refused once it could pass the
    ceiling: whatever the user types, an hour never shows more than the limit. Patients shown again are not
    counted again. Free again when enough of the oldest searches have left the hour."""
    limit = int(settings.PATIENT_SEARCH_QUOTA_USER_HOUR_PATIENTS)
    if limit <= 0 or not recent:
        return None
    allowed = max(limit - PARTNER_RESULT_LIMIT, 0)  # shown so far, for one more search to stay within
    for index in range(len(recent)):
        shown = {pk for _at, ids in recent[index:] for pk in ids or []}
        if len(shown) <= allowed:
            if index == 0:
                return None
            return QuotaHit(USER_HOUR_PATIENTS, True, HOUR, limit, recent[index - 1][0] + HOUR)
    return QuotaHit(USER_HOUR_PATIENTS, True, HOUR, limit, recent[-1][0] + HOUR)


def forget_old(*, partnership: Partnership, now: datetime) -> None:
    """Drop the partnership's searches older than any window (the audit log keeps every one of them)."""
    longest = max(max(window for _n, _u, window, _s in QUOTAS), pick_window())
    PatientSearch.objects.filter(partnership=partnership, created_at__lt=now - 2 * longest).delete()


def pick_window() -> timedelta:
    """How long a search's patients may be picked for a booking (read from the settings at each call)."""
    return timedelta(minutes=settings.PATIENT_SEARCH_PICK_MINUTES)


def alert_due(*, hit: QuotaHit, user, partnership: Partnership, now: datetime) -> bool:
    """Whether this refusal is the first of its quota in a window (the institution is e-mailed once)."""
    since = now - hit.window
    earlier = _rows(user=user, partnership=partnership, per_user=hit.per_user, since=since, refused=hit.scope)
    return not earlier.exists()


def recently_returned(*, user, partnership: Partnership, patient_id: int, now: datetime) -> bool:
    """Whether one of the user's searches under the partnership returned the patient within the last
    `PATIENT_SEARCH_PICK_MINUTES` (P-15): only such a patient may be opened for a booking."""
    since = now - pick_window()
    found = _rows(user=user, partnership=partnership, per_user=True, since=since).values_list(
        "result_ids", flat=True
    )
    return any(patient_id in (ids or []) for ids in found)
