"""Users, the organisations they act for, and their memberships."""

from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.core.roles import OrgKind, Role


class UserManager(BaseUserManager["User"]):
    """Create users identified by email."""

    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        """Find the user by email whatever its case (emails are stored lower-case)."""
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        """Create a user with a normalised email."""
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        """Create a platform operator."""
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform operator"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Organization(models.Model):
    """A legal entity on the platform: an institution or (later) a partner."""

    Kind = OrgKind

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    registration_number = models.CharField(_("registration number"), max_length=64, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    country = models.CharField(_("country"), max_length=2, default="HU")
    require_two_factor = models.BooleanField(
        _("require two-factor authentication of its users"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one organisation."""

    Role = Role

    class Digest(models.TextChoices):
        IMMEDIATE = "immediate", _("Each e-mail at once")
        HOURLY = "hourly", _("An hourly digest")
        DAILY = "daily", _("A daily digest")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    can_book = models.BooleanField(_("Can book to partner institution"), default=False)
    email_digest = models.CharField(
        _("booking e-mails"), max_length=16, choices=Digest.choices, default=Digest.IMMEDIATE
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A person who already has an account is asked to accept a role (never granted it silently): set until
    # they accept; the hash of the link's secret while the link is valid.
    invited_at = models.DateTimeField(_("invited"), null=True, blank=True)
    invitation_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_user_org_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    @property
    def is_invitation_pending(self) -> bool:
        """Whether the person has been asked to accept this role and has not yet."""
        return self.invited_at is not None and bool(self.invitation_hash)


class ThrottleEvent(models.Model):
    """One attempt counted by a throttle (the password-reset form's, per address and per email address)."""

    scope = models.CharField(max_length=32)
    key = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "created_at"], name="throttle_scope_key_at")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} {self.created_at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A personal API token (X-1): one user acting for one organisation, stored only as its hash.

    The token is shown once, when it is made; what is kept is its SHA-256 (a 256-bit random secret needs no
    slow hash) and a short prefix to recognise it in lists. `Authorization: Bearer <token>`.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    read_only = models.BooleanField(_("read only"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
