"""N-4 digests: an admin who chose an hourly or daily digest gets no e-mail per booking, then one e-mail with
all of a window's notifications once it has ended, and never twice, whatever runs the composer."""

import json
import os
import subprocess
import sys
from datetime import datetime, time, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from conftest import BUDAPEST, actor_of, local, next_weekday
from medbook.accounts.models import Membership
from medbook.notifications import digest
from medbook.notifications.digest import digest_compose, digests_send, window_start
from medbook.notifications.models import DigestEntry, OutboxMessage
from medbook.notifications.tests.test_worker_processes import database_url, manage
from medbook.partners.tests import services

pytestmark = pytest.mark.django_db
Digest = Membership.Digest


def choose(user, organization, frequency: str) -> None:
    Membership.objects.filter(user=user, organization=organization).update(email_digest=frequency)


def book(cast, partners, hour: int):
    return services.booking_create(
        actor=actor_of(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(1), hour),
    )


def noted_at(*moments: datetime) -> list[DigestEntry]:
    """Date the waiting entries, oldest first, at the given moments (stand-in for when they were made)."""
    entries = list(DigestEntry.objects.order_by("pk"))
    assert len(entries) == len(moments)
    for entry, moment in zip(entries, moments, strict=True):
        DigestEntry.objects.filter(pk=entry.pk).update(created_at=moment)
    return entries


def test_n4_hourly_digest_admin_gets_no_email_at_once_then_one_digest_after_the_hour(
    cast, partners, smtp_server, deliver_outbox
):
    choose(cast.alice, cast.institution_a, Digest.HOURLY)
    booking = book(cast, partners, 9)
    book(cast, partners, 11)
    services.booking_cancel(actor=actor_of(partners.peter), booking=booking)

    assert not OutboxMessage.objects.filter(to_email=cast.alice.email).exists()
    hour = window_start(Digest.HOURLY, "Europe/Budapest", timezone.now()) - timedelta(hours=3)
    noted_at(hour + timedelta(minutes=5), hour + timedelta(minutes=20), hour + timedelta(minutes=59))
    assert digests_send(now=hour + timedelta(minutes=59, seconds=30)) == 0  # the hour has not ended
    assert digests_send(now=hour + timedelta(hours=1)) == 1
    assert digests_send(now=hour + timedelta(hours=1, minutes=1)) == 0  # a second run finds nothing
    assert digests_send() == 0
    deliver_outbox()

    [received] = [m for m in smtp_server.messages if m["To"] == cast.alice.email]
    assert received["Subject"] == "MedBook hourly digest: 3 notifications"
    text = received.get_body(preferencelist=("plain",)).get_content()
    assert text.count("CallCenter Ltd booked an appointment") == 2
    assert text.count("CallCenter Ltd cancelled an appointment") == 1
    assert "09:00" in text and "11:00" in text and "Peter Booker" in text
    html = received.get_body(preferencelist=("html",)).get_content()
    assert html.count("<li><p><strong>") == 3
    message = OutboxMessage.objects.get(to_email=cast.alice.email)
    assert set(DigestEntry.objects.values_list("sent_in", flat=True)) == {message.pk}


def test_n4_digest_choice_is_per_admin_on_either_side(cast, partners):
    alicia = cast.alice.__class__.objects.create_user("alicia@a.test", full_name="Alicia Admin")
    Membership.objects.create(user=alicia, organization=cast.institution_a, role=Membership.Role.ADMIN)
    choose(cast.alice, cast.institution_a, Digest.DAILY)
    booking = book(cast, partners, 9)

    assert OutboxMessage.objects.filter(to_email="alicia@a.test", kind="booking_made").count() == 1
    assert not OutboxMessage.objects.filter(to_email=cast.alice.email).exists()
    assert DigestEntry.objects.get().to_email == cast.alice.email

    choose(partners.paula, partners.partner_p, Digest.HOURLY)  # the partner's admin, told of A's changes
    services.booking_cancel(actor=actor_of(cast.bob), booking=booking)
    assert DigestEntry.objects.filter(to_email=partners.paula.email, frequency=Digest.HOURLY).count() == 1
    assert not OutboxMessage.objects.filter(to_email=partners.paula.email).exists()
    assert OutboxMessage.objects.filter(to_email=partners.peter.email, kind="booking_cancelled").exists()


