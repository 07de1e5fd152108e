"""The operator's read-only view of the audit log."""

from django.contrib import admin

from medbook.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user_email", "organization_name", "action", "shown_repr", "ip_address")
    list_select_related = ("personal",)
    list_filter = ("action", "institution")
    search_fields = ("user_email", "object_repr", "action")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
