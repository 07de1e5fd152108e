"""The outbox worker: claim due messages, send each over the mail backend, record the outcome.

Delivery is at-least-once, made effectively-once:

- Claim: in one short transaction the worker picks due messages (pending and due, or `sending` with an
  expired lease) and marks them `sending` with its own claim token and the claim time. On PostgreSQL the
  pick is `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint batches without
  waiting; on SQLite the IMMEDIATE transaction serialises claims. The marking UPDATE repeats the "due"
  condition, so it is a compare-and-set on any database.
- Before each send the worker renews that message's lease and counts the attempt, only if it still holds
  the claim token: a message whose lease another worker has taken over is skipped, never sent by both.
- Right after the SMTP server accepted the message (250 to DATA), it is marked sent in its own
  transaction: one statement for one message.
- A worker that dies leaves its claimed messages in `sending`; once OUTBOX_LEASE_SECONDS have passed any
  worker reclaims them. That is the crash-recovery path, and nothing else ever resends a message.

The one duplicate window, honestly: the worker dies (or loses the database) after the SMTP server accepted
a message and before the "sent" UPDATE commits. That one message is sent again after the lease, with the
same Message-ID (`<idempotency key@OUTBOX_MESSAGE_ID_DOMAIN>`), which lets mail stores, clients and tests
recognise the copy. The window is one message wide and one database round trip long; closing it would need
a two-phase commit with the mail server, which SMTP does not offer. A lease shorter than one SMTP exchange
would open a second window, so the connection timeout is kept below the lease.
"""

import logging
import random
import uuid
from datetime import timedelta
from email import encoders
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from typing import NamedTuple

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from medbook.notifications.models import OutboxMessage
from medbook.notifications.services import outbox_still_wanted, redact_links

log = logging.getLogger(__name__)
Status = OutboxMessage.Status


class BatchResult(NamedTuple):
    claimed: int
    sent: int


def outbox_drain(*, batch_size: int | None = None) -> int:
    """Send batches until nothing is due (failures wait for their backoff); return how many were sent."""
    sent = 0
    while (result := outbox_process_batch(batch_size=batch_size)).claimed:
        sent += result.sent
    return sent


def outbox_process_batch(*, batch_size: int | None = None) -> BatchResult:
    """Claim up to `batch_size` due messages and try to send each once."""
    token = uuid.uuid4()
    messages = claim_due(token=token, batch_size=batch_size or settings.OUTBOX_BATCH_SIZE)
    if not messages:
        return BatchResult(0, 0)
    timeout = min(settings.EMAIL_TIMEOUT or 60, settings.OUTBOX_LEASE_SECONDS / 2)
    connection = get_connection(timeout=timeout)
    try:
        sent = sum(deliver(message, token=token, connection=connection) for message in messages)
    finally:
        _close_quietly(connection)
    return BatchResult(len(messages), sent)


def claim_due(*, token: uuid.UUID, batch_size: int) -> list[OutboxMessage]:
    """Mark up to `batch_size` due messages `sending` under `token`, in one short transaction."""
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    due = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_at__lt=lease_expired
    )
    with transaction.atomic():
        candidates = OutboxMessage.objects.filter(due).order_by("next_attempt_at", "pk")
        ids = list(candidates.select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch_size])
        OutboxMessage.objects.filter(due, pk__in=ids).update(
            status=Status.SENDING, claimed_at=now, claim_token=token
        )
    return list(OutboxMessage.objects.filter(claim_token=token, status=Status.SENDING).order_by("pk"))


def deliver(message: OutboxMessage, *, token: uuid.UUID, connection: BaseEmailBackend) -> bool:
    """Send one claimed message and record the outcome; return whether it was sent."""
    if not _begin_attempt(message, token):
        return False
    try:
        if not outbox_still_wanted(message):  # e.g. a reminder of a booking cancelled some other way
            _withdraw(message, token)
            return False
        connection.open()  # reuses the batch's open connection; reopens after a failure closed it
        if connection.send_messages([email_for(message)]) != 1:
            raise RuntimeError("the mail backend did not accept the message")
    except Exception as error:  # any failure of one message is recorded; the others still go out
        _close_quietly(connection)
        _record_failure(message, token, error)
        return False
    mark_sent(message)
    return True


