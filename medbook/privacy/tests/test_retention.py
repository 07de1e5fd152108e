"""G-3 (issue 24): retention runs by itself. The run erases exactly the patients past their institution's
retention (not one just inside it, nor one with an upcoming visit), deletes what is kept only a while, is
audited once with its counts (the audit log still verifies); the dry run changes nothing and prints the counts."""

import io
from datetime import datetime, timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from conftest import local, next_weekday
from medbook.accounts.models import ThrottleEvent
from medbook.audit.models import AuditEntry
from medbook.audit.sealer import audit_seal
from medbook.notifications.models import OutboxMessage
from medbook.patients.models import Patient
from medbook.patients.tests.factories import PatientFactory
from medbook.privacy import retention
from medbook.privacy.retention import retention_run, years_before
from medbook.scheduling import services as scheduling
from medbook.scheduling.manage_links import manage_link_issue
from medbook.scheduling.models import Booking, ManageLink

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def _visit(cast, patient, ended: datetime | None = None, hour: int = 9) -> Booking:
    """A booking of `patient` at institution A; with `ended`, moved to have ended then (completed)."""
    booking = scheduling.booking_create(
        actor=cast.actor(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=patient,
        starts_at=local(next_weekday(2), hour),
    )
    if ended is not None:
        Booking.objects.filter(pk=booking.pk).update(
            starts_at=ended - (booking.ends_at - booking.starts_at),
            ends_at=ended,
            status=Booking.Status.COMPLETED,
        )
    return booking


@pytest.fixture
def patients(cast):
    """Institution A (8 years, the default): one patient just past it, one just inside, one past it with an
    upcoming visit, one with no visit whose record is older; Anna and Berta were created today."""
    limit = years_before(timezone.now(), 8)
    past = PatientFactory(institution=cast.institution_a, full_name="Pal Past")
    inside = PatientFactory(institution=cast.institution_a, full_name="Ines Inside")
    upcoming = PatientFactory(institution=cast.institution_a, full_name="Uma Upcoming")
    no_visit = PatientFactory(institution=cast.institution_a, full_name="Nora Novisit")
    _visit(cast, past, limit - DAY, 9)
    _visit(cast, inside, limit + DAY, 10)
    _visit(cast, upcoming, limit - 30 * DAY, 11)
    _visit(cast, upcoming, None, 12)
    Patient.objects.filter(pk=no_visit.pk).update(created_at=limit - DAY)
    return {"past": past, "inside": inside, "upcoming": upcoming, "no_visit": no_visit}


def _erased(*patients) -> list[bool]:
    return [Patient.objects.get(pk=p.pk).erased_at is not None for p in patients]


def test_g3_the_run_erases_exactly_the_patients_past_retention_and_is_audited_with_the_counts(cast, patients):
    result = retention_run()
    assert result.counts["patients"] == 2
    assert result.held == 1  # the upcoming visit holds Uma
    assert _erased(patients["past"], patients["no_visit"]) == [True, True]
    assert _erased(patients["inside"], patients["upcoming"], cast.patient_a, cast.patient_b) == [False] * 4
    assert "Pal Past" not in str(Patient.objects.get(pk=patients["past"].pk))
    entry = AuditEntry.objects.get(action="retention.run")
    assert entry.institution_id is None and entry.user_id is None
    assert entry.details["patients"] == 2 and entry.details["held"] == 1
    assert entry.details["patients_by_institution"] == {str(cast.institution_a.pk): 2}
    erasures = AuditEntry.objects.filter(action="patient.erase", institution=cast.institution_a)
    assert sorted(int(e.object_id) for e in erasures) == sorted(
        [patients["past"].pk, patients["no_visit"].pk]
    )
    assert retention_run().total == 0  # nothing left: the next run finds nothing and audits nothing
    assert AuditEntry.objects.filter(action="retention.run").count() == 1
    audit_seal()
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("Audit log intact"), out.getvalue()


def test_g3_an_institution_s_own_retention_is_used(cast, patients):
    cast.institution_a.retention_years = 10
    cast.institution_a.save(update_fields=["retention_years"])
    assert retention_run().counts["patients"] == 0
    assert _erased(patients["past"], patients["no_visit"]) == [False, False]


def _kept_a_while(cast) -> dict:
    """One of each thing kept only a while, past its window, and one of each still inside it."""
    now = timezone.now()
    old_booking = _visit(cast, cast.patient_a, now - 40 * DAY, 13)
    recent_booking = _visit(cast, cast.patient_a, now - 2 * DAY, 14)
    manage_link_issue(booking=old_booking)
    manage_link_issue(booking=recent_booking)
    ThrottleEvent.objects.create(scope="reset-email", key="old", created_at=now - 2 * DAY)
    ThrottleEvent.objects.create(scope="reset-email", key="new")
    sent = {"status": OutboxMessage.Status.SENT, "to_email": "a@a.test", "subject": "S", "text_body": "Body"}
    old_mail = OutboxMessage.objects.create(**sent, html_body="<p>Body</p>", sent_at=now - 31 * DAY)
    new_mail = OutboxMessage.objects.create(**sent, html_body="<p>Body</p>", sent_at=now - 29 * DAY)
    expired = SessionStore()
    expired.set_expiry(-1)
    expired.create()
    live = SessionStore()
    live.create()
    return {
        "old_mail": old_mail,
        "new_mail": new_mail,
        "live_session": live.session_key,
        "live_link_bookings": {
            recent_booking.pk,
            *Booking.objects.filter(ends_at__gt=now).values_list("pk", flat=True),
        },
    }


def _everything() -> tuple:
    """What a run could change: the patients, links, throttle records, sessions, e-mails, the audit log."""
    return (
        list(Patient.objects.order_by("pk").values_list("full_name", "erased_at")),
        ManageLink.objects.count(),
        ThrottleEvent.objects.count(),
        Session.objects.count(),
        list(OutboxMessage.objects.order_by("pk").values_list("text_body", "html_body")),
        AuditEntry.objects.count(),
    )


def test_g3_the_dry_run_changes_nothing_and_prints_the_counts(cast, patients):
    kept = _kept_a_while(cast)
    before = _everything()
    out = io.StringIO()
    call_command("retention_run", "--dry-run", stdout=out)
    after = _everything()
    assert after == before
    printed = out.getvalue()
    spent = ManageLink.objects.exclude(booking__in=kept["live_link_bookings"]).count()
    assert spent >= 2  # the patients' old visits' and the one 40 days ago
    for line in (
        "patients: 2",
        f"manage_links: {spent}",
        "sessions: 1",
        "throttle_records: 1",
        "email_bodies: 1",
    ):
        assert line in printed, printed
    assert "held (upcoming or unsettled visits): 1" in printed
    assert kept["old_mail"].text_body == "Body"


def test_g3_the_run_deletes_what_is_kept_only_a_while(cast, patients):
    kept = _kept_a_while(cast)
    spent = ManageLink.objects.exclude(booking__in=kept["live_link_bookings"]).count()
    result = retention_run()
    assert (result.counts["manage_links"], result.counts["sessions"], result.counts["throttle_records"]) == (
        spent,
        1,
        1,
    )
    assert result.counts["email_bodies"] == 1
    assert set(ManageLink.objects.values_list("booking", flat=True)) == kept["live_link_bookings"]
    assert list(ThrottleEvent.objects.values_list("key", flat=True)) == ["new"]
    assert list(Session.objects.values_list("session_key", flat=True)) == [kept["live_session"]]
    old_mail, new_mail = (OutboxMessage.objects.get(pk=kept[k].pk) for k in ("old_mail", "new_mail"))
    assert (old_mail.text_body, old_mail.html_body, old_mail.subject) == ("", "", "S")  # the row stays
    assert new_mail.text_body == "Body"
    entry = AuditEntry.objects.get(action="retention.run")
    assert (entry.details["manage_links"], entry.details["email_bodies"]) == (spent, 1)


def test_g3_the_worker_task_runs_retention_at_most_every_interval(cast, patients, settings, monkeypatch):
    settings.RETENTION_INTERVAL_SECONDS = 3600
    monkeypatch.setitem(retention._last_run, "at", float("-inf"))
    assert retention.retention_task() > 0
    assert _erased(patients["past"], patients["no_visit"]) == [True, True]
    late = PatientFactory(institution=cast.institution_a, full_name="Late Comer")
    Patient.objects.filter(pk=late.pk).update(created_at=years_before(timezone.now(), 9))
    assert retention.retention_task() == 0  # within the hour: not run again
    assert _erased(late) == [False]
    assert "medbook.privacy.retention.retention_task" in settings.WORKER_TASKS
