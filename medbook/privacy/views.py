"""The data-rights pages of a patient's record and the institution's requests log (issue 24): an
institution admin's only (`rights.patient_for_rights`: another institution's patient is 404); and the records
of processing, the institution's and the partner's side (`records`)."""

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medbook.accounts.security import reauthentication_required
from medbook.core.decorators import page
from medbook.core.errors import DomainError
from medbook.core.forms import add_refusal, form_status
from medbook.core.permissions import Perm
from medbook.core.tenancy import ActorRequest, acting, scoped
from medbook.partners.views.common import partner_page
from medbook.privacy import records, rights, services
from medbook.privacy.forms import EraseForm, ExportForm, RequestForm, RestrictForm
from medbook.privacy.models import DataRequest

administration = page(Perm.ADMINISTER, audience="institution")
FORMATS = ("html", "json")  # a record's page (printable) or its JSON download


@administration
def patient_rights(request: ActorRequest, pk: int) -> HttpResponse:
    """The patient's data rights: its requests, export, restriction, and the way to erasure."""
    patient = rights.patient_for_rights(actor=request.actor, patient_id=pk)
    return _rights_page(request, patient)


def _rights_page(request: ActorRequest, patient, status: int = 200, **forms) -> HttpResponse:
    context = {
        "patient": patient,
        "requests": DataRequest.objects.filter(patient=patient).order_by("-received_on", "-pk"),
        "request_form": forms.get("request_form") or RequestForm(),
        "export_form": forms.get("export_form") or ExportForm(),
        "restrict_form": forms.get("restrict_form") or RestrictForm(),
    }
    return render(request, "privacy/patient_rights.html", context, status=status)


@administration
@require_POST
def request_create(request: ActorRequest, pk: int) -> HttpResponse:
    """Log a request received (answered later by the export, restriction or erasure)."""
    patient = rights.patient_for_rights(actor=request.actor, patient_id=pk)
    form = RequestForm(request.POST)
    if not form.is_valid():
        return _rights_page(request, patient, form_status(form), request_form=form)
    received = form.cleaned_data["received_on"] or services.institution_today(patient)
    services.data_request_record(
        actor=request.actor, patient=patient, kind=form.cleaned_data["kind"], received_on=received
    )
    messages.success(request, _("The request was logged."))
    return redirect("privacy:patient-rights", pk=patient.pk)


@administration
@require_POST
def patient_export(request: ActorRequest, pk: int) -> HttpResponse:
    """Everything held about the patient: a JSON file, or a printable page in the institution's language."""
    patient = rights.patient_for_rights(actor=request.actor, patient_id=pk)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _rights_page(request, patient, form_status(form), export_form=form)
    portable = form.cleaned_data["format"] == "json"
    document = services.patient_export_record(
        actor=request.actor, patient=patient, portable=portable, received_on=form.cleaned_data["received_on"]
    )
    if portable:
        return _json_download(document, f"patient-{patient.pk}.json")
    institution = acting(request.actor.institution)
    with translation.override(institution.language):
        return render(
            request,
            "privacy/patient_export.html",
            {"document": document, "institution": institution, "language": institution.language},
        )


@administration
@require_POST
def patient_restriction(request: ActorRequest, pk: int) -> HttpResponse:
    """Restrict the patient's record (Art. 18), or lift the restriction."""
    patient = rights.patient_for_rights(actor=request.actor, patient_id=pk)
    form = RestrictForm(request.POST)
    if not form.is_valid():
        return _rights_page(request, patient, form_status(form), restrict_form=form)
    restrict = form.cleaned_data["restrict"]
    services.patient_restrict(
        actor=request.actor, patient=patient, restrict=restrict, received_on=form.cleaned_data["received_on"]
    )
    messages.success(
        request, _("The record is restricted.") if restrict else _("The restriction was lifted.")
    )
    return redirect("privacy:patient-rights", pk=patient.pk)


@administration
@reauthentication_required
def patient_erase(request: ActorRequest, pk: int) -> HttpResponse:
    """Erase the patient (Art. 17) after the password again: what is erased, what is kept and until when,
    and what still holds the identity (the erasure then restricts the patient until it no longer does)."""
    patient = rights.patient_for_rights(actor=request.actor, patient_id=pk)
    form = EraseForm(request.POST or None)
    status = 200
    if form.is_bound and form.is_valid():
        try:
            result = services.patient_erase(
                actor=request.actor,
                patient=patient,
                reason=form.cleaned_data["reason"],
                received_on=form.cleaned_data["received_on"],
            )
        except DomainError as error:
            status = add_refusal(form, error)
        else:
            if result.erased:
                messages.success(request, _("The patient's data was erased."))
            else:
                messages.warning(
                    request,
                    _(
                        "The patient's data is still needed: the record is restricted until nothing below holds it."
                    ),
                )
            return redirect("privacy:patient-erase" if not result.erased else "privacy:patient-rights", pk=pk)
    elif form.is_bound:
        status = form_status(form)
    context = {
        "patient": patient,
        "form": form,
        "holds": rights.erasure_holds(patient) if patient.erased_at is None else [],
        "kept": rights.erasure_keeps(patient),
    }
    return render(request, "privacy/patient_erase.html", context, status=status)


@administration
def request_list(request: ActorRequest) -> HttpResponse:
    """The institution's requests log: received, due, answered (in time or not)."""
    requests = scoped(DataRequest, request.actor).select_related("patient", "institution")
    page_of = Paginator(requests.order_by("-received_on", "-pk"), 50).get_page(request.GET.get("page"))
    return render(request, "privacy/request_list.html", {"page": page_of})


def _json_download(document: dict, filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _record_format(request: ActorRequest) -> str:
    chosen = request.GET.get("format") or "html"
    if chosen not in FORMATS:
        raise DomainError(_("Choose the format html or json."))
    return chosen


def _record_answer(
    request: ActorRequest, chosen: str, document: dict, *, name: str, template: str, **context
) -> HttpResponse:
    """A record as its JSON download (`name`.json), or its printable page in the record's language."""
    if chosen == "json":
        return _json_download(document, f"{name}.json")
    with translation.override(document["language"]):
        return render(request, template, {"document": document, **context})


@page(Perm.VIEW_PROCESSING_RECORD, audience="institution")
def processing_record(request: ActorRequest) -> HttpResponse:
    """The institution's records of processing (Art. 30): a printable page in its language, or JSON."""
    chosen = _record_format(request)
    institution = records.institution_for_record(request.actor)
    document = records.processing_record(institution)
    name = f"processing-record-{institution.pk}"
    return _record_answer(
        request,
        chosen,
        document,
        name=name,
        template="privacy/processing_record.html",
        institution=institution,
    )


@partner_page(Perm.VIEW_PROCESSING_RECORD)
def partner_processing_record(request: ActorRequest) -> HttpResponse:
    """The partner's side: the processing it does for each institution it works with, page or JSON."""
    chosen = _record_format(request)
    partner = records.partner_for_record(request.actor)
    document = records.partner_processing_record(partner)
    name = f"partner-processing-record-{partner.pk}"
    return _record_answer(
        request, chosen, document, name=name, template="privacy/partner_processing_record.html"
    )