def mark_sent(message: OutboxMessage) -> None:
    """Record that the server accepted the message, in its own transaction: the duplicate window ends here."""
    # By primary key, not claim token: sent is a fact, and a worker that took the lease over then skips it.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENT,
        sent_at=timezone.now(),
        claim_token=None,
        text_body=redact_links(message.text_body),
        html_body=redact_links(message.html_body),
    )


def email_for(message: OutboxMessage) -> EmailMultiAlternatives:
    """The multipart (text + HTML) email of an outbox row, its Message-ID fixed by the idempotency key."""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_email],
        headers={"Message-ID": message.message_id, "Content-Language": message.language},
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    for attachment in message.attachments or []:
        email.attach(attachment_part(attachment))
    return email


def attachment_part(attachment: dict) -> MIMEBase:
    """The MIME part of a stored attachment: its text in UTF-8, its type's parameters kept (an iCalendar
    invitation says `method=REQUEST` there), offered as a file of its name."""
    mime_type, *parameters = (piece.strip() for piece in attachment["content_type"].split(";"))
    maintype, _, subtype = mime_type.partition("/")
    if maintype == "text":
        part: MIMEBase = MIMEText(attachment["content"], subtype, "utf-8")
    else:
        part = MIMEBase(maintype, subtype)
        part.set_payload(attachment["content"].encode())
        encoders.encode_base64(part)
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key and value:
            part.set_param(key.strip(), value.strip().strip('"'))
    part.add_header("Content-Disposition", "attachment", filename=attachment["filename"])
    return part


def backoff(attempts: int) -> timedelta:
    """2^attempts seconds capped at OUTBOX_BACKOFF_CAP_SECONDS, jittered to half..all so retries spread."""
    delay = min(2 ** min(attempts, 32), settings.OUTBOX_BACKOFF_CAP_SECONDS)
    return timedelta(seconds=delay * random.uniform(0.5, 1.0))


def _begin_attempt(message: OutboxMessage, token: uuid.UUID) -> bool:
    """Renew the lease and count the attempt, if this worker still holds the claim."""
    renewed = OutboxMessage.objects.filter(pk=message.pk, claim_token=token, status=Status.SENDING).update(
        claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    message.attempts += 1
    return bool(renewed)


def _withdraw(message: OutboxMessage, token: uuid.UUID) -> None:
    """Mark a claimed message withdrawn: a rule of its kind says it is no longer wanted."""
    OutboxMessage.objects.filter(pk=message.pk, claim_token=token, status=Status.SENDING).update(
        status=Status.WITHDRAWN, claim_token=None
    )
    log.info("outbox message %s (%s) withdrawn at send time", message.pk, message.kind)


def _record_failure(message: OutboxMessage, token: uuid.UUID, error: Exception) -> None:
    """Schedule a retry with backoff, or give up after OUTBOX_MAX_ATTEMPTS; keep the error visible."""
    gave_up = message.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    OutboxMessage.objects.filter(pk=message.pk, claim_token=token, status=Status.SENDING).update(
        status=Status.FAILED if gave_up else Status.PENDING,
        next_attempt_at=timezone.now() + backoff(message.attempts),
        last_error=f"{type(error).__name__}: {error}"[:2000],
        claim_token=None,
        claimed_at=None,
    )
    log.warning(
        "outbox message %s to %s: attempt %s failed: %s",
        message.pk,
        message.to_email,
        message.attempts,
        error,
    )


def _close_quietly(connection: BaseEmailBackend) -> None:
    """Close the mail connection; a broken one may fail to say goodbye, which changes nothing."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - the connection is dropped either way
        log.debug("closing the mail connection failed", exc_info=True)
