"""The outbox against a real SMTP server: written with the change, sent once, retried, visible when failing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from medbook.accounts.models import User
from medbook.notifications.models import OutboxMessage
from medbook.notifications.services import OutboxOutsideTransaction, notification_enqueue, outbox_write
from medbook.notifications.worker import backoff, outbox_drain, outbox_process_batch

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def write_change(n: int) -> OutboxMessage:
    """One business change and its email, in one transaction."""
    with transaction.atomic():
        return outbox_write(
            to=f"patient{n}@example.test",
            subject=f"Booking {n} confirmed",
            text_body=f"Your booking {n} is confirmed.",
            html_body=f"<p>Your booking <b>{n}</b> is confirmed.</p>",
            kind="booking_confirmed",
            reference=f"booking:{n}",
        )


def make_all_due() -> None:
    """Stand in for the passing of time: every waiting retry is due now."""
    OutboxMessage.objects.filter(status=Status.PENDING).update(next_attempt_at=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_n_outbox_rolled_back_change_writes_no_row_and_sends_nothing(smtp_server):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        outbox_write(to="anna@example.test", subject="Booked", text_body="Booked.")
        raise ZeroDivisionError("the change itself failed after the email was enqueued")

    assert not OutboxMessage.objects.exists()
    assert outbox_drain() == 0
    assert smtp_server.messages == []


@pytest.mark.django_db(transaction=True)
def test_n_outbox_refuses_a_write_outside_a_transaction():
    with pytest.raises(OutboxOutsideTransaction):
        outbox_write(to="anna@example.test", subject="Booked", text_body="Booked.")
    assert not OutboxMessage.objects.exists()


def test_n_outbox_worker_sends_one_multipart_message_with_its_message_id(smtp_server):
    message = write_change(1)

    assert outbox_drain() == 1

    [received] = smtp_server.messages
    assert received["To"] == "patient1@example.test"
    assert received["Subject"] == "Booking 1 confirmed"
    assert received["Message-ID"] == message.message_id
    assert received.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in received.iter_parts()}
    assert "Your booking 1 is confirmed." in parts["text/plain"]
    assert "<b>1</b>" in parts["text/html"]
    message.refresh_from_db()
    assert message.status == Status.SENT and message.sent_at is not None and message.attempts == 1
    assert outbox_drain() == 0 and len(smtp_server.messages) == 1


def test_n_outbox_renders_in_the_recipients_language_and_time_zone(smtp_server, settings, tmp_path):
    (tmp_path / "notifications").mkdir()
    for suffix, body in {
        "_subject.txt": "Visit\n at {{ starts_at|date:'H:i' }}",
        ".txt": "{% load i18n %}{% get_current_language as lang %}{{ lang }} {{ starts_at|date:'Y-m-d H:i' }}",
        ".html": "<p>{{ starts_at|date:'H:i' }}</p>",
    }.items():
        (tmp_path / "notifications" / f"visit{suffix}").write_text(body)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    starts_at = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)

    with transaction.atomic():
        notification_enqueue(
            to="anna@example.test",
            template="visit",
            context={"starts_at": starts_at, "time_zone": "America/New_York"},
            language="hu",
        )
    outbox_drain()

    [received] = smtp_server.messages
    assert received["Subject"] == "Visit at 08:30"
    assert received["Content-Language"] == "hu"
    assert received.get_body(("plain",)).get_content().strip() == "hu 2026-07-01 08:30"
    assert OutboxMessage.objects.get().kind == "visit"


def test_n_outbox_smtp_down_during_200_changes_then_up_delivers_each_exactly_once(smtp_server, monkeypatch):
    smtp_server.stop()
    written = [write_change(n) for n in range(200)]

    before = timezone.now()
    assert outbox_process_batch(batch_size=500) == (200, 0)
    for message in OutboxMessage.objects.all():
        assert message.status == Status.PENDING and message.attempts == 1
        assert "ConnectionRefusedError" in message.last_error
        # The first retry waits at least a second (2 s, jittered to half) after its failure, however
        # long the batch took on a busy machine.
        assert message.next_attempt_at >= before + timedelta(seconds=1)
    # Nothing is due before its backoff has passed: the worker's clock held just short of the first retry.
    monkeypatch.setattr(timezone, "now", lambda: before + timedelta(milliseconds=900))
    assert outbox_drain() == 0
    monkeypatch.undo()

    smtp_server.start()
    for _round in range(5):
        make_all_due()
        outbox_drain(batch_size=30)
    assert smtp_server.message_ids() == {message.message_id: 1 for message in written}
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}


def test_n_outbox_smtp_failure_of_one_recipient_does_not_stop_the_others(smtp_server):
    smtp_server.handler.refused_recipients = {"gone@example.test"}
    write_change(1)
    with transaction.atomic():
        outbox_write(to="gone@example.test", subject="Booked", text_body="Booked.")
    write_change(2)

    assert outbox_drain() == 2

    assert sorted(m["To"] for m in smtp_server.messages) == ["patient1@example.test", "patient2@example.test"]
    broken = OutboxMessage.objects.get(to_email="gone@example.test")
    assert broken.status == Status.PENDING and "SMTPRecipientsRefused" in broken.last_error


def test_n_outbox_gives_up_after_max_attempts_and_the_operator_retries_from_the_admin(
    smtp_server, settings, client
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_server.stop()
    message = write_change(1)
    for _attempt in range(3):
        make_all_due()
        outbox_drain()
    message.refresh_from_db()
    assert message.status == Status.FAILED and message.attempts == 3
    assert "ConnectionRefusedError" in message.last_error

    operator = User.objects.create_superuser("operator@platform.test", "Test-pass-2026")
    client.force_login(operator)
    changelist = reverse("admin:notifications_outboxmessage_changelist")
    listed = client.get(changelist, {"status__exact": "failed"})
    assert listed.status_code == 200 and "ConnectionRefusedError" in listed.content.decode()
    detail = client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk]))
    assert detail.status_code == 200 and str(message.idempotency_key) in detail.content.decode()
    smtp_server.start()
    response = client.post(changelist, {"action": "retry_now", "_selected_action": [message.pk]})
    assert response.status_code == 302

    message.refresh_from_db()
    assert message.status == Status.PENDING and message.next_attempt_at <= timezone.now()
    assert outbox_drain() == 1
    assert smtp_server.message_ids() == {message.message_id: 1}


def test_n_outbox_backoff_doubles_with_jitter_and_is_capped(settings):
    settings.OUTBOX_BACKOFF_CAP_SECONDS = 3600
    assert timedelta(seconds=4) <= backoff(3) <= timedelta(seconds=8)
    assert timedelta(seconds=1800) <= backoff(40) <= timedelta(seconds=3600)
