"""The institution's patient register: personal data lives here and nowhere else."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from medbook.core.text import Folded
from medbook.institutions.models import Institution


class Patient(models.Model):
    """A patient of one institution."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="patients")
    full_name = models.CharField(_("name"), max_length=200)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    insurance_id = models.CharField(_("health-insurance id (TAJ)"), max_length=16, blank=True)
    # Entered by a partner without patient-data access (P-15): such a partner is never told whether the TAJ
    # is registered, so the record may duplicate one of the register's, for the institution to merge.
    registered_by_partner = models.BooleanField(_("registered by a partner"), default=False)
    # Entered by a patient booking online (issue 22): the register is never asked who is a patient, so the
    # record may duplicate one of the register's (`services.patient_online_register`), for the staff to merge.
    registered_online = models.BooleanField(_("registered online"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # GDPR (issue 24, medbook.patients.restriction): restricted (Art. 18) — kept, never used: no booking, not
    # found or opened by partners; erased (Art. 17) — identity replaced, the bookings kept as anonymous rows.
    restricted_at = models.DateTimeField(_("restricted"), null=True, blank=True, editable=False)
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)
    # The name as searches compare it (case and accents folded), kept by the database itself; on
    # PostgreSQL a trigram index on it serves "contains" (patients migration 0004).
    search_name = models.GeneratedField(
        expression=Folded("full_name"), output_field=models.TextField(), db_persist=True
    )

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "insurance_id"],
                condition=~models.Q(insurance_id="")
                & models.Q(registered_by_partner=False, registered_online=False),
                name="patient_insurance_id_unique_per_institution",
            )
        ]
        indexes = [models.Index(fields=["institution", "full_name"])]

    def __str__(self) -> str:
        return self.full_name
