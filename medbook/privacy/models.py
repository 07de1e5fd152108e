"""The requests log (G-5): each request of a patient under GDPR, when it came, when it is due, when answered."""

import calendar
from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.core.timefmt import zone_of
from medbook.institutions.models import Institution
from medbook.patients.models import Patient


def one_month_after(day: date) -> date:
    """The due date of a request received on `day` (Art. 12(3): one month; the 31st of January is due the
    last day of February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


class DataRequest(models.Model):
    """One request of a patient about their data: access, a copy to take away, erasure or restriction."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Access (Art. 15)")
        PORTABILITY = "portability", _("Data portability (Art. 20)")
        ERASURE = "erasure", _("Erasure (Art. 17)")
        RESTRICTION = "restriction", _("Restriction (Art. 18)")

    class Outcome(models.TextChoices):
        EXPORTED = "exported", _("Data given")
        RESTRICTED = "restricted", _("Restricted")
        ERASED = "erased", _("Erased")

    tenant_path = "institution"

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="data_requests")
    # Kept when the patient is erased (the record stays, anonymous), so the log still shows the answer.
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="data_requests")
    kind = models.CharField(_("request"), max_length=16, choices=Kind.choices)
    received_on = models.DateField(_("received"))
    due_on = models.DateField(_("due"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # Why the institution erases (the admin's words, entered on the erasure page): kept here, never in the
    # audit log's signed part. The outcome: an erasure that waits is answered "restricted", then "erased".
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("data request")
        verbose_name_plural = _("data requests")
        ordering = ["-received_on", "-pk"]
        indexes = [models.Index(fields=["institution", "-received_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("received_on")),
                name="data_request_due_after_received",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.patient_id} {self.received_on}"

    @property
    def answered_in_time(self) -> bool | None:
        """Whether it was answered by its due date (None while open)."""
        if self.answered_at is None:
            return None
        return timezone.localtime(self.answered_at, zone_of(self.institution)).date() <= self.due_on
