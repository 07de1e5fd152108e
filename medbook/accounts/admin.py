"""The platform operator's admin for users, organisations and memberships."""

from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Membership, Organization, User
from medbook.accounts.services import user_password_replaced
from medbook.accounts.tokens import (
    REVOKED_BY_DEACTIVATION,
    REVOKED_BY_ORGANIZATION_TWO_FACTOR,
    REVOKED_BY_ROLE_CHANGE,
    api_tokens_revoke_all,
)
from medbook.core.tenancy import actor_of

admin.site.site_header = _("MedBook platform administration")
admin.site.site_title = _("MedBook operator")
admin.site.index_title = _("Platform data")


class EmailCleaningMixin:
    """Store emails in lower case and refuse one that differs from another only in case."""

    cleaned_data: dict[str, Any]  # of the user form it is mixed into
    instance: User

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        others = User.objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("A user with this email already exists."), code="unique")
        return email


class UserCreationAdminForm(EmailCleaningMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email", "full_name")
        field_classes: ClassVar[dict[str, type[forms.Field]]] = {}


class UserChangeAdminForm(EmailCleaningMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"
        field_classes: ClassVar[dict[str, type[forms.Field]]] = {}


def revoke_tokens_after_membership_edit(request: HttpRequest, form) -> None:
    """The operator deactivated a membership or changed its role: its API tokens are revoked (audited)."""
    membership = form.instance
    if membership.pk is None or not form.has_changed():
        return
    if "is_active" in form.changed_data and not membership.is_active:
        api_tokens_revoke_all(actor=actor_of(request), reason=REVOKED_BY_DEACTIVATION, membership=membership)
    elif "role" in form.changed_data:
        api_tokens_revoke_all(actor=actor_of(request), reason=REVOKED_BY_ROLE_CHANGE, membership=membership)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("organization",)
    fields = ("organization", "role", "can_book", "is_active")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "language")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "full_name", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")

    def get_inlines(self, request: HttpRequest, obj):
        """Show memberships once the user exists."""
        return [MembershipInline] if obj is not None else []

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        """Deactivating a user revokes all of its API tokens (audited)."""
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            api_tokens_revoke_all(actor=actor_of(request), reason=REVOKED_BY_DEACTIVATION, user=obj)

    def user_change_password(self, request: HttpRequest, id, form_url="") -> HttpResponse:
        """A password the operator sets revokes the user's API tokens, as a reset does (audited)."""
        response = super().user_change_password(request, id, form_url)
        changed = request.method == "POST" and response.status_code == 302
        if changed and response["Location"] != request.get_full_path():
            user = self.get_object(request, unquote(id))
            if user is not None:  # the password was just set on it
                user_password_replaced(actor=actor_of(request), user=user)
        return response

    def save_formset(self, request: HttpRequest, form, formset, change) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            for membership_form in formset.forms:
                revoke_tokens_after_membership_edit(request, membership_form)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "registration_number", "tax_number", "country", "created_at")
    list_filter = ("kind", "country")
    search_fields = ("name", "registration_number", "tax_number")
    ordering = ("name",)

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        """Requiring two-factor of an organisation's users revokes their API tokens for it, as on its page."""
        super().save_model(request, obj, form, change)
        if change and "require_two_factor" in form.changed_data and obj.require_two_factor:
            reason = REVOKED_BY_ORGANIZATION_TWO_FACTOR
            api_tokens_revoke_all(actor=actor_of(request), reason=reason, organization=obj)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "can_book", "is_active", "created_at")
    list_filter = ("role", "is_active", "can_book")
    search_fields = ("user__email", "user__full_name", "organization__name")
    autocomplete_fields = ("user", "organization")
    list_select_related = ("user", "organization")

    def save_model(self, request: HttpRequest, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change:
            revoke_tokens_after_membership_edit(request, form)