def test_n4_the_worker_writes_and_sends_the_due_digests(cast, partners, smtp_server):
    choose(cast.alice, cast.institution_a, Digest.HOURLY)
    book(cast, partners, 9)
    noted_at(timezone.now() - timedelta(hours=2))

    call_command("run_worker", "--once", stdout=StringIO())

    assert [m["Subject"] for m in smtp_server.messages if m["To"] == cast.alice.email] == [
        "MedBook hourly digest: 1 notification"
    ]


def test_n4_daily_digest_holds_a_past_local_day(cast, partners):
    choose(cast.alice, cast.institution_a, Digest.DAILY)
    book(cast, partners, 9)
    book(cast, partners, 10)
    day = timezone.localdate(timezone.now(), BUDAPEST) - timedelta(days=3)
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BUDAPEST)
    late, early = noted_at(midnight - timedelta(minutes=30), midnight + timedelta(minutes=30))

    assert digests_send(now=midnight - timedelta(minutes=1)) == 0
    assert digests_send(now=midnight + timedelta(hours=1)) == 1  # the day before midnight, alone
    late.refresh_from_db()
    early.refresh_from_db()
    assert late.sent_in is not None and early.sent_in is None
    assert digests_send(now=midnight + timedelta(hours=23)) == 0
    assert digests_send(now=midnight + timedelta(days=1, minutes=1)) == 1
    assert OutboxMessage.objects.filter(kind="digest_daily").count() == 2


def test_n4_digest_run_that_finds_its_entries_taken_writes_nothing(cast, partners, monkeypatch):
    """The compare-and-set: entries another run marked between this run's read and its write are not sent
    again; this run's message is rolled back with it."""
    choose(cast.alice, cast.institution_a, Digest.HOURLY)
    book(cast, partners, 9)
    book(cast, partners, 10)
    first, _second = noted_at(*[timezone.now() - timedelta(hours=2)] * 2)
    with transaction.atomic():
        other = OutboxMessage.objects.create(to_email=cast.alice.email, subject="digest", text_body="x")
    real_message = digest._digest_message

    def taken_meanwhile(**kwargs):
        message = real_message(**kwargs)
        DigestEntry.objects.filter(pk=first.pk).update(sent_in=other)  # as a run without row locks would
        return message

    monkeypatch.setattr(digest, "_digest_message", taken_meanwhile)
    assert digest_compose(frequency=Digest.HOURLY, to_email=cast.alice.email, now=timezone.now()) is None
    assert not OutboxMessage.objects.filter(kind="digest_hourly").exists()


SEED = """
from datetime import timedelta
from django.utils import timezone
from medbook.notifications.models import DigestEntry
for n in range({count}):
    DigestEntry.objects.create(
        to_email="alice@a.test", frequency="hourly", time_zone="Europe/Budapest", subject=f"Booked {{n}}",
        text=f"line {{n}}", created_at=timezone.now() - timedelta(hours=2),
    )
"""
ROWS = """
import json
from medbook.notifications.models import DigestEntry, OutboxMessage
print(json.dumps({
    "digests": list(OutboxMessage.objects.filter(kind="digest_hourly").values_list("pk", flat=True)),
    "sent_in": sorted(set(DigestEntry.objects.values_list("sent_in", flat=True))),
}))
"""


@pytest.mark.django_db(transaction=True)
def test_n4_two_workers_at_once_write_one_digest(tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url(tmp_path)}
    if connection.vendor != "postgresql":
        manage(env, "migrate", "--noinput")  # the in-memory test database cannot be shared: use a file
    manage(env, "shell", "--no-imports", "-c", SEED.format(count=40))

    command = [sys.executable, "manage.py", "send_digests"]
    runs = [
        subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs

    rows = json.loads(manage(env, "shell", "--no-imports", "-c", ROWS).stdout)
    assert len(rows["digests"]) == 1, outputs
    assert rows["sent_in"] == rows["digests"]
    assert sorted(outputs) == ["digests: 0 written\n", "digests: 0 written\n", "digests: 1 written\n"]
