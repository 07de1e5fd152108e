"""The append-only audit log (X-3): who did what to which object, when and from where; and the Merkle trees
the sealer integrates the entries into (medbook.audit.sealer, docs/audit.md)."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.audit import chain, signing


class AuditEntryImmutable(RuntimeError):
    """An audit entry was about to be changed or deleted: the log is append-only."""


class AuditEntryQuerySet(models.QuerySet):
    """Entries are appended one at a time (each with its own leaf hash) and never changed or removed."""

    def update(self, **kwargs):
        raise AuditEntryImmutable("Audit entries cannot be changed.")

    def delete(self):
        raise AuditEntryImmutable("Audit entries cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditEntryImmutable("Audit entries cannot be changed.")

    def bulk_create(self, objs, *args, **kwargs):
        raise AuditEntryImmutable("Audit entries are appended one at a time, each with its own leaf hash.")


class AuditEntry(models.Model):
    """One recorded act: the actor, the organisation acted for, the action, the object, the address."""

    tenant_path = "institution"

    # Set before the insert (not auto_now_add), so the leaf hash covers the very value stored.
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
    # The old hash chain, kept for the entries written before the Merkle trees (empty on later entries).
    prev_hash = models.CharField(_("previous entry's hash"), max_length=64, blank=True, editable=False)
    row_hash = models.CharField(_("hash"), max_length=64, blank=True, editable=False)
    # RFC 6962 leaf hash of the content (chain.leaf_hash_of), computed by the writer; the sealer checks it.
    # Empty on the old chain's entries and on rows a bulk COPY wrote without it (the bench generator): the
    # sealer then takes the hash of the content as it finds it.
    leaf_hash = models.CharField(_("leaf hash"), max_length=64, blank=True, editable=False, db_default="")
    # SHA-256(salt || canonical JSON) of the entry's personal part (AuditPersonal), hashed in its place; empty
    # when the entry has none (and on every entry written before the split: their content stays as it was).
    personal_hash = models.CharField(
        _("personal part's hash"), max_length=64, blank=True, editable=False, db_default=""
    )

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
        # No lock and no read: a trigger queues the entry for the sealer (triggers.QUEUE_*).
        if not isinstance(self.personal_hash, str):  # the db_default expression of an entry built without it
            self.personal_hash = ""
        self.leaf_hash = chain.leaf_hash_of(self)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEntryImmutable("Audit entries cannot be deleted.")

    # The entry as pages and readers see it: the hashed part merged with the personal part (select_related
    # "personal" when reading many). An erased personal part shows as "(erased)".
    @property
    def personal_part(self) -> "AuditPersonal | None":
        if not self.personal_hash:
            return None
        try:
            return self.personal
        except AuditPersonal.DoesNotExist:
            return None

    @property
    def personal_erased(self) -> bool:
        return bool(self.personal_hash) and self.personal_part is None

    @property
    def shown_repr(self) -> str:
        part = self.personal_part
        if part is not None and "object_repr" in part.data:
            return part.data["object_repr"]
        if self.personal_erased and not self.object_repr:
            return str(ERASED)
        return self.object_repr

    @property
    def shown_details(self) -> dict:
        part = self.personal_part
        details = dict(self.details or {})
        if part is not None:
            details.update(part.data.get("details", {}))
        elif self.personal_erased:
            details["personal"] = str(ERASED)
        return details


ERASED = _("(erased)")


class AuditPersonal(models.Model):
    """The erasable part of an entry: what it says about a patient (names, search strings). The entry's
    hashed content commits to it by personal_hash = SHA-256(salt || canonical JSON of `data`); deleting
    this row (salt included) erases it and leaves every leaf, tree and proof valid."""

    entry = models.OneToOneField(
        AuditEntry,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="personal",
    )
    salt = models.CharField(max_length=32)  # 16 random bytes, hex
    data = models.JSONField(default=dict)  # {"object_repr": ..., "details": {...}}

    def __str__(self) -> str:
        return f"entry {self.entry_id} (personal part)"


class AuditPending(models.Model):
    """An entry not yet in its tree: inserted by a trigger with the entry, deleted by the sealer."""

    entry = models.OneToOneField(
        AuditEntry, on_delete=models.DO_NOTHING, db_constraint=False, primary_key=True, related_name="+"
    )
    institution_id = models.BigIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["institution_id", "entry"], name="audit_pending_tree_idx")]

    def __str__(self) -> str:
        return f"entry {self.entry_id} (queued)"


class AuditTree(models.Model):
    """The head of one append-only Merkle tree: an institution's, or the platform's (institution NULL).

    Only the sealer writes it, under its row lock; the leaves, nodes and signed heads are insert-only."""

    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    size = models.BigIntegerField(default=0)
    root_hash = models.CharField(max_length=64, blank=True)
    frontier = models.JSONField(default=list)  # merkle.append's compact range, hex
    # The latest signed head's size and time: under load a head is signed at most every HEAD_INTERVAL.
    signed_size = models.BigIntegerField(default=0)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Coalesce("institution", models.Value(0)), name="audit_tree_one_per_scope")
        ]

    def __str__(self) -> str:
        return f"{self.log_name} ({self.size})"

    @property
    def log_name(self) -> str:
        return signing.log_name(self.institution_id)


class AuditLeaf(models.Model):
    """Leaf number `index` of a tree: which entry, and the leaf hash the sealer appended."""

    tree = models.ForeignKey(AuditTree, on_delete=models.PROTECT, related_name="leaves")
    index = models.BigIntegerField()
    entry = models.OneToOneField(
        AuditEntry, on_delete=models.DO_NOTHING, db_constraint=False, related_name="leaf"
    )
    leaf_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "index"], name="audit_leaf_position")]

    def __str__(self) -> str:
        return f"leaf {self.index}: entry {self.entry_id}"


class AuditNode(models.Model):
    """A completed perfect subtree of 2**level leaves (level >= 1), for proofs in O(log n) reads."""

    tree = models.ForeignKey(AuditTree, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "level", "index"], name="audit_node_position")]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class AuditTreeHead(models.Model):
    """A signed tree head: the tree's size and root at a time, signed with AUDIT_SIGNING_KEY (Ed25519)."""

    tree = models.ForeignKey(AuditTree, on_delete=models.PROTECT, related_name="heads")
    size = models.BigIntegerField()
    root_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)

    class Meta:
        indexes = [models.Index(fields=["tree", "-size", "-id"], name="audit_head_latest_idx")]

    def __str__(self) -> str:
        return f"head {self.size} {self.root_hash}"
