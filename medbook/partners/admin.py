"""The operator's admin: GTC versions (managed here); partners, partnerships and acceptances (read-only); the
claims to represent a partner and the changes of its identity, which the operator decides here."""

from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medbook.accounts.models import Membership
from medbook.core.errors import DomainError
from medbook.core.tenancy import actor_of
from medbook.partners.models import (
    GTCAcceptance,
    GTCVersion,
    Partner,
    PartnerClaim,
    PartnerIdentityChange,
    Partnership,
)
from medbook.partners.services.identity import partner_identity_change_approve, partner_identity_change_refuse
from medbook.partners.services.verification import partner_claim_accept, partner_claim_refuse


@admin.register(GTCVersion)
class GTCVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "published_at")
    ordering = ("-published_at",)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # An accepted version is a signed contract: its text never changes; publish a new version instead.
        if obj is not None and obj.acceptances.exists():
            return ("version", "text", "published_at")
        return ()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """A list of related rows the operator reads: nothing added, changed or removed here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class MembershipInline(ReadOnlyInline):
    """Who administers the partner (the claimants the operator accepted, and the users they added)."""

    model = Membership
    fields = ("user", "role", "is_active", "created_at")
    readonly_fields = fields


class PartnershipInline(ReadOnlyInline):
    model = Partnership
    fields = ("institution", "status", "contact_name", "contact_email", "invited_by", "created_at")
    readonly_fields = fields


def _person(name: str, email: str) -> str:
    return f"{name} <{email}>" if name else email


class ClaimColumns:
    """The columns that show a claim side by side with the institution that invited its claimant."""

    @admin.display(description=gettext_lazy("claimant"))
    def claimant(self, claim: PartnerClaim) -> str:
        return _person(claim.user.get_full_name(), claim.user.email)

    @admin.display(description=gettext_lazy("invited by"))
    def institution(self, claim: PartnerClaim) -> str:
        return claim.partnership.institution.name

    @admin.display(description=gettext_lazy("the institution's contact"))
    def institution_contact(self, claim: PartnerClaim) -> str:
        return _person(claim.partnership.contact_name, claim.partnership.contact_email)

    @admin.display(description=gettext_lazy("added by"))
    def invited_by(self, claim: PartnerClaim) -> str:
        user = claim.partnership.invited_by
        return user.email if user is not None else "—"


class PartnerClaimInline(ClaimColumns, ReadOnlyInline):
    """Each person who registered for the partner, side by side with the institution that invited them and
    the contact it gave: the operator accepts or refuses each one under Partner claims."""

    model = PartnerClaim
    fields = ("claimant", "institution", "institution_contact", "invited_by", "status", "created_at")
    readonly_fields = fields
    show_change_link = True


class IdentityChangeInline(ReadOnlyInline):
    """The history of the partner's legal identity: each request with the values it replaced."""

    model = PartnerIdentityChange
    fields = ("status", "summary", "requested_by", "requested_at", "decided_by", "decided_at", "note")
    readonly_fields = fields
    show_change_link = True


def _decide(modeladmin, request: HttpRequest, queryset, service, done: str) -> None:
    """Run the operator's decision on each selected row, one transaction each; report each outcome."""
    for row in queryset:
        note = _("Checked in the operator's admin.")
        try:
            service(actor=actor_of(request), note=note, **{modeladmin.subject: row})
        except DomainError as error:
            modeladmin.message_user(request, f"{modeladmin.label(row)}: {error.message}", messages.WARNING)
        else:
            modeladmin.message_user(request, done % {"row": modeladmin.label(row)}, messages.SUCCESS)


@admin.action(description=gettext_lazy("Accept: this person represents the company"))
def accept_claim(modeladmin, request: HttpRequest, queryset) -> None:
    _decide(modeladmin, request, queryset, partner_claim_accept, _("Accepted: %(row)s."))


@admin.action(description=gettext_lazy("Refuse the claim"))
def refuse_claim(modeladmin, request: HttpRequest, queryset) -> None:
    _decide(modeladmin, request, queryset, partner_claim_refuse, _("Refused: %(row)s."))


@admin.action(description=gettext_lazy("Approve: the company register shows the new details"))
def approve_change(modeladmin, request: HttpRequest, queryset) -> None:
    _decide(modeladmin, request, queryset, partner_identity_change_approve, _("Approved: %(row)s."))


@admin.action(description=gettext_lazy("Refuse the change"))
def refuse_change(modeladmin, request: HttpRequest, queryset) -> None:
    _decide(modeladmin, request, queryset, partner_identity_change_refuse, _("Refused: %(row)s."))


@admin.register(Partner)
class PartnerAdmin(ReadOnlyAdmin):
    """The operator sees who claims the partner, from which institution's invitation, and its registry
    numbers; each claim and each change of identity is decided on its own (P-14, issue 19)."""

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
    inlines = [PartnerClaimInline, IdentityChangeInline, MembershipInline, PartnershipInline]


@admin.register(PartnerClaim)
class PartnerClaimAdmin(ClaimColumns, ReadOnlyAdmin):
    """Each person's claim to represent a partner, with the inviting institution and its contact, and how
    many others claim the same partner: accept or refuse one without touching the others."""

    subject = "claim"
    list_display = (
        "partner",
        "claimant",
        "institution",
        "institution_contact",
        "invited_by",
        "other_claims",
        "status",
        "created_at",
        "decided_at",
    )
    list_filter = ("status",)
    list_select_related = ("partner", "user", "partnership__institution", "partnership__invited_by")
    search_fields = ("partner__name", "partner__registration_number", "user__email", "user__full_name")
    ordering = ("partner__name", "created_at")
    actions = [accept_claim, refuse_claim]

    @staticmethod
    def label(claim: PartnerClaim) -> str:
        return f"{claim.user.email} → {claim.partner.name}"

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(partner_claims=Count("partner__claims"))

    @admin.display(description=gettext_lazy("other claims of the partner"))
    def other_claims(self, claim: PartnerClaim) -> int:
        return claim.partner_claims - 1  # type: ignore[attr-defined]  # annotated


@admin.register(PartnerIdentityChange)
class PartnerIdentityChangeAdmin(ReadOnlyAdmin):
    """A verified partner's request to change its name or numbers: the verified and the requested values
    side by side; approve once the company register confirms them, else refuse."""

    subject = "change"
    list_display = (
        "partner",
        "summary",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status",)
    list_select_related = ("partner", "requested_by", "decided_by")
    search_fields = ("partner__name", "partner__registration_number")
    actions = [approve_change, refuse_change]

    @staticmethod
    def label(change: PartnerIdentityChange) -> str:
        return f"{change.partner.name}: {change.summary}"


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
