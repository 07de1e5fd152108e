"""Working hours, exceptions, traffic channels and bookings."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Organization
from medbook.core.timefmt import when
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.patients.models import Patient

BUILTIN_CHANNEL_NAMES = {"online": _("Online"), "phone": _("Phone"), "reception": _("Reception")}


class TrafficChannel(models.Model):
    """A way bookings arrive (online, phone, reception, one per partner)."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="channels")
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    partner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="partner_channels"
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(default=0)
    # The services offered through a built-in channel: its column of Traffic Channels (only the Online
    # column is ticked, medbook.scheduling.online; a partner's column is its partnership's services).
    services = models.ManyToManyField(Service, blank=True, related_name="+", verbose_name=_("services"))

    class Meta:
        verbose_name = _("traffic channel")
        verbose_name_plural = _("traffic channels")
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["institution", "code"], name="channel_code_unique")]

    def __str__(self) -> str:
        return str(self.display_name)

    @property
    def display_name(self) -> str:
        """The name a reader sees: a built-in channel's in the reader's language, a partner's as it is."""
        if self.partner_id is None and self.code in BUILTIN_CHANNEL_NAMES:
            return str(BUILTIN_CHANNEL_NAMES[self.code])
        return self.name


class WorkingHours(models.Model):
    """A weekly rule: the physician works at the location on this weekday between two wall-clock times."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    tenant_path = "physician__institution"

    physician = models.ForeignKey(
        Physician, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("physician")
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("location")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["physician", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")), name="wh_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.physician} {self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class ScheduleException(models.Model):
    """Whole days a physician does not work (leave, holiday), at one location or everywhere."""

    class Kind(models.TextChoices):
        LEAVE = "leave", _("Leave")
        HOLIDAY = "holiday", _("Holiday")
        OTHER = "other", _("Other")

    tenant_path = "physician__institution"

    physician = models.ForeignKey(
        Physician, on_delete=models.CASCADE, related_name="exceptions", verbose_name=_("physician")
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("location")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.LEAVE)
    date_from = models.DateField(_("from"))
    date_until = models.DateField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("exception")
        verbose_name_plural = _("exceptions")
        ordering = ["date_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_until__gte=models.F("date_from")), name="exception_until_after_from"
            )
        ]

    def __str__(self) -> str:
        return f"{self.physician} {self.get_kind_display()} {self.date_from}–{self.date_until}"


class Booking(models.Model):
    """An appointment. Price and commission rule are captured when it is made."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        COMPLETED = "completed", _("Completed")
        NO_SHOW = "no_show", _("No-show")

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid", _("Unpaid")
        PAID = "paid", _("Paid")
        REFUNDED = "refunded", _("Refunded")
        PAID_AT_PARTNER = "paid_at_partner", _("Paid at partner")

    ACTIVE_STATUSES = (Status.BOOKED, Status.COMPLETED, Status.NO_SHOW)

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="bookings")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="bookings")
    physician = models.ForeignKey(Physician, on_delete=models.PROTECT, related_name="bookings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.BOOKED)
    payment_status = models.CharField(
        _("payment status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    channel = models.ForeignKey(TrafficChannel, on_delete=models.PROTECT, related_name="bookings")
    partner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="partner_bookings"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="bookings_made"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    attendance_recorded_at = models.DateTimeField(_("attendance recorded"), null=True, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    commission_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    commission_fixed = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # The patient as the partner entered (or, with patient-data access, picked) them when booking, captured
    # like the commission rule: what a partner without patient-data access is shown of its booking's patient
    # (`medbook.scheduling.patient_shown`), whatever the institution merges into or edits on the record
    # later (issue 19). `partner_patient_ref` is the record's id the partner was told.
    partner_patient_ref = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    partner_patient_name = models.CharField(max_length=200, blank=True, editable=False)
    partner_patient_birth_date = models.DateField(null=True, blank=True, editable=False)
    # When the patient confirmed, through the manage link, that a partner's booking was wanted (issue 22).
    patient_confirmed_at = models.DateTimeField(_("confirmed by patient"), null=True, blank=True)
    # An online booking of a repeat no-show waits for the desk's approval (issue 22,
    # `policy.online_approval_needed`): since when, and when and by whom the desk approved it.
    approval_needed_at = models.DateTimeField(_("awaiting approval since"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="booking_end_after_start"
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="booking_price_not_negative"),
        ]
        indexes = [
            models.Index(fields=["physician", "starts_at"]),
            models.Index(fields=["institution", "starts_at"]),
            # The calendars' "attendance overdue" list: an institution's bookings still booked, by end. Partial,
            # so it holds the future and the few forgotten ones, never the history (issue 13).
            models.Index(
                fields=["institution", "ends_at"],
                condition=models.Q(status="booked"),
                name="booking_still_booked_by_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} {when(self.starts_at, self.institution)} {self.patient}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def awaiting_approval(self) -> bool:
        """Booked online by a repeat no-show and not yet approved by the desk."""
        return self.approval_needed_at is not None and self.approved_at is None


class SlotHold(models.Model):
    """A slot held for a few minutes while its holder confirms the booking (IHE ITI-116 `$hold`; issue 21).

    Its holder is a user acting for an organisation (`user`, `organization`), or nobody logged in (both
    empty: a patient booking online, issue 22), who is known only by the hold's token. The token is
    shown once, when the hold is made; only its SHA-256 is kept (`key_hash`), as for API tokens. A hold
    whose `expires_at` has passed is simply not live: nothing reads it, and the worker deletes it
    (`medbook.scheduling.holds.slot_holds_sweep`). The rules (who holds, what a hold blocks, how it is
    made, taken and released) are in `medbook.scheduling.hold_rules` and `medbook.scheduling.holds`.

    On PostgreSQL an exclusion constraint refuses two hold rows of one physician that overlap, live or
    expired (a constraint cannot ask now()): whoever holds first deletes the expired ones in the way,
    under the physician's lock (`selectors.rules_for`), see docs/scheduling.md.
    """

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    physician = models.ForeignKey(Physician, on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    expires_at = models.DateTimeField(_("expires"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("slot hold")
        verbose_name_plural = _("slot holds")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="slot_hold_end_after_start"
            ),
            # A user always holds for the organisation they act for; an anonymous hold has neither.
            models.CheckConstraint(
                condition=models.Q(user__isnull=True, organization__isnull=True)
                | models.Q(user__isnull=False, organization__isnull=False),
                name="slot_hold_user_with_organization",
            ),
        ]
        indexes = [
            models.Index(fields=["physician", "starts_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.physician} {when(self.starts_at, self.institution)}"


class ManageLink(models.Model):
    """A link e-mailed to a booking's patient to see, move or cancel that one booking (B-14, issue 22).

    Only the SHA-256 of its token is kept (`key_hash`), as for slot holds; the rules (valid until the visit
    ends, revoked by a cancellation or by the desk) are in `medbook.scheduling.manage`.
    """

    tenant_path = "booking__institution"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="manage_links")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("manage link")
        verbose_name_plural = _("manage links")

    def __str__(self) -> str:
        return f"{self.booking_id} {self.created_at:%Y-%m-%d %H:%M}"


class BookingUndo(models.Model):
    """A move or cancellation on a calendar page that may still be undone, until `expires_at` (UNDO_SECONDS,
    issue 23): the booking's time before it (`previous_*`), its time or cancellation right after it
    (`changed_starts_at`, `done_at`), and the organisation that did it (`user` acting for `organization`).
    One per booking: a later change replaces it. The rule is `medbook.scheduling.services.booking_undo`."""

    class Kind(models.TextChoices):
        MOVE = "move", _("move")
        CANCEL = "cancel", _("cancellation")

    tenant_path = "booking__institution"

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    previous_starts_at = models.DateTimeField()
    previous_ends_at = models.DateTimeField()
    previous_cancel_reason = models.CharField(max_length=300, blank=True)
    changed_starts_at = models.DateTimeField()
    done_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("undoable change")
        verbose_name_plural = _("undoable changes")
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.booking_id}"


class DeskPreference(models.Model):
    """The filters a user last chose on a calendar page (reception's calendar, Book to partner)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    page = models.CharField(max_length=32)
    values = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "page"], name="desk_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.page}"
