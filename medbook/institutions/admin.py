"""The platform operator's admin for locations, physicians and services (institutions: scheduling.admin)."""

from django.contrib import admin

from medbook.institutions.models import Location, Physician, Service


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
