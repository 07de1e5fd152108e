"""The operator's admin: GTC versions (managed here), partners, partnerships and acceptances (read-only)."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medbook.accounts.models import Membership
from medbook.core.errors import DomainError
from medbook.partners.models import GTCAcceptance, GTCVersion, Partner, Partnership
from medbook.partners.services.verification import partner_reject, partner_verify


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


class MembershipInline(admin.TabularInline):
    """Who registered (and now administers) the partner: what the operator checks before verifying."""

    model = Membership
    fields = ("user", "role", "is_active", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PartnershipInline(admin.TabularInline):
    model = Partnership
    fields = ("institution", "status", "contact_name", "contact_email", "invited_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _answer(modeladmin, request, queryset, service, done) -> None:
    for partner in queryset:
        try:
            service(actor=request.actor, partner=partner, note=_("Checked in the operator's admin."))
        except DomainError as error:
            modeladmin.message_user(request, f"{partner}: {error.message}", messages.WARNING)
        else:
            modeladmin.message_user(request, done % {"partner": partner.name}, messages.SUCCESS)


@admin.action(description=gettext_lazy("Verify: the registrant represents the company"))
def verify(modeladmin, request, queryset) -> None:
    _answer(modeladmin, request, queryset, partner_verify, _("%(partner)s is verified."))


@admin.action(description=gettext_lazy("Reject the registration"))
def reject(modeladmin, request, queryset) -> None:
    _answer(modeladmin, request, queryset, partner_reject, _("The registration of %(partner)s was rejected."))


@admin.register(Partner)
class PartnerAdmin(ReadOnlyAdmin):
    """The operator sees who registered, checks the registry numbers, and verifies or rejects (P-14)."""

    list_display = (
        "name",
        "country",
        "registration_number",
        "tax_number",
        "verification_status",
        "verified_at",
    )
    list_filter = ("verification_status",)
    search_fields = ("name", "registration_number", "tax_number")
    actions = [verify, reject]
    inlines = [MembershipInline, PartnershipInline]


@admin.register(Partnership)
class PartnershipAdmin(ReadOnlyAdmin):
    list_display = (
        "partner",
        "institution",
        "status",
        "contact_email",
        "created_at",
        "activated_at",
        "ended_at",
    )
    list_filter = ("status",)


@admin.register(GTCAcceptance)
class GTCAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("partner", "version", "user", "accepted_at", "ip_address")
