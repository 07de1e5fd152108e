"""The outbox sends a message's attachments; a withdrawn message, or one a rule of its kind no longer wants,
is never sent; a message planned for later waits until then."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from medbook.notifications import services
from medbook.notifications.models import OutboxMessage
from medbook.notifications.services import outbox_send_check_register, outbox_withdraw, outbox_write
from medbook.notifications.worker import outbox_drain

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def write(reference: str = "booking:1:reminder", kind: str = "reminder", **extra) -> OutboxMessage:
    with transaction.atomic():
        return outbox_write(
            to="anna@example.test",
            subject="Visit",
            text_body="See you.",
            kind=kind,
            reference=reference,
            **extra,
        )


def test_n5_outbox_sends_the_attachments_with_their_type(smtp_server):
    write(
        attachments=[
            {"filename": "appointment.ics", "content_type": "text/calendar; method=REQUEST", "content": ICS}
        ]
    )

    assert outbox_drain() == 1
    [received] = smtp_server.messages
    assert received.get_body(preferencelist=("plain",)).get_content().strip() == "See you."
    [attachment] = received.iter_attachments()
    assert attachment.get_filename() == "appointment.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_content().replace("\r\n", "\n") == ICS.replace("\r\n", "\n")


def test_n5_outbox_refuses_an_attachment_without_a_type():
    with pytest.raises(ValueError):
        write(attachments=[{"filename": "x.ics", "content_type": "", "content": ICS}])


def test_n5_message_planned_for_later_waits_and_withdrawn_one_never_goes(smtp_server):
    later = write(send_at=timezone.now() + timedelta(hours=5))
    assert outbox_drain() == 0
    with transaction.atomic():
        assert outbox_withdraw(reference="booking:1:reminder") == 1
    OutboxMessage.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now())  # its time has come

    assert outbox_drain() == 0
    later.refresh_from_db()
    assert later.status == Status.WITHDRAWN and later.attempts == 0 and smtp_server.messages == []


def test_n5_withdrawal_leaves_sent_messages_and_other_references_alone(smtp_server):
    sent = write()
    outbox_drain()
    other = write(reference="booking:2:reminder", send_at=timezone.now() + timedelta(hours=5))
    with transaction.atomic():
        assert outbox_withdraw(reference="booking:1:reminder") == 0
    sent.refresh_from_db()
    other.refresh_from_db()
    assert sent.status == Status.SENT and other.status == Status.PENDING


def test_n5_a_kinds_send_check_withdraws_an_unwanted_message_at_send_time(smtp_server, monkeypatch):
    monkeypatch.setattr(services, "_SEND_CHECKS", {})
    outbox_send_check_register(
        kind="reminder", check=lambda message: message.reference.endswith(":1:reminder")
    )
    wanted, unwanted = write(), write(reference="booking:2:reminder")
    write(kind="other", reference="booking:2:reminder")  # no check for its kind: it goes

    assert outbox_drain() == 2
    wanted.refresh_from_db()
    unwanted.refresh_from_db()
    assert wanted.status == Status.SENT and unwanted.status == Status.WITHDRAWN
    assert len(smtp_server.messages) == 2
