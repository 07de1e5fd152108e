"""Forms of the Administration pages; each narrows its choices to the institution it is given."""

import re

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Membership
from medbook.core.forms import IdsField
from medbook.institutions.models import Location, Physician, Service
from medbook.scheduling.models import ScheduleException, WorkingHours

TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TenantForm(forms.ModelForm):
    """A form for an object of one institution: every choice of related objects is limited to it."""

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.institution = institution
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                path = getattr(field.queryset.model, "tenant_path", "institution")
                field.queryset = field.queryset.filter(**{path: institution})

    def check_order(self, first: str, last: str, message: str, *, strict: bool) -> None:
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


class WorkingHoursForm(TenantForm):
    class Meta:
        model = WorkingHours
        fields = ["physician", "location", "weekday", "start_time", "end_time", "valid_from", "valid_until"]
        widgets = {
            "start_time": TIME_WIDGET,
            "end_time": TIME_WIDGET,
            "valid_from": DATE_WIDGET,
            "valid_until": DATE_WIDGET,
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        self.check_order("start_time", "end_time", _("“Until” must be later than “from”."), strict=True)
        self.check_order(
            "valid_from", "valid_until", _("“Valid until” cannot be before “valid from”."), strict=False
        )
        self.check_works_at(cleaned.get("physician"), cleaned.get("location"))
        if not self.errors:
            self.check_overlap()
        return cleaned

    def check_overlap(self) -> None:
        """Refuse hours that overlap another rule of the physician (one person, one place at a time)."""
        data = self.cleaned_data
        clashes = WorkingHours.objects.filter(
            physician=data["physician"],
            weekday=data["weekday"],
            start_time__lt=data["end_time"],
            end_time__gt=data["start_time"],
        ).exclude(pk=self.instance.pk)
        if data.get("valid_until"):
            clashes = clashes.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=data["valid_until"]))
        if data.get("valid_from"):
            clashes = clashes.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=data["valid_from"]))
        clash = clashes.select_related("location").first()
        if clash is not None:
            message = _("These hours overlap the physician's hours %(from)s–%(until)s at %(location)s.")
            details = {"from": f"{clash.start_time:%H:%M}", "until": f"{clash.end_time:%H:%M}"}
            self.add_error(None, message % {**details, "location": clash.location})


class ScheduleExceptionForm(TenantForm):
    class Meta:
        model = ScheduleException
        fields = ["physician", "location", "kind", "date_from", "date_until", "note"]
        widgets = {"date_from": DATE_WIDGET, "date_until": DATE_WIDGET}

    def __init__(self, *args, institution, **kwargs):
        super().__init__(*args, institution=institution, **kwargs)
        self.fields["location"].empty_label = _("All locations")

    def clean(self) -> dict:
        cleaned = super().clean()
        self.check_order("date_from", "date_until", _("“Until” cannot be before “from”."), strict=False)
        self.check_works_at(cleaned.get("physician"), cleaned.get("location"))
        return cleaned


class UserInviteForm(forms.Form):
    """Invite a person to act for the institution as an administrator or receptionist (B-10)."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(role.value, role.label) for role in (Membership.Role.ADMIN, Membership.Role.STAFF)],
        initial=Membership.Role.STAFF,
    )
    language = forms.ChoiceField(
        label=_("Language of the emails"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
    )
