"""Forms of the Administration pages; each narrows its choices to the institution it is given."""

import re
from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

from medbook.core.forms import IdsField
from medbook.institutions.models import TIME_ZONE_CHOICES, Institution, Location, Physician, Service
from medbook.institutions.services import SETTINGS_FIELDS

if TYPE_CHECKING:  # a gettext_lazy message; django_stubs_ext is for the type checker only
    from django_stubs_ext import StrOrPromise

TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TenantForm(forms.ModelForm):
    """A form for an object of one institution: every choice of related objects is limited to it."""

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.institution = institution
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
                path = getattr(field.queryset.model, "tenant_path", "institution")
                field.queryset = field.queryset.filter(**{path: institution})

    def check_order(self, first: str, last: str, message: "StrOrPromise", *, strict: bool) -> None:
        """Refuse a range whose end is before (or, when strict, at) its start."""
        start, end = self.cleaned_data.get(first), self.cleaned_data.get(last)
        if start is not None and end is not None and (end <= start if strict else end < start):
            self.add_error(last, message)

    def check_works_at(self, physician: Physician | None, location: Location | None) -> None:
        """Refuse a location the physician does not work at."""
        if physician and location and not physician.locations.filter(pk=location.pk).exists():
            message = _("%(physician)s does not work at %(location)s.")
            self.add_error("location", message % {"physician": physician, "location": location})


class LocationForm(TenantForm):
    class Meta:
        model = Location
        fields = ["name", "address", "opening_hours", "is_active"]

    def clean_name(self) -> str:
        # The unique constraint covers the institution, which is not a form field, so check it here.
        name = self.cleaned_data["name"]
        taken = Location.objects.filter(institution=self.institution, name=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("A location with this name already exists."))
        return name


class PhysicianForm(TenantForm):
    class Meta:
        model = Physician
        fields = ["full_name", "specialty", "locations", "is_active"]
        widgets = {"locations": forms.CheckboxSelectMultiple}
        field_classes = {"locations": IdsField}


class ServiceForm(TenantForm):
    class Meta:
        model = Service
        fields = ["name", "duration_minutes", "price", "currency", "locations", "physicians", "is_active"]
        widgets = {
            "price": forms.NumberInput(attrs={"min": "0", "step": "0.01"}),
            "locations": forms.CheckboxSelectMultiple,
            "physicians": forms.CheckboxSelectMultiple,
        }
        field_classes = {"locations": IdsField, "physicians": IdsField}

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, institution=institution, **kwargs)
        if self.instance.pk is None and not self.is_bound:
            self.initial["currency"] = institution.currency

    def clean_currency(self) -> str:
        currency = self.cleaned_data["currency"].strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise forms.ValidationError(_("Enter a three-letter currency code, such as HUF or EUR."))
        return currency


class InstitutionSettingsForm(forms.ModelForm):
    """ "Institution settings" (B-12): the form shows the fields; the service checks every value."""

    time_zone = forms.ChoiceField(label=_("time zone"), choices=TIME_ZONE_CHOICES)
    language = forms.ChoiceField(
        label=_("language of patient e-mails"), choices=[("hu", "Magyar"), ("en", "English")]
    )

    class Meta:
        model = Institution
        fields = list(SETTINGS_FIELDS)  # what the service takes, in its order
