"""The append-only audit log (X-3): who did what to which object, when and from where."""

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.audit import chain


class AuditEntryImmutable(RuntimeError):
    """An audit entry was about to be changed or deleted: the log is append-only."""


class AuditEntryQuerySet(models.QuerySet):
    """Entries are appended one at a time (each links to the previous one) and never changed or removed."""

    def update(self, **kwargs):
        raise AuditEntryImmutable("Audit entries cannot be changed.")

    def delete(self):
        raise AuditEntryImmutable("Audit entries cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditEntryImmutable("Audit entries cannot be changed.")

    def bulk_create(self, objs, *args, **kwargs):
        raise AuditEntryImmutable(
            "Audit entries are appended one at a time, each linked to the previous one."
        )


class AuditEntry(models.Model):
    """One recorded act: the actor, the organisation acted for, the action, the object, the address."""

    tenant_path = "institution"

    # Set before the insert (not auto_now_add), so the hash chain covers the very value stored.
    created_at = models.DateTimeField(_("when"), default=timezone.now, editable=False, db_index=True)
    institution = models.ForeignKey(
        "institutions.Institution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("institution"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("who"),
    )
    # Kept as text too, so the entry still says who it was after the user or organisation is gone.
    user_email = models.CharField(_("user email"), max_length=254, blank=True)
    organization_name = models.CharField(_("acting for"), max_length=200, blank=True)
    action = models.CharField(_("what"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("from (IP address)"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    # The hash chain (`python manage.py audit_verify`): SHA-256 of the previous entry and of this one.
    prev_hash = models.CharField(_("previous entry's hash"), max_length=64, blank=True, editable=False)
    row_hash = models.CharField(_("hash"), max_length=64, blank=True, editable=False)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["institution", "-created_at"], name="audit_institution_time_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.user_email} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AuditEntryImmutable("Audit entries cannot be changed.")
        with transaction.atomic(savepoint=False):  # the lock lasts until the outer transaction ends
            chain.lock_chain()
            last = AuditEntry.objects.order_by("-pk").values_list("row_hash", flat=True).first()
            self.prev_hash = last or chain.GENESIS
            self.row_hash = chain.row_hash_of(self)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEntryImmutable("Audit entries cannot be deleted.")
