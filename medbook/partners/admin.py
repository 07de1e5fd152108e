"""The operator's admin: GTC versions (managed here), partners, partnerships and acceptances (read-only)."""

from django.contrib import admin

from medbook.partners.models import GTCAcceptance, GTCVersion, Partner, Partnership


@admin.register(GTCVersion)
class GTCVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "published_at")
    ordering = ("-published_at",)

    def get_readonly_fields(self, request, obj=None):
        # An accepted version is a signed contract: its text never changes; publish a new version instead.
        if obj is not None and obj.acceptances.exists():
            return ("version", "text", "published_at")
        return ()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Partner)
class PartnerAdmin(ReadOnlyAdmin):
    list_display = ("name", "country", "registration_number", "tax_number", "contact_email")
    search_fields = ("name", "registration_number", "tax_number", "contact_email")


@admin.register(Partnership)
class PartnershipAdmin(ReadOnlyAdmin):
    list_display = ("partner", "institution", "status", "created_at", "activated_at", "ended_at")
    list_filter = ("status",)


@admin.register(GTCAcceptance)
class GTCAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("partner", "version", "user", "accepted_at", "ip_address")
