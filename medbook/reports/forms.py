"""The filters of the reports (read from the query string)."""

from calendar import monthrange
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from medbook.accounts.models import Organization
from medbook.core.forms import DayField, field_of
from medbook.core.tenancy import Actor, acting
from medbook.institutions.models import Location, Physician, Service
from medbook.reports.selectors import Period, report_partners
from medbook.scheduling.models import Booking
from medbook.scheduling.services import CANCEL_REASON_MAX

MAX_DAYS = 366
STATUS_CHOICES = [("", _("All"))] + list(Booking.Status.choices)
PAYMENT_CHOICES = [("", _("All"))] + list(Booking.PaymentStatus.choices)


def this_month(time_zone: str) -> tuple[date, date]:
    """The first and last local day of the current month in the zone."""
    today = datetime.now(ZoneInfo(time_zone)).date()
    return today.replace(day=1), today.replace(day=monthrange(today.year, today.month)[1])


def last_month(time_zone: str) -> tuple[date, date]:
    """The first and last local day of the month before the current one (the one usually settled)."""
    first, _last = this_month(time_zone)
    end = first - timedelta(days=1)
    return end.replace(day=1), end


class PeriodForm(forms.Form):
    """A period of local days; the current month when none is given."""

    date_from = DayField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_until = DayField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, *, time_zone: str, **kwargs) -> None:
        self.time_zone = time_zone
        data = data.copy()
        first, last = this_month(time_zone)
        if not data.get("date_from"):
            data["date_from"] = first.isoformat()
        if not data.get("date_until"):
            data["date_until"] = last.isoformat()
        super().__init__(data, **kwargs)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("date_from"), cleaned.get("date_until")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The period must end on or after its first day."))
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(_("Choose a period of at most a year."))
        return cleaned

    def period(self) -> Period:
        """The chosen period, or the current month when the input is invalid."""
        self.is_valid()
        data = self.cleaned_data
        if "date_from" in data and "date_until" in data and not self.non_field_errors():
            return Period(data["date_from"], data["date_until"], self.time_zone)
        return Period(*this_month(self.time_zone), self.time_zone)


class BookingReportForm(PeriodForm):
    """R-1: period, location, physician, service, status, sent by partners only."""

    location = forms.ModelChoiceField(label=_("Location"), queryset=Location.objects.none(), required=False)
    physician = forms.ModelChoiceField(
        label=_("Physician"), queryset=Physician.objects.none(), required=False
    )
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    partners_only = forms.BooleanField(label=_("Sent by partners only"), required=False)

    def __init__(self, data, *, actor: Actor, **kwargs) -> None:
        institution = acting(actor.institution)
        super().__init__(data, time_zone=institution.time_zone, **kwargs)
        locations = Location.objects.filter(institution=institution).order_by("name")
        physicians = Physician.objects.filter(institution=institution).order_by("full_name")
        field_of(self, "location", forms.ModelChoiceField).queryset = locations
        field_of(self, "physician", forms.ModelChoiceField).queryset = physicians
        field_of(self, "service", forms.ModelChoiceField).queryset = Service.objects.filter(
            institution=institution
        ).order_by("name")

    def filters(self) -> dict:
        self.is_valid()  # an invalid filter is left out, the valid ones still apply
        data = self.cleaned_data
        return {
            "location": data.get("location"),
            "physician": data.get("physician"),
            "service": data.get("service"),
            "status": data.get("status", ""),
            "partners_only": bool(data.get("partners_only")),
        }


class TrafficForm(PeriodForm):
    """R-2: period, and partner bookings only."""

    partners_only = forms.BooleanField(label=_("Sent by partners only"), required=False)


class PartnerBookingsForm(PeriodForm):
    """R-3: period, partner, status (attendance), payment status."""

    partner = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("All partners"),
    )
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    payment_status = forms.ChoiceField(label=_("Payment"), choices=PAYMENT_CHOICES, required=False)

    def __init__(self, data, *, actor: Actor, **kwargs) -> None:
        super().__init__(data, time_zone=acting(actor.institution).time_zone, **kwargs)
        field_of(self, "partner", forms.ModelChoiceField).queryset = report_partners(actor=actor)

    def filters(self) -> dict:
        self.is_valid()  # an invalid filter is left out, the valid ones still apply
        data = self.cleaned_data
        return {
            "partner": data.get("partner"),
            "status": data.get("status", ""),
            "payment_status": data.get("payment_status", ""),
        }


class PartnerBookingCancelForm(forms.Form):
    """R-3: cancelling a partner's booking, with an optional reason the partner is told."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=CANCEL_REASON_MAX,
        widget=forms.Textarea(
            attrs={"rows": 2, "maxlength": CANCEL_REASON_MAX, "aria-describedby": "reason-help"}
        ),
        help_text=_("Optional. The partner reads it in the e-mail that tells of the cancellation."),
    )
