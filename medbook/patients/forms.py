"""Forms of the patient register."""

import phonenumbers
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.core.meta import model_field
from medbook.patients.models import Patient
from medbook.patients.services import merge_differences
from medbook.patients.validators import normalise_taj


class PatientForm(forms.ModelForm):
    """A patient's details, validated: TAJ check digit, phone number, birth date not in the future."""

    class Meta:
        model = Patient
        fields = ["full_name", "birth_date", "email", "phone", "insurance_id"]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, institution=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.institution = institution

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if len(name) < 2:
            raise forms.ValidationError(_("Enter the patient's full name."))
        return name

    def clean_birth_date(self):
        born = self.cleaned_data.get("birth_date")
        if born and born > timezone.localdate():
            raise forms.ValidationError(_("The birth date cannot be in the future."))
        return born

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone", "").strip()
        if not raw:
            return ""
        try:
            number = phonenumbers.parse(raw, "HU")
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise forms.ValidationError(_("Enter a valid phone number, e.g. +36 30 123 4567."))
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def clean_insurance_id(self) -> str:
        raw = self.cleaned_data.get("insurance_id", "").strip()
        if not raw:
            return ""
        value = normalise_taj(raw)
        if self.instance.pk and value == self.instance.insurance_id:
            return value  # unchanged (a duplicate awaiting a merge may share it)
        clash = Patient.objects.filter(institution=self.institution, insurance_id=value)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if self.institution is not None and clash.exists():
            raise forms.ValidationError(
                _("A patient with this health-insurance number is already registered.")
            )
        return value


KEEP, TAKE = "keep", "take"


class PatientMergeForm(forms.Form):
    """Which value to keep of each detail on which the duplicate differs from the kept record: the kept
    record's own by default; a duplicate's value (e.g. a partner-typed e-mail) only when chosen."""

    def __init__(self, *args, keep: Patient, duplicate: Patient, **kwargs):
        kwargs.setdefault("prefix", f"merge-{duplicate.pk}")
        super().__init__(*args, **kwargs)
        self.keep, self.duplicate = keep, duplicate
        for name in merge_differences(keep=keep, duplicate=duplicate):
            self.fields[name] = forms.ChoiceField(
                label=model_field(Patient, name).verbose_name,
                choices=[(KEEP, _shown(keep, name)), (TAKE, _shown(duplicate, name))],
                initial=KEEP,
                required=False,  # nothing chosen: the kept record's own value
                widget=forms.RadioSelect,
            )

    def taken(self) -> list[str]:
        """The details whose duplicate's value was chosen."""
        return [name for name, value in self.cleaned_data.items() if value == TAKE]


def _shown(patient: Patient, name: str) -> str:
    value = getattr(patient, name)
    if not value:
        return str(_("(empty)"))
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
