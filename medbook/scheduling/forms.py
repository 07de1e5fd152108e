"""Forms of the calendar (choosing a calendar, booking a slot, moving a booking) and of the working hours
and leave in Administration."""

from datetime import date, datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medbook.core.errors import DomainError
from medbook.core.forms import DayField, check_day, field_of
from medbook.core.tenancy import Actor, scoped
from medbook.institutions.forms import TenantForm
from medbook.institutions.models import Location, Physician, Service
from medbook.scheduling.models import ScheduleException, TrafficChannel, WorkingHours
from medbook.scheduling.validators import working_hours_clash


def monday_of(day: date) -> date:
    """The Monday of the week holding the day."""
    return day - timedelta(days=day.weekday())


class AwareDateTimeField(forms.CharField):
    """An ISO 8601 date-time with its UTC offset, as the calendar's slot buttons send it."""

    default_error_messages = {"invalid": _("Enter a valid date and time.")}

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if timezone.is_naive(parsed):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        check_day(parsed)
        return parsed


def slot_start(value: object) -> datetime:
    """The start of the slot a calendar's button opens (its `starts_at`), or a refusal saying why not."""
    try:
        return AwareDateTimeField().clean(value)
    except forms.ValidationError as error:
        raise DomainError(" ".join(error.messages), field="starts_at") from None


class CalendarFilterForm(forms.Form):
    """Which calendars to show: location, physician (or all), service and week."""

    location = forms.ModelChoiceField(queryset=Location.objects.none(), label=_("Location"))
    physician = forms.ModelChoiceField(
        queryset=Physician.objects.none(),
        label=_("Physician"),
        required=False,
        empty_label=_("All physicians"),
    )
    service = forms.ModelChoiceField(queryset=Service.objects.none(), label=_("Service"))
    week = DayField(label=_("Week of"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actor: Actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        locations = scoped(Location, actor).filter(is_active=True)
        physicians = scoped(Physician, actor).filter(is_active=True)
        services = scoped(Service, actor).filter(is_active=True)
        field_of(self, "location", forms.ModelChoiceField).queryset = locations
        field_of(self, "physician", forms.ModelChoiceField).queryset = physicians
        field_of(self, "service", forms.ModelChoiceField).queryset = services
        if not self.is_bound:
            self.initial.setdefault("location", locations.first())
            self.initial.setdefault("service", services.first())

    def clean_week(self) -> date:
        return monday_of(self.cleaned_data.get("week") or timezone.localdate())


class FirstFreeForm(forms.Form):
    """The service (at every location, or the location chosen) whose first free time the desk searches across
    the physicians it may book (issue 23): the calendar filters' service and location, and the choice of
    every location."""

    service = forms.ModelChoiceField(
        queryset=Service.objects.none(),
        label=_("Service"),
        error_messages={"required": _("Choose a service.")},
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.none(), label=_("Location"), required=False, empty_label=_("All locations")
    )
    every_location = forms.BooleanField(label=_("At every location"), required=False)

    def __init__(self, *args, actor: Actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field_of(self, "service", forms.ModelChoiceField).queryset = scoped(Service, actor).filter(
            is_active=True
        )
        field_of(self, "location", forms.ModelChoiceField).queryset = scoped(Location, actor).filter(
            is_active=True
        )


class BookingForm(forms.Form):
    """Book a free slot: an existing patient or a new one, and the channel it came through."""

    starts_at = AwareDateTimeField(widget=forms.HiddenInput)
    # The desk user's hold of the slot, taken when the form opened (holds.slot_hold): its token, which is
    # its holder's own and useless to anyone else.
    hold = forms.CharField(label=_("Held time"), required=False, widget=forms.HiddenInput)
    patient = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # "I know, book anyway": the patient's id, ticked under the warning that the patient already has a visit
    # that day (`policy.same_day_refuse`); it acknowledges that patient's visits only.
    same_day_ok = forms.IntegerField(label=_("I know, book anyway"), required=False)
    channel = forms.ModelChoiceField(queryset=TrafficChannel.objects.none(), label=_("Booking source"))
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, actor: Actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        channels = scoped(TrafficChannel, actor).filter(is_active=True, partner__isnull=True)
        field_of(self, "channel", forms.ModelChoiceField).queryset = channels
        self.fields["channel"].initial = channels.filter(code="reception").first()


class MoveForm(forms.Form):
    """Move a booking to another start time."""

    starts_at = AwareDateTimeField(label=_("New time"))
    # Choosing a time asks first (the old and the new time, "Move" / "Back"); only the confirmed post moves.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


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
        super().clean()
        cleaned = self.cleaned_data
        self.check_order("start_time", "end_time", _("“Until” must be later than “from”."), strict=True)
        self.check_order(
            "valid_from", "valid_until", _("“Valid until” cannot be before “valid from”."), strict=False
        )
        self.check_works_at(cleaned.get("physician"), cleaned.get("location"))
        return cleaned

    def _post_clean(self) -> None:
        """With the instance filled in, show the overlap the service would refuse (one rule, one place)."""
        super()._post_clean()  # type: ignore[misc]  # Django's BaseModelForm._post_clean: not in its stubs
        if not self.errors:
            clash = working_hours_clash(self.instance)
            if clash is not None:
                self.add_error(None, clash)


class ScheduleExceptionForm(TenantForm):
    class Meta:
        model = ScheduleException
        fields = ["physician", "location", "kind", "date_from", "date_until", "note"]
        widgets = {"date_from": DATE_WIDGET, "date_until": DATE_WIDGET}

    def __init__(self, *args, institution, **kwargs) -> None:
        super().__init__(*args, institution=institution, **kwargs)
        field_of(self, "location", forms.ModelChoiceField).empty_label = _("All locations")

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        self.check_order("date_from", "date_until", _("“Until” cannot be before “from”."), strict=False)
        self.check_works_at(cleaned.get("physician"), cleaned.get("location"))
        return cleaned
