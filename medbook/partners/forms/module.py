"""Forms of the institution's Partner Module: the partner form (P-1, P-4 … P-7) and deletion."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from medbook.core.forms import IdsField, field_of
from medbook.institutions.models import Location
from medbook.partners.models import Partnership
from medbook.partners.validators import commission_errors, partner_details_errors

YES_NO = [(True, _("Yes")), (False, _("No"))]
COUNTRIES = [
    ("HU", _("Hungary")),
    ("AT", _("Austria")),
    ("DE", _("Germany")),
    ("SK", _("Slovakia")),
    ("RO", _("Romania")),
    ("GB", _("United Kingdom")),
]
LEGAL_FIELDS = ("name", "country", "registration_number", "tax_number", "address")
CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone", "contact_language")
DETAIL_FIELDS = LEGAL_FIELDS + CONTACT_FIELDS


def yes_no(label) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value in (True, "True", "true", "1"),
        widget=forms.RadioSelect,
        initial=False,
    )


class PartnerForm(forms.Form):
    """A partner's legal details, contact person and the institution's settings for it."""

    name = forms.CharField(label=_("Company name"), max_length=200)
    country = forms.ChoiceField(label=_("Country of registration"), choices=COUNTRIES, initial="HU")
    registration_number = forms.CharField(
        label=_("Company registration number"), max_length=64, help_text=_("Hungary: Cg. 01-09-123456")
    )
    tax_number = forms.CharField(label=_("Tax number"), max_length=64, help_text=_("Hungary: 23456787-2-13"))
    address = forms.CharField(label=_("Headquarters address"), max_length=300)
    contact_name = forms.CharField(label=_("Contact person / representative"), max_length=200)
    contact_email = forms.EmailField(label=_("Contact email"))
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=32)
    contact_language = forms.ChoiceField(
        label=_("Language of the emails"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
    )
    locations = IdsField(
        label=_("Locations the partner may book at"),
        queryset=Location.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    commission_enabled = yes_no(_("Commission agreement"))
    commission_percent = forms.DecimalField(
        # xgettext:no-python-format (a literal percent sign, never %-formatted)
        label=_("Commission (% of the service price)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100"}),
    )
    commission_fixed = forms.DecimalField(
        label=_("or a fixed amount per booking"),
        required=False,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
    )
    payment_location = forms.ChoiceField(
        label=_("Payment location"),
        choices=Partnership.PaymentLocation.choices,
        widget=forms.RadioSelect,
        initial=Partnership.PaymentLocation.INSTITUTION,
    )
    patient_data_access = yes_no(_("Access to patient data"))

    def __init__(self, *args, institution, details_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.details_locked = details_locked
        field_of(self, "locations", forms.ModelChoiceField).queryset = Location.objects.filter(
            institution=institution, is_active=True
        )
        if details_locked:
            # The legal record is the partner's own (P-14): an institution changes only its own contact
            # person and its settings.
            for name in LEGAL_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].required = False

    def clean_contact_email(self) -> str:
        return self.cleaned_data["contact_email"].strip().lower()

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        names = CONTACT_FIELDS if self.details_locked else DETAIL_FIELDS
        given = {name: cleaned[name] for name in names if name in cleaned}
        if given:
            normalised, errors = partner_details_errors(given)
            cleaned.update(normalised)
            for field, messages in errors.items():
                for message in messages:
                    self.add_error(field, message)
        enabled = cleaned.get("commission_enabled", False)
        percent, fixed = cleaned.get("commission_percent"), cleaned.get("commission_fixed")
        for field, message in commission_errors(enabled, percent, fixed).items():
            if field not in self.errors:
                self.add_error(field, message)
        return cleaned

    @property
    def details(self) -> dict:
        names = CONTACT_FIELDS if self.details_locked else DETAIL_FIELDS
        return {name: self.cleaned_data[name] for name in names}

    @property
    def terms(self) -> dict:
        names = ("commission_enabled", "commission_percent", "commission_fixed", "payment_location")
        return {name: self.cleaned_data[name] for name in (*names, "patient_data_access")}

    @classmethod
    def initial_for(cls, partnership: Partnership) -> dict:
        """The partner's legal record and this partnership's own contact (never another institution's)."""
        partner = partnership.partner
        initial = {name: getattr(partner, name) for name in LEGAL_FIELDS}
        initial.update({name: getattr(partnership, name) for name in CONTACT_FIELDS})
        initial.update(
            {
                "locations": list(partnership.locations.all()),
                "commission_enabled": partnership.commission_enabled,
                "commission_percent": partnership.commission_percent,
                "commission_fixed": partnership.commission_fixed,
                "payment_location": partnership.payment_location,
                "patient_data_access": partnership.patient_data_access,
            }
        )
        return initial


class PartnerEndForm(forms.Form):
    """Deleting a partner: what happens to its future bookings is asked explicitly (P-8)."""

    future_bookings = forms.ChoiceField(
        label=_("The partner's future bookings"),
        choices=[
            ("keep", _("Keep them (the institution handles them)")),
            ("cancel", _("Cancel them and notify the partner")),
        ],
        widget=forms.RadioSelect,
    )


class PartnerDetailsForm(forms.Form):
    """The partner's own legal record, edited by its verified admins (P-14)."""

    name = PartnerForm.base_fields["name"]
    country = PartnerForm.base_fields["country"]
    registration_number = PartnerForm.base_fields["registration_number"]
    tax_number = PartnerForm.base_fields["tax_number"]
    address = PartnerForm.base_fields["address"]

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        normalised, errors = partner_details_errors(dict(cleaned))
        cleaned.update(normalised)
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field, message)
        return cleaned
