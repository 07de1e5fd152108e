"""The forms of the public booking pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from medbook.core.forms import DayField, field_of
from medbook.patients.forms import PatientForm
from medbook.patients.validators import normalise_taj
from medbook.scheduling.selectors import Calendar


class TimesForm(forms.Form):
    """The optional narrowing of the free times: a location, a physician, from which day."""

    location = forms.TypedChoiceField(label=_("Location"), required=False, coerce=int, empty_value=None)
    physician = forms.TypedChoiceField(label=_("Physician"), required=False, coerce=int, empty_value=None)
    date_from = DayField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, calendars: list[Calendar], **kwargs):
        super().__init__(*args, **kwargs)
        locations = {c.location.pk: c.location.name for c in calendars}
        physicians = {c.physician.pk: c.physician.full_name for c in calendars}
        by_name = sorted(locations.items(), key=lambda item: item[1])
        field_of(self, "location", forms.TypedChoiceField).choices = [("", _("Any location")), *by_name]
        by_name = sorted(physicians.items(), key=lambda item: item[1])
        field_of(self, "physician", forms.TypedChoiceField).choices = [("", _("Any physician")), *by_name]


class OnlineDetailsForm(PatientForm):
    """The patient's details (the register's own validators: name, birth date, phone, TAJ), the privacy
    notice accepted, and a field people never see (a robot that fills it books nothing)."""

    accept_privacy = forms.BooleanField(
        label=_("I have read and accept the privacy notice."),
        required=True,
        error_messages={"required": _("Accept the privacy notice to book.")},
    )
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    class Meta(PatientForm.Meta):
        labels = {
            "full_name": _("Full name"),
            "birth_date": _("Birth date"),
            "email": _("E-mail address"),
            "phone": _("Phone (optional)"),
            "insurance_id": _("TAJ number (optional)"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].required = True
        self.fields["email"].required = True
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "inputmode": "email"})
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.fields["birth_date"].widget.attrs["autocomplete"] = "bday"
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})

    def clean_insurance_id(self) -> str:
        """The TAJ number's nine digits; whether the register holds it is never asked (no oracle)."""
        raw = self.cleaned_data.get("insurance_id", "").strip()
        return normalise_taj(raw) if raw else ""

    @property
    def is_robot(self) -> bool:
        """Whether the field hidden from people was filled in."""
        return bool(self.data.get("website"))


class CodeForm(forms.Form):
    """The 6-digit code e-mailed to the patient."""

    code = forms.CharField(
        label=_("Code from the e-mail"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
