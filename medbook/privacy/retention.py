"""Retention that runs by itself (issue 24, G-3; docs/privacy.md "Retention"): the patients whose last visit
(or, with none, their record's creation) is older than their institution's `retention_years` are erased
through the erasure's one home (`services.patient_anonymise`, by the platform's `SYSTEM` actor), unless
something still holds them (`rights.erasure_holds`: an upcoming visit, an unsettled partner visit); and what
the platform keeps only for a while goes: expired online requests, spent manage links, expired sessions, old
throttle records, the bodies of e-mails sent long ago. Each run that finds anything is audited once,
platform-wide, with the counts; `retention_run --dry-run` counts without changing anything."""

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medbook.accounts.models import ThrottleEvent
from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.tenancy import SYSTEM
from medbook.institutions.models import Institution
from medbook.notifications.models import OutboxMessage
from medbook.online.services import online_requests_expired, online_requests_sweep
from medbook.patients.models import Patient
from medbook.privacy import rights, services
from medbook.scheduling.models import ManageLink

# What the run reports, in this order (the audit entry's keys, the command's lines).
KINDS = ("patients", "online_requests", "manage_links", "sessions", "throttle_records", "email_bodies")


@dataclass
class RetentionCounts:
    """How many of each kind the run erased or deleted (a dry run: would), and the patients due but held."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    held: int = 0
    patients_by_institution: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def years_before(moment: datetime, years: int) -> datetime:
    """The same moment `years` calendar years earlier (29 February falls back to the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def patients_past_retention(institution: Institution, now: datetime) -> QuerySet[Patient]:
    """The institution's patients not yet erased whose last visit (the end of their last booking that has
    ended, cancelled ones included: the last contact), or their record's creation when they have none, is
    older than the institution's retention. An upcoming visit is no visit yet: it holds the patient
    (`rights.erasure_holds`, looked at per patient by the run)."""
    limit = years_before(now, institution.retention_years)
    last = Max("bookings__ends_at", filter=Q(bookings__ends_at__lte=now), output_field=DateTimeField())
    return (
        Patient.objects.filter(institution=institution, erased_at__isnull=True)
        .annotate(last_contact=Coalesce(last, "created_at"))
        .filter(last_contact__lt=limit)
        .order_by("pk")
    )


def _manage_links_spent(now: datetime) -> QuerySet[ManageLink]:
    """Links revoked, or whose booking ended, more than RETENTION_MANAGE_LINK_DAYS ago (neither opens)."""
    before = now - timedelta(days=settings.RETENTION_MANAGE_LINK_DAYS)
    return ManageLink.objects.filter(Q(revoked_at__lt=before) | Q(booking__ends_at__lt=before))


def _throttle_records_old(now: datetime) -> QuerySet[ThrottleEvent]:
    """Attempts older than RETENTION_THROTTLE_DAYS (longer than any throttle's window)."""
    return ThrottleEvent.objects.filter(created_at__lt=now - timedelta(days=settings.RETENTION_THROTTLE_DAYS))


def _email_bodies_old(now: datetime) -> QuerySet[OutboxMessage]:
    """E-mails sent more than RETENTION_EMAIL_BODY_DAYS ago whose body is still kept (the row stays: who was
    sent what kind of message, when)."""
    before = now - timedelta(days=settings.RETENTION_EMAIL_BODY_DAYS)
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT, sent_at__lt=before).exclude(
        text_body="", html_body=""
    )


def _sessions_expired(now: datetime) -> QuerySet | None:
    """Expired sessions, where the session engine keeps them in the database (`clearsessions`' rule)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        return None
    return store.get_model_class().objects.filter(expire_date__lt=now)


def retention_run(*, dry_run: bool = False, now: datetime | None = None) -> RetentionCounts:
    """Apply retention once (see the module); with `dry_run`, only count. Audited when anything was done."""
    now = now or timezone.now()
    result = RetentionCounts()
    for institution in Institution.objects.order_by("pk"):
        with translation.override(institution.language):
            reason = _("Retention: %(years)s years after the last visit.") % {
                "years": institution.retention_years
            }
        for patient in patients_past_retention(institution, now).select_related("institution"):
            if rights.erasure_holds(patient, now=now):
                result.held += 1
                continue
            if not dry_run and not _anonymise(patient, institution, reason):
                continue
            result.counts["patients"] += 1
            result.patients_by_institution[institution.pk] = (
                result.patients_by_institution.get(institution.pk, 0) + 1
            )
    sessions = _sessions_expired(now)
    sweeps: dict[str, QuerySet | None] = {
        "manage_links": _manage_links_spent(now),
        "sessions": sessions,
        "throttle_records": _throttle_records_old(now),
    }
    if dry_run:
        result.counts["online_requests"] = online_requests_expired().count()
        result.counts["email_bodies"] = _email_bodies_old(now).count()
        for kind, rows in sweeps.items():
            result.counts[kind] = rows.count() if rows is not None else 0
        return result
    with transaction.atomic():
        result.counts["online_requests"] = online_requests_sweep()
        result.counts["email_bodies"] = _email_bodies_old(now).update(
            text_body="", html_body="", attachments=[]
        )
        for kind, rows in sweeps.items():
            result.counts[kind] = rows.delete()[0] if rows is not None else 0
        if result.total:
            audit_record(
                actor=SYSTEM,
                action=AuditAction.RETENTION_RUN,
                obj=None,
                **result.counts,
                held=result.held,
                patients_by_institution={str(k): v for k, v in result.patients_by_institution.items()},
            )
    return result


def _anonymise(patient: Patient, institution: Institution, reason: str) -> bool:
    """Erase one patient in its own transaction, checked again under the lock (a visit booked meanwhile
    holds it). False when it no longer qualifies."""
    with transaction.atomic():
        locked = Patient.objects.select_for_update().select_related("institution").get(pk=patient.pk)
        if locked.erased_at is not None or rights.erasure_holds(locked):
            return False
        services.patient_anonymise(
            actor=SYSTEM, patient=locked, retention_years=institution.retention_years, reason=reason
        )
    return True


_last_run = {"at": float("-inf")}


def retention_task() -> int:
    """The `run_worker` task (WORKER_TASKS): a run every RETENTION_INTERVAL_SECONDS (hourly by default), not
    every round of the worker. How much it did."""
    if time.monotonic() - _last_run["at"] < settings.RETENTION_INTERVAL_SECONDS:
        return 0
    _last_run["at"] = time.monotonic()
    return retention_run().total
