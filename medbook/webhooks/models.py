"""Webhooks (X-7): an organisation's HTTPS endpoints and the durable log of every delivery to them."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Organization


class WebhookEvent(models.TextChoices):
    BOOKING_CREATED = "booking.created", _("Booking created")
    BOOKING_MOVED = "booking.moved", _("Booking moved")
    BOOKING_CANCELLED = "booking.cancelled", _("Booking cancelled")
    BOOKING_ATTENDANCE = "booking.attendance", _("Attendance recorded")
    PARTNERSHIP_CHANGED = "partnership.changed", _("Partnership changed")
    PATIENT_ERASED = "patient.erased", _("Patient's data erased")


# The short reasons a delivery log keeps for a failure (never an operating system's error text, which would
# describe the network behind the endpoint), and how they read on the page.
FAILURE_REASONS = {
    "timed out": _("timed out"),
    "connection failed": _("connection failed"),
    "TLS error": _("TLS error"),
    "invalid response": _("invalid response"),
    "invalid URL": _("invalid URL"),
    "host not found": _("host not found"),
    "address not allowed": _("address not allowed"),
    "endpoint inactive": _("endpoint inactive"),
    "internal error": _("internal error"),
}


class WebhookEndpoint(models.Model):
    """A URL of one organisation that receives the events it subscribed to, signed with its own secret."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    # The signing secret (Standard Webhooks "whsec_<base64>"): shown once; the server needs it to sign.
    secret = models.CharField(max_length=100, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: written in the transaction of the change, sent once by the worker."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    event = models.CharField(_("event"), max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_delivery_once_per_endpoint"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.status})"

    @property
    def error_display(self) -> str:
        """The last failure's reason in the reader's language ("HTTP 503" stays as it is)."""
        return str(FAILURE_REASONS.get(self.last_error, self.last_error))
