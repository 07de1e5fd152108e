"""The patient register: list, search, add, edit, merge duplicates."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from medbook.core.decorators import requires
from medbook.core.errors import DomainError
from medbook.core.permissions import Perm
from medbook.core.tenancy import ActorRequest, get_for_actor
from medbook.patients import selectors, services
from medbook.patients.forms import PatientForm, PatientMergeForm
from medbook.patients.models import Patient


@requires(Perm.VIEW_PATIENTS)
def patient_list(request: ActorRequest) -> HttpResponse:
    """The register, searchable, a page at a time."""
    query = request.GET.get("q", "").strip()
    patients = (
        selectors.patient_search(actor=request.actor, query=query, limit=200)
        if query
        else selectors.patient_list(actor=request.actor)
    )
    page = Paginator(patients, 25).get_page(request.GET.get("page"))
    services.patient_register_read(
        actor=request.actor, view="list", patients=page.object_list, query=query, page=page.number
    )
    template = "patients/patient_list.html#results" if request.htmx else "patients/patient_list.html"
    return render(request, template, {"page": page, "query": query})


@requires(Perm.VIEW_PATIENTS)
def patient_search(request: ActorRequest) -> HttpResponse:
    """A few matches for the booking form (at least two characters; never a listing)."""
    query = request.GET.get("q", "")
    results = selectors.patient_search(actor=request.actor, query=query)
    if len(query.strip()) >= selectors.MIN_QUERY_LENGTH:
        services.patient_register_read(actor=request.actor, view="search", patients=results, query=query)
    return render(
        request,
        "patients/patient_search.html",
        {"results": results, "query": query, "min_length": selectors.MIN_QUERY_LENGTH},
    )


@requires(Perm.MANAGE_PATIENTS)
def patient_create(request: ActorRequest) -> HttpResponse:
    """Add a patient to the register."""
    form = PatientForm(request.POST or None, institution=request.actor.institution)
    if request.method == "POST" and form.is_valid():
        patient = services.patient_create(actor=request.actor, **form.cleaned_data)
        messages.success(request, _("Patient %(name)s was added.") % {"name": patient.full_name})
        return redirect("patients:patient-list")
    status = 422 if form.is_bound else 200
    return render(request, "patients/patient_form.html", {"form": form}, status=status)


@requires(Perm.MANAGE_PATIENTS)
def patient_edit(request: ActorRequest, pk: int) -> HttpResponse:
    """The patient's record: the visits at the institution, upcoming and past, and the details to change."""
    patient = get_for_actor(Patient, request.actor, pk)
    form = PatientForm(request.POST or None, instance=patient, institution=request.actor.institution)
    if request.method == "POST" and form.is_valid():
        services.patient_update(actor=request.actor, patient=patient, **form.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect("patients:patient-list")
    if not form.is_bound:
        services.patient_register_read(actor=request.actor, view="record", patients=[patient])
    status = 422 if form.is_bound else 200
    context = {
        "form": form,
        "patient": patient,
        "attendance": selectors.attendance_of(patient),
        "visits": selectors.patient_visits(actor=request.actor, patient=patient),
    }
    return render(request, "patients/patient_form.html", context, status=status)


@requires(Perm.MANAGE_PATIENTS)
def patient_duplicates(request: ActorRequest) -> HttpResponse:
    """Records that share a TAJ number (e.g. entered by a partner without patient-data access, P-15), each
    with "Merge" into the group's first record (POST keep, duplicate) and, for each detail on which they
    differ, the choice of the value to keep: the kept record's own unless another is chosen (issue 19)."""
    bound = None
    if request.method == "POST":
        keep = get_for_actor(Patient, request.actor, request.POST.get("keep"))
        duplicate = get_for_actor(Patient, request.actor, request.POST.get("duplicate"))
        bound = PatientMergeForm(request.POST, keep=keep, duplicate=duplicate)
        if bound.is_valid():
            return _merge(request, bound)
        messages.error(request, _("Choose, for each detail, which record's value to keep."))
    groups = selectors.patient_duplicate_groups(actor=request.actor)
    context = {"groups": [_merge_rows(group, bound) for group in groups]}
    return render(request, "patients/patient_duplicates.html", context, status=422 if bound else 200)


def _merge(request: ActorRequest, form: PatientMergeForm) -> HttpResponse:
    keep, duplicate = form.keep, form.duplicate
    try:
        services.patient_merge(actor=request.actor, keep=keep, duplicate=duplicate, take=form.taken())
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("%(duplicate)s was merged into %(keep)s.")
            % {"duplicate": duplicate.full_name, "keep": keep.full_name},
        )
    return redirect("patients:patient-duplicates")


def _merge_rows(group: list[Patient], bound: PatientMergeForm | None) -> list[tuple[Patient, object]]:
    """A group's records, each but the first (the one kept) with its merge form (the posted one, if so)."""
    keep = group[0]
    rows: list[tuple[Patient, object]] = [(keep, None)]
    for patient in group[1:]:
        posted = bound is not None and (bound.keep.pk, bound.duplicate.pk) == (keep.pk, patient.pk)
        rows.append((patient, bound if posted else PatientMergeForm(keep=keep, duplicate=patient)))
    return rows
