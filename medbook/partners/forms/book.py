"""Forms of Book to partner and of the partner's bookings list."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.core.forms import DayField, field_of
from medbook.partners.offers import Offer, service_names
from medbook.scheduling.forms import AwareDateTimeField, monday_of
from medbook.scheduling.models import Booking

CAN_BOOK = _("Can book to partner institution")


def _choices(pairs, empty) -> list[tuple[str, str]]:
    unique = dict(sorted(pairs, key=lambda pair: str(pair[1])))
    return [("", empty)] + [(str(key), str(label)) for key, label in unique.items()]


class BookFilterForm(forms.Form):
    """Narrow "Book to partner" by institution, location, specialty, physician and service (P-11)."""

    institution = forms.TypedChoiceField(label=_("Institution"), coerce=int, required=False, empty_value=None)
    location = forms.TypedChoiceField(label=_("Location"), coerce=int, required=False, empty_value=None)
    specialty = forms.ChoiceField(label=_("Specialty"), required=False)
    physician = forms.TypedChoiceField(label=_("Physician"), coerce=int, required=False, empty_value=None)
    service = forms.TypedChoiceField(label=_("Service"), coerce=int, required=False, empty_value=None)
    week = DayField(label=_("Week of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, offers: list[Offer], **kwargs):
        super().__init__(*args, **kwargs)
        field_of(self, "institution", forms.ChoiceField).choices = _choices(
            [(o.institution.pk, o.institution.name) for o in offers], _("All institutions")
        )
        field_of(self, "location", forms.ChoiceField).choices = _choices(
            [(o.location.pk, f"{o.location.name} ({o.institution.name})") for o in offers], _("All locations")
        )
        field_of(self, "specialty", forms.ChoiceField).choices = _choices(
            [(o.physician.specialty, o.physician.specialty) for o in offers], _("All specialties")
        )
        field_of(self, "physician", forms.ChoiceField).choices = _choices(
            [(o.physician.pk, o.physician.full_name) for o in offers], _("All physicians")
        )
        field_of(self, "service", forms.ChoiceField).choices = _choices(
            [(o.service.pk, o.service.name) for o in offers], _("All services")
        )

    def clean_week(self):
        return monday_of(self.cleaned_data.get("week") or timezone.localdate())

    def chosen(self) -> dict:
        return {
            name: self.cleaned_data.get(name)
            for name in ("institution", "location", "specialty", "physician", "service")
        }


class FirstFreeForm(forms.Form):
    """The service whose first free time is searched across every calendar the partner may book (issue 23):
    a service by its name, so that the same service of several institutions is one choice."""

    service = forms.ChoiceField(label=_("Service"), error_messages={"required": _("Choose a service.")})
    NAMED_CHOICES = ("service",)  # a name not among the partner's services is another's: 404 (`valid_query`)

    def __init__(self, *args, offers: list[Offer], **kwargs):
        super().__init__(*args, **kwargs)
        field_of(self, "service", forms.ChoiceField).choices = [("", _("Choose a service"))] + [
            (name, name) for name in service_names(offers)
        ]


class PartnerBookingForm(forms.Form):
    """Book a free slot of one calendar: which calendar, when, the patient picked or entered, a note."""

    starts_at = AwareDateTimeField(widget=forms.HiddenInput)
    slot_location = forms.IntegerField(widget=forms.HiddenInput)
    slot_physician = forms.IntegerField(widget=forms.HiddenInput)
    slot_service = forms.IntegerField(widget=forms.HiddenInput)
    # The user's hold of the slot, taken when the form opened (partner_slot_hold): its token.
    hold = forms.CharField(label=_("Held time"), required=False, widget=forms.HiddenInput)
    patient = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # The patient's id, ticked under the same-day warning (as on the desk's BookingForm).
    same_day_ok = forms.IntegerField(label=_("I know, book anyway"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class NoteForm(forms.Form):
    """Change a booking's details (its note)."""

    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class BookingListFilterForm(forms.Form):
    """Filter the partner's bookings by institution, period and status."""

    institution = forms.TypedChoiceField(label=_("Institution"), coerce=int, required=False, empty_value=None)
    date_from = DayField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_until = DayField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Booking.Status.choices]
    )

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        field_of(self, "institution", forms.ChoiceField).choices = _choices(
            [(i.pk, i.name) for i in institutions], _("All institutions")
        )
