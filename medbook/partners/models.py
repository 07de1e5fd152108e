"""Partners (legal entities that book for their patients), partnerships with institutions, and the GTC."""

import hashlib
import hmac

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Organization
from medbook.institutions.models import Institution, Location, Service
from medbook.scheduling.models import TrafficChannel


class Partner(Organization):
    """A legal entity that books on behalf of its patients at the institutions it partners with."""

    # One partner per legal entity in the whole platform: country + normalised registration number.
    registry_key = models.CharField(_("registry key"), max_length=80, unique=True, editable=False)
    contact_name = models.CharField(_("contact person"), max_length=200)
    contact_email = models.EmailField(_("contact email"))
    contact_phone = models.CharField(_("contact phone"), max_length=32)
    contact_language = models.CharField(_("language of the emails"), max_length=8, default="en")

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("Not verified")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    # P-14: the operator checks that whoever registered represents the legal entity before it may book.
    verification_status = models.CharField(
        _("verification"), max_length=16, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verification_note = models.TextField(_("verification note"), blank=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.Verification.VERIFIED


IDENTITY_FIELDS = ("name", "country", "registration_number", "tax_number")


class PartnerIdentityChange(models.Model):
    """A verified partner's admin asks to change its legal identity; the operator approves or refuses it.

    Until approved, the partner keeps its verified values; the request keeps both the values it replaces and
    the new ones, so the history of the legal identity reads from these rows (P-14, issue 19)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the operator")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    partner = models.ForeignKey(
        "Partner", on_delete=models.PROTECT, related_name="identity_changes", verbose_name=_("partner")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    old_values = models.JSONField(_("verified values"))
    new_values = models.JSONField(_("requested values"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("partner identity change")
        verbose_name_plural = _("partner identity changes")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner"], condition=Q(status="pending"), name="identity_change_one_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.summary}"

    @property
    def summary(self) -> str:
        """What changes, field by field: "name: Old → New; tax_number: … → …"."""
        return "; ".join(
            f"{field}: {self.old_values.get(field, '')} → {self.new_values.get(field, '')}"
            for field in IDENTITY_FIELDS
            if self.old_values.get(field) != self.new_values.get(field)
        )

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class PartnerClaim(models.Model):
    """One person's claim to represent a partner, made from one institution's invitation (P-14, issue 19).

    The operator accepts or refuses each claim on its own: only an accepted claim makes its user an
    administrator of the partner and activates the inviting institution's partnership; a pending or refused
    claimant has no access to the partner at all."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the operator")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")

    partner = models.ForeignKey(
        "Partner", on_delete=models.PROTECT, related_name="claims", verbose_name=_("partner")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("claimant")
    )
    partnership = models.OneToOneField(
        "Partnership", on_delete=models.PROTECT, related_name="claim", verbose_name=_("invited by")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # The GTC the claimant accepted while registering: recorded as the partner's acceptance only once the
    # claim is accepted (a refused claimant never signed for the company).
    gtc_version = models.ForeignKey(
        "GTCVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("partner claim")
        verbose_name_plural = _("partner claims")
        ordering = ["partner__name", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.partner_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class PartnershipQuerySet(models.QuerySet):
    """Partnerships by what they allow."""

    def bookable(self) -> "PartnershipQuerySet":
        """Active partnerships that have not ended: their partner may book (P-3, P-8)."""
        return self.filter(status=Partnership.Status.ACTIVE, ended_at__isnull=True)

    def live(self) -> "PartnershipQuerySet":
        """Pending or active partnerships (not ended or declined)."""
        return self.filter(status__in=Partnership.LIVE_STATUSES)


class Partnership(models.Model):
    """One institution's contract with one partner, and the settings of P-4 … P-9."""

    class Status(models.TextChoices):
        PENDING_REGISTRATION = "pending_registration", _("Pending registration")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        PENDING_VERIFICATION = "pending_verification", _("Awaiting verification")
        ACTIVE = "active", _("Active")
        DECLINED = "declined", _("Declined")
        ENDED = "ended", _("Ended")

    class PaymentLocation(models.TextChoices):
        INSTITUTION = "institution", _("At the institution")
        PARTNER = "partner", _("At the partner")

    LIVE_STATUSES = (
        Status.PENDING_REGISTRATION,
        Status.PENDING_APPROVAL,
        Status.PENDING_VERIFICATION,
        Status.ACTIVE,
    )
    PENDING_STATUSES = (Status.PENDING_REGISTRATION, Status.PENDING_APPROVAL, Status.PENDING_VERIFICATION)

    tenant_path = "institution"

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="partnerships")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="partnerships")
    status = models.CharField(_("status"), max_length=24, choices=Status.choices)
    locations = models.ManyToManyField(Location, related_name="partnerships", verbose_name=_("locations"))
    services = models.ManyToManyField(
        Service, related_name="partnerships", blank=True, verbose_name=_("authorised services")
    )
    commission_enabled = models.BooleanField(_("commission agreement"), default=False)
    commission_percent = models.DecimalField(
        _("commission (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    commission_fixed = models.DecimalField(
        _("commission (fixed amount per booking)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    payment_location = models.CharField(
        _("payment location"),
        max_length=16,
        choices=PaymentLocation.choices,
        default=PaymentLocation.INSTITUTION,
    )
    patient_data_access = models.BooleanField(_("access to patient data"), default=False)
    channel = models.ForeignKey(TrafficChannel, on_delete=models.PROTECT, related_name="partnerships")
    # The institution's own contact at the partner, and where its invitation goes: never shown to, or
    # changed by, another institution (P-14).
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_language = models.CharField(_("language of the emails"), max_length=8, default="en")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    objects = PartnershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("partnership")
        verbose_name_plural = _("partnerships")
        ordering = ["partner__name", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "partner"],
                condition=Q(
                    status__in=["pending_registration", "pending_approval", "pending_verification", "active"]
                ),
                name="partnership_one_live_per_pair",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        commission_enabled=False,
                        commission_percent__isnull=True,
                        commission_fixed__isnull=True,
                    )
                    | Q(
                        commission_enabled=True,
                        commission_percent__isnull=False,
                        commission_percent__gte=0,
                        commission_percent__lte=100,
                        commission_fixed__isnull=True,
                    )
                    | Q(
                        commission_enabled=True,
                        commission_percent__isnull=True,
                        commission_fixed__isnull=False,
                        commission_fixed__gte=0,
                    )
                ),
                name="partnership_commission_one_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} @ {self.institution}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING_STATUSES

    @property
    def is_bookable(self) -> bool:
        """Whether its partner may book now: active and not ended (the row form of `bookable()`)."""
        return self.status == self.Status.ACTIVE and self.ended_at is None

    @property
    def paid_at_partner(self) -> bool:
        return self.payment_location == self.PaymentLocation.PARTNER


class GTCVersion(models.Model):
    """A version of the platform's General Terms and Conditions; the latest published one is current."""

    version = models.CharField(_("version"), max_length=32, unique=True)
    text = models.TextField(_("text"))
    published_at = models.DateTimeField(
        _("published at"), null=True, blank=True, help_text=_("Leave empty for a draft.")
    )

    class Meta:
        verbose_name = _("GTC version")
        verbose_name_plural = _("GTC versions")
        ordering = ["-published_at", "-pk"]

    def __str__(self) -> str:
        return self.version

    @classmethod
    def current(cls) -> "GTCVersion | None":
        """The latest version published up to now."""
        return cls.published().first()

    @classmethod
    def published(cls) -> "models.QuerySet[GTCVersion]":
        """The versions published up to now, the current one first."""
        return cls.objects.filter(published_at__isnull=False, published_at__lte=timezone.now()).order_by(
            "-published_at", "-pk"
        )


class GTCAcceptance(models.Model):
    """A partner's acceptance of a GTC version, by one of its users, from an address."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="gtc_acceptances")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(GTCVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(_("accepted at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("GTC acceptance")
        verbose_name_plural = _("GTC acceptances")
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "version"], name="gtc_accepted_once_per_partner")
        ]

    def __str__(self) -> str:
        return f"{self.partner} {self.version} {self.accepted_at:%Y-%m-%d}"


def nonce_digest(nonce: str) -> str:
    """The stored form of an invitation nonce: a leaked database row cannot be turned into a link."""
    return hashlib.sha256(nonce.encode()).hexdigest()


class PartnerInvitation(models.Model):
    """A registration link sent to a new partner's contact person (N-1): signed, expiring, single-use."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    nonce_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("replaced"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner invitation")
        verbose_name_plural = _("partner invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.partnership})"

    def nonce_matches(self, nonce: str) -> bool:
        return hmac.compare_digest(self.nonce_hash, nonce_digest(nonce))


class CalendarFeed(models.Model):
    """A partner user's secret iCalendar feed address (X-6): a random token, replaced to revoke the old one.

    Only the token's SHA-256 is kept (issue 19): the address is shown once, when it is made; a copy of the
    database opens no feed. The token has 256 random bits, so an unsalted fast hash is enough."""

    membership = models.OneToOneField(
        "accounts.Membership", on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.membership} feed"

    @staticmethod
    def hash_of(token: str) -> str:
        """The SHA-256 (hex) kept for a feed token."""
        return hashlib.sha256(token.encode()).hexdigest()


class PatientSearch(models.Model):
    """One search of an institution's patients by a partner's user (P-15): counted against the quotas, and
    the only patients that user may then open for a booking are those it returned. A refused search keeps
    the quota that refused it (and is not counted)."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="patient_searches")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    result_ids = models.JSONField(default=list, blank=True)
    refused = models.CharField(max_length=24, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["partnership", "created_at"], name="patient_search_ship_time_idx"),
            models.Index(fields=["partnership", "user", "created_at"], name="patient_search_user_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.user_id} {self.partnership_id}"
