"""The platform operator's admin for the patient register (support only)."""

from django import forms
from django.contrib import admin

from medbook.audit.admin_mixins import AuditedReadsAdminMixin
from medbook.patients.models import Patient
from medbook.patients.validators import normalise_taj


class PatientAdminForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = ("institution", "full_name", "birth_date", "email", "phone", "insurance_id")

    def clean_insurance_id(self) -> str:
        """Accept a blank TAJ number or a valid one, stored as its nine digits."""
        value = self.cleaned_data["insurance_id"].strip()
        return normalise_taj(value) if value else ""


@admin.register(Patient)
class PatientAdmin(AuditedReadsAdminMixin, admin.ModelAdmin):
    form = PatientAdminForm
    list_display = (
        "full_name",
        "institution",
        "birth_date",
        "insurance_id",
        "email",
        "phone",
        "registered_by_partner",
    )
    list_filter = ("institution", "registered_by_partner")
    search_fields = ("full_name", "insurance_id", "email", "phone")
    autocomplete_fields = ("institution",)
    list_select_related = ("institution",)
    show_full_result_count = False
