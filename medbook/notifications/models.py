"""The durable outbox: one row per email, written in the transaction of the change that causes it."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """An email waiting to be sent, being sent, sent, or given up on (N-*)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        WITHDRAWN = "withdrawn", _("Withdrawn")  # not to be sent: a reminder of a moved or cancelled booking

    idempotency_key = models.UUIDField(_("idempotency key"), default=uuid.uuid4, unique=True, editable=False)
    to_email = models.EmailField(_("recipient"))
    language = models.CharField(_("recipient language"), max_length=8, default="en")
    subject = models.CharField(_("subject"), max_length=300)
    text_body = models.TextField(_("text body"))
    html_body = models.TextField(_("HTML body"), blank=True)
    kind = models.CharField(_("kind"), max_length=50, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True, help_text=_("e.g. booking:42"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # Files sent with the message: [{"filename", "content_type", "content"}] (text content, e.g. iCalendar).
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email} ({self.status})"

    @property
    def message_id(self) -> str:
        """The RFC 5322 Message-ID: the same on every resend, so a duplicate can be recognised."""
        return f"<{self.idempotency_key}@{settings.OUTBOX_MESSAGE_ID_DOMAIN}>"


class DigestEntry(models.Model):
    """One notification held back for a recipient's hourly or daily digest, already rendered for them.

    The digest composer (medbook.notifications.digest) sends all of a recipient's entries of a window that
    has ended as one outbox message and sets `sent_in` in the same transaction: an entry is sent once.
    """

    class Frequency(models.TextChoices):
        HOURLY = "hourly", _("Hourly")
        DAILY = "daily", _("Daily")

    to_email = models.EmailField(_("recipient"))
    language = models.CharField(_("recipient language"), max_length=8, default="en")
    frequency = models.CharField(_("frequency"), max_length=16, choices=Frequency.choices)
    # The zone whose clock bounds the windows (a daily digest covers a local day): the institution's.
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    subject = models.CharField(_("subject"), max_length=300)
    text = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    kind = models.CharField(_("kind"), max_length=50, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_in = models.ForeignKey(
        OutboxMessage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="digest_entries",
        verbose_name=_("sent in"),
    )

    class Meta:
        verbose_name = _("digest entry")
        verbose_name_plural = _("digest entries")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["frequency", "to_email", "created_at"],
                condition=models.Q(sent_in__isnull=True),
                name="digest_waiting_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email} ({self.frequency})"
