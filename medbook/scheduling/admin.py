"""The platform operator's admin for institutions (created with their channels), calendars, traffic
channels and bookings."""

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from medbook.audit.admin_mixins import AuditedReadsAdminMixin
from medbook.institutions.models import Institution, Location
from medbook.scheduling.models import Booking, ScheduleException, TrafficChannel, WorkingHours
from medbook.scheduling.selectors import active_bookings
from medbook.scheduling.services import institution_create


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0
    fields = ("name", "address", "opening_hours", "is_active")


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ("name", "registration_number", "tax_number", "time_zone", "currency", "created_at")
    list_filter = ("time_zone", "currency")
    search_fields = ("name", "registration_number", "tax_number")
    ordering = ("name",)
    fields = (
        "name",
        "registration_number",
        "tax_number",
        "address",
        "country",
        "time_zone",
        "currency",
        "no_show_earns_commission",
    )
    inlines = (LocationInline,)

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        """Create a new institution through institution_create, so it gets its built-in channels."""
        if change:
            super().save_model(request, obj, form, change)
            return
        created = institution_create(**{name: form.cleaned_data[name] for name in self.fields})
        # The admin goes on with obj (inlines, log entry, redirect), so it must become the saved row.
        for field in Institution._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding, obj._state.db = False, created._state.db


@admin.register(TrafficChannel)
class TrafficChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "institution", "partner", "is_active", "position")
    list_filter = ("is_active", "institution")
    search_fields = ("name", "code", "institution__name", "partner__name")
    autocomplete_fields = ("institution", "partner")
    list_select_related = ("institution", "partner")


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ("physician", "location", "weekday", "start_time", "end_time", "valid_from", "valid_until")
    list_filter = ("weekday", "physician__institution")
    search_fields = ("physician__full_name", "location__name")
    autocomplete_fields = ("physician", "location")
    list_select_related = ("physician", "location")


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(admin.ModelAdmin):
    list_display = ("physician", "location", "kind", "date_from", "date_until", "note")
    list_filter = ("kind", "physician__institution")
    search_fields = ("physician__full_name", "note")
    autocomplete_fields = ("physician", "location")
    list_select_related = ("physician", "location")
    date_hierarchy = "date_from"


class BookingAdminForm(forms.ModelForm):
    class Meta:
        model = Booking
        fields = (
            "institution",
            "location",
            "physician",
            "service",
            "patient",
            "starts_at",
            "ends_at",
            "status",
            "payment_status",
            "channel",
            "partner",
            "booked_by",
            "cancelled_at",
            "price",
            "currency",
            "commission_percent",
            "commission_fixed",
            "note",
        )

    def clean(self) -> dict:
        """Refuse a booking mixing institutions or overlapping another active booking of the physician."""
        super().clean()
        data = self.cleaned_data
        institution = data.get("institution")
        related = [data.get(name) for name in ("location", "physician", "service", "patient", "channel")]
        if institution and any(obj is not None and obj.institution_id != institution.pk for obj in related):
            raise forms.ValidationError(
                _("Location, physician, service, patient and channel must belong to the institution.")
            )
        starts_at, ends_at, physician = data.get("starts_at"), data.get("ends_at"), data.get("physician")
        status = data.get("status", self.instance.status)
        if starts_at and ends_at and physician and status in Booking.ACTIVE_STATUSES:
            overlapping = active_bookings(physician=physician, starts=starts_at, ends=ends_at)
            if self.instance.pk:
                overlapping = overlapping.exclude(pk=self.instance.pk)
            if overlapping.exists():
                raise forms.ValidationError(_("The physician already has an active booking at this time."))
        return data


@admin.register(Booking)
class BookingAdmin(AuditedReadsAdminMixin, admin.ModelAdmin):
    form = BookingAdminForm
    list_display = (
        "starts_at",
        "institution",
        "location",
        "physician",
        "service",
        "patient",
        "status",
        "payment_status",
        "channel",
        "partner",
    )
    list_filter = (
        "status",
        "payment_status",
        "institution",
        "channel__code",
        ("partner", admin.EmptyFieldListFilter),
    )
    search_fields = ("patient__full_name", "patient__insurance_id", "physician__full_name", "service__name")
    date_hierarchy = "starts_at"
    raw_id_fields = ("patient", "booked_by")
    autocomplete_fields = ("institution", "location", "physician", "service", "channel", "partner")
    list_select_related = ("institution", "location", "physician", "service", "patient", "channel", "partner")
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple:
        """Keep what was captured when the booking was made (B-7) out of reach afterwards."""
        captured = ("price", "currency", "commission_percent", "commission_fixed", "booked_by")
        return self.readonly_fields + (captured if obj is not None else ())

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {**super().get_changeform_initial_data(request), "booked_by": request.user.pk}
