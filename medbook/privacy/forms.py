"""The forms of the data-rights pages: when the patient asked, what to export, why to erase."""

from django import forms
from django.utils.translation import gettext_lazy as _

from medbook.core.forms import DayField
from medbook.privacy.models import DataRequest


class ReceivedForm(forms.Form):
    """The day the patient's request arrived (today if left empty): its due date counts from it."""

    id_prefix = "received"  # the rights page shows several of these forms: each its own element ids

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)

    received_on = DayField(
        label=_("Request received on"),
        required=False,
        help_text=_("Leave empty for today. The answer is due one month later."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class RequestForm(ReceivedForm):
    """Log a request received, to be answered later."""

    id_prefix = "request"

    kind = forms.ChoiceField(label=_("Request"), choices=DataRequest.Kind.choices)


class ExportForm(ReceivedForm):
    """Export the patient's data: as JSON to take away (Art. 20) or as a readable page (Art. 15)."""

    id_prefix = "export"

    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("html", _("Readable page (print or save as PDF)")), ("json", _("JSON file"))],
    )


class RestrictForm(ReceivedForm):
    """Restrict the patient's record, or lift the restriction."""

    id_prefix = "restrict"

    restrict = forms.TypedChoiceField(
        choices=[("1", _("Restrict")), ("0", _("Lift the restriction"))], coerce=lambda value: value == "1"
    )


class EraseForm(ReceivedForm):
    """Erase the patient: why, and a deliberate confirmation."""

    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(
        label=_("I understand that the patient's identity cannot be restored."), required=True
    )
