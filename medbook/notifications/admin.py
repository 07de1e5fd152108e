"""The operator's view of the outbox: what is waiting, what failed and why, and "retry now"."""

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from medbook.notifications.models import DigestEntry, OutboxMessage
from medbook.notifications.services import outbox_retry_now, redact_links


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "to_email",
        "subject",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "kind", "language")
    search_fields = ("to_email", "subject", "reference", "idempotency_key")
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    # The bodies are shown with the secrets of their links removed: the operator never holds a live link.
    exclude = ("text_body", "html_body")
    readonly_fields = [
        field.name for field in OutboxMessage._meta.fields if field.name not in ("text_body", "html_body")
    ] + ["message_id", "text_without_secrets"]

    @admin.display(description=_("text"))
    def text_without_secrets(self, obj) -> str:
        return redact_links(obj.text_body)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from the changes that cause them, never by hand

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description=_("Retry now"), permissions=["view"])
    def retry_now(self, request: HttpRequest, queryset) -> None:
        count = outbox_retry_now(messages=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d message will be retried now.", "%(count)d messages will be retried now.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(DigestEntry)
class DigestEntryAdmin(admin.ModelAdmin):
    """The notifications held back for digests, and the message each went out in."""

    list_display = ("created_at", "to_email", "frequency", "subject", "sent_in")
    list_filter = ("frequency", "kind")
    search_fields = ("to_email", "subject", "reference")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in DigestEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # entries come from the changes that cause them

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
