"""The platform operator's admin for institutions, locations, physicians and services."""

from django.contrib import admin

from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.institutions.services import institution_create


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

    def save_model(self, request, obj, form, change) -> None:
        """Create a new institution through institution_create, so it gets its built-in channels."""
        if change:
            super().save_model(request, obj, form, change)
            return
        created = institution_create(**{name: form.cleaned_data[name] for name in self.fields})
        # The admin goes on with obj (inlines, log entry, redirect), so it must become the saved row.
        for field in Institution._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding, obj._state.db = False, created._state.db


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("name", "institution", "address", "is_active")
    list_filter = ("is_active", "institution")
    search_fields = ("name", "address", "institution__name")
    autocomplete_fields = ("institution",)
    list_select_related = ("institution",)


@admin.register(Physician)
class PhysicianAdmin(admin.ModelAdmin):
    list_display = ("full_name", "specialty", "institution", "is_active")
    list_filter = ("is_active", "specialty", "institution")
    search_fields = ("full_name", "specialty", "institution__name")
    autocomplete_fields = ("institution", "locations")
    list_select_related = ("institution",)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "institution", "duration_minutes", "price", "currency", "is_active")
    list_filter = ("is_active", "institution")
    search_fields = ("name", "institution__name")
    autocomplete_fields = ("institution", "locations", "physicians")
    list_select_related = ("institution",)
