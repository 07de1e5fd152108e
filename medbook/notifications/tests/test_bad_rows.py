"""Issue 19: one malformed outbox row is recorded as failed on its own row; every other e-mail still goes."""

import pytest
from django.db import transaction

from medbook.notifications.models import OutboxMessage
from medbook.notifications.services import outbox_write

pytestmark = pytest.mark.django_db


def test_finding_a_malformed_email_row_never_stops_the_other_emails(smtp_server, deliver_outbox):
    with transaction.atomic():
        outbox_write(to="anna@a.test", subject="Booking", text_body="t")
        bad = [
            OutboxMessage.objects.create(
                to_email="x@a.test\r\nBcc: eve@evil.test", subject="s", text_body="t"
            ),
            OutboxMessage.objects.create(
                to_email="x@a.test", subject="s\r\nBcc: eve@evil.test", text_body="t"
            ),
            OutboxMessage.objects.create(
                to_email="x@a.test", subject="s", text_body="t", attachments=[{"filename": "a"}]
            ),
        ]
        outbox_write(to="bela@b.test", subject="Booking", text_body="t")
    assert deliver_outbox() == 2
    assert sorted(m["To"] for m in smtp_server.messages) == ["anna@a.test", "bela@b.test"]
    for message in bad:
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxMessage.Status.PENDING, 1)
        assert message.last_error
