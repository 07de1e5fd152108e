"""Institutions (tenants), their locations, physicians and services."""

from zoneinfo import available_timezones

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Organization

# The zones a person picks from: places (Europe/Budapest), not offsets or aliases (UTC, Etc/GMT+1, GMT).
# The longest a service (and so a booking) lasts: the busy-time queries read only this far back.
MAX_SERVICE_MINUTES = 12 * 60

TIME_ZONE_CHOICES = [
    (name, name)
    for name in sorted(available_timezones())
    if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
]


class Institution(Organization):
    """A healthcare provider: the tenant whose calendars run here."""

    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Budapest")
    currency = models.CharField(_("currency"), max_length=3, default="HUF")
    no_show_earns_commission = models.BooleanField(_("no-shows earn commission"), default=False)
    # What patients are told (B-12): the language of their e-mails and the number to call to cancel.
    language = models.CharField(_("language of patient e-mails"), max_length=8, default="hu")
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # The booking rules (B-11): one home, medbook.scheduling.policy.
    slot_grid_minutes = models.PositiveSmallIntegerField(
        _("slot grid (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
        help_text=_("Minutes between slot starts; empty: each service's own duration."),
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon (days)"),
        default=366,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text=_("How many days ahead an appointment may be booked."),
    )
    partner_cutoff_minutes = models.PositiveIntegerField(
        _("partner cut-off (minutes)"),
        default=0,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text=_("The latest a partner may book, move or cancel before the appointment starts."),
    )
    # Patients' own changes through the manage link (issue 22): the same rules' home, scheduling.policy.
    patient_cutoff_minutes = models.PositiveIntegerField(
        _("patient cut-off (minutes)"),
        default=0,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text=_(
            "The latest a patient may cancel or move through the e-mailed link before the appointment."
        ),
    )
    release_unconfirmed_hours = models.PositiveSmallIntegerField(
        _("release unconfirmed partner bookings (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(14 * 24)],
        help_text=_(
            "Cancel a partner's booking that the patient has not confirmed this many hours before the "
            "appointment; empty: never."
        ),
    )
    # Retention (issue 24, G-3; docs/privacy.md): 8 years, as the accounting act keeps the bookings' rows.
    retention_years = models.PositiveSmallIntegerField(
        _("retention (years after the last visit)"),
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_(
            "A patient whose last visit (or record, with no visit) is older than this is erased automatically, "
            "unless an upcoming visit or an unsettled partner visit still needs the record."
        ),
    )
    attendance_grace_minutes = models.PositiveIntegerField(
        _("attendance reminder after (minutes)"),
        default=60,
        validators=[MinValueValidator(0), MaxValueValidator(7 * 24 * 60)],
        help_text=_("How long after its end a booking still marked booked is flagged for the desk."),
    )
    # Online booking (issue 22): patients book on the public pages (/book/<id>/) the services ticked in the
    # Online column of Traffic Channels, after accepting this notice; rules in medbook.scheduling.online.
    online_booking = models.BooleanField(
        _("online booking"),
        default=False,
        help_text=_(
            "Patients book the services ticked in the Online column of Traffic Channels on the public"
            " booking pages."
        ),
    )
    # Attendance memory (issue 22): an online booking of a patient with this many no-shows waits for the
    # desk's approval (medbook.scheduling.policy.online_approval_needed); empty: never.
    online_approval_no_shows = models.PositiveSmallIntegerField(
        _("online bookings need approval after (no-shows)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "An online booking of a patient with this many no-shows waits for the desk's approval; empty:"
            " never."
        ),
    )
    privacy_notice = models.TextField(
        _("privacy notice for online booking"),
        blank=True,
        max_length=10000,
        help_text=_("What a patient booking online reads and accepts about the use of their details."),
    )

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    """A site of an institution."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "name"], name="location_name_unique_per_institution"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Physician(models.Model):
    """A physician working at one or more locations of one institution."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="physicians")
    full_name = models.CharField(_("name"), max_length=200)
    specialty = models.CharField(_("specialty"), max_length=100)
    locations = models.ManyToManyField(Location, related_name="physicians", verbose_name=_("locations"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("physician")
        verbose_name_plural = _("physicians")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name


class Service(models.Model):
    """An examination with its duration and price, given at some locations by some physicians."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(_("name"), max_length=200)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"),
        validators=[MinValueValidator(5), MaxValueValidator(MAX_SERVICE_MINUTES)],
        default=30,
    )
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="HUF")
    locations = models.ManyToManyField(Location, related_name="services", verbose_name=_("locations"))
    physicians = models.ManyToManyField(Physician, related_name="services", verbose_name=_("physicians"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="service_price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5), name="service_duration_min_5"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__lte=MAX_SERVICE_MINUTES), name="service_duration_max"
            ),
        ]

    def __str__(self) -> str:
        return self.name
