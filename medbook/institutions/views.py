"""The institution admin's Administration pages: one generic list/add/edit/delete, and the users page."""

from dataclasses import dataclass
from datetime import time

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from medbook.accounts.models import Membership
from medbook.accounts.services import membership_set_active, user_invite
from medbook.core.decorators import requires
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.permissions import Perm
from medbook.core.tenancy import get_for_actor, scoped
from medbook.institutions import forms
from medbook.institutions.models import Location, Physician, Service
from medbook.institutions.services import tenant_object_delete, tenant_object_save
from medbook.scheduling.models import ScheduleException, WorkingHours

administration = requires(Perm.ADMINISTER)


def add_domain_error(form: Form, error: DomainError) -> None:
    """Show a service's refusal on the form, next to its field where the service names one."""
    if isinstance(error, NotPermitted):
        raise error
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


@dataclass(frozen=True)
class Column:
    """A column of a list: a model field, and what to show when it is empty."""

    name: str
    blank: str = "—"


@dataclass(frozen=True)
class Section:
    """One kind of the institution's objects, with its list, and its forms where it has them."""

    noun: str
    slug: str
    model: type[Model]
    title: str
    columns: tuple[Column, ...]
    form_class: type[forms.TenantForm] | None = None
    add_title: str = ""
    edit_title: str = ""
    group_by: str = ""
    order_by: tuple[str, ...] = ()
    deletable: bool = False

    def url(self, verb: str, *args) -> str:
        return reverse(f"institutions:{self.noun}-{verb}", args=args)

    def objects(self, actor) -> QuerySet:
        """The actor's institution's objects, with what the columns show fetched up front."""
        names = [column.name for column in self.columns] + ([self.group_by] if self.group_by else [])
        fields = [self.model._meta.get_field(name) for name in names]
        queryset = scoped(self.model, actor).select_related(*[f.name for f in fields if f.many_to_one])
        queryset = queryset.prefetch_related(*[f.name for f in fields if f.many_to_many])
        return queryset.order_by(*self.order_by) if self.order_by else queryset


def cell(obj: Model, column: Column):
    """The value of a column for one object, as a person reads it."""
    field = obj._meta.get_field(column.name)
    if field.many_to_many:
        return ", ".join(str(related) for related in getattr(obj, column.name).all()) or column.blank
    if field.choices:
        return getattr(obj, f"get_{column.name}_display")()
    value = getattr(obj, column.name)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return column.blank if value in (None, "") else value


LOCATIONS = Section(
    noun="location",
    slug="locations",
    model=Location,
    title=gettext_lazy("Locations"),
    columns=(Column("name"), Column("address"), Column("opening_hours"), Column("is_active")),
    form_class=forms.LocationForm,
    add_title=gettext_lazy("Add location"),
    edit_title=gettext_lazy("Edit location"),
)
PHYSICIANS = Section(
    noun="physician",
    slug="physicians",
    model=Physician,
    title=gettext_lazy("Physicians"),
    columns=(Column("full_name"), Column("specialty"), Column("locations"), Column("is_active")),
    form_class=forms.PhysicianForm,
    add_title=gettext_lazy("Add physician"),
    edit_title=gettext_lazy("Edit physician"),
)
SERVICES = Section(
    noun="service",
    slug="services",
    model=Service,
    title=gettext_lazy("Services"),
    columns=(
        Column("name"),
        Column("duration_minutes"),
        Column("price"),
        Column("currency"),
        Column("locations"),
        Column("physicians"),
        Column("is_active"),
    ),
    form_class=forms.ServiceForm,
    add_title=gettext_lazy("Add service"),
    edit_title=gettext_lazy("Edit service"),
)
WORKING_HOURS = Section(
    noun="workinghours",
    slug="working-hours",
    model=WorkingHours,
    title=gettext_lazy("Working hours"),
    columns=(
        Column("location"),
        Column("weekday"),
        Column("start_time"),
        Column("end_time"),
        Column("valid_from"),
        Column("valid_until"),
    ),
    form_class=forms.WorkingHoursForm,
    add_title=gettext_lazy("Add working hours"),
    edit_title=gettext_lazy("Edit working hours"),
    group_by="physician",
    order_by=("physician__full_name", "physician_id", "weekday", "start_time"),
    deletable=True,
)
EXCEPTIONS = Section(
    noun="exception",
    slug="leave",
    model=ScheduleException,
    title=gettext_lazy("Leave and holidays"),
    columns=(
        Column("physician"),
        Column("location", blank=gettext_lazy("All locations")),
        Column("kind"),
        Column("date_from"),
        Column("date_until"),
        Column("note"),
    ),
    form_class=forms.ScheduleExceptionForm,
    add_title=gettext_lazy("Add leave or holiday"),
    edit_title=gettext_lazy("Edit leave or holiday"),
    deletable=True,
)
# Traffic Channels is the partner module's matrix (medbook.partners.views.channel_matrix).
SECTIONS = (LOCATIONS, PHYSICIANS, SERVICES, WORKING_HOURS, EXCEPTIONS)


@administration
def object_list(request: HttpRequest, section: Section) -> HttpResponse:
    """List the institution's objects of a section (grouped where the section says so)."""
    rows = [
        {
            "pk": obj.pk,
            "cells": [cell(obj, column) for column in section.columns],
            "group": getattr(obj, section.group_by) if section.group_by else None,
            "edit_url": section.url("edit", obj.pk) if section.form_class else "",
            "delete_url": section.url("delete", obj.pk) if section.deletable else "",
        }
        for obj in section.objects(request.actor)
    ]
    context = {
        "section": section,
        "headers": [capfirst(section.model._meta.get_field(c.name).verbose_name) for c in section.columns],
        "rows": rows,
        "create_url": section.url("create") if section.form_class else "",
        "has_actions": bool(section.form_class or section.deletable),
    }
    return render(request, "institutions/object_list.html", context)


@administration
def object_create(request: HttpRequest, section: Section) -> HttpResponse:
    """Add an object to the institution."""
    return _object_form(request, section, instance=None)


@administration
def object_edit(request: HttpRequest, section: Section, pk: int) -> HttpResponse:
    """Change an object of the institution."""
    return _object_form(request, section, instance=get_for_actor(section.model, request.actor, pk))


def _object_form(request: HttpRequest, section: Section, instance: Model | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = section.form_class(data, instance=instance, institution=request.actor.institution)
    if form.is_bound and form.is_valid():
        try:
            tenant_object_save(actor=request.actor, form=form)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(section.url("list"))
    context = {
        "title": section.edit_title if instance else section.add_title,
        "form": form,
        "list_url": section.url("list"),
        "delete_url": section.url("delete", instance.pk) if instance and section.deletable else "",
    }
    return render(request, "institutions/object_form.html", context)


@administration
@require_POST
def object_delete(request: HttpRequest, section: Section, pk: int) -> HttpResponse:
    """Delete an object; a list row asking through htmx just disappears."""
    tenant_object_delete(actor=request.actor, obj=get_for_actor(section.model, request.actor, pk))
    if request.htmx and request.htmx.target:
        return HttpResponse("")
    messages.success(request, _("Deleted."))
    if request.htmx:
        return HttpResponseClientRedirect(section.url("list"))
    return redirect(section.url("list"))


def _memberships(actor) -> QuerySet[Membership]:
    """The memberships of the organisation the actor acts for (memberships have no institution path)."""
    if actor.organization is None:
        return Membership.objects.none()
    return (
        Membership.objects.filter(organization=actor.organization)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


@administration
def user_list(request: HttpRequest) -> HttpResponse:
    """List the people who act for the institution, with their role and whether they still may."""
    return render(request, "institutions/user_list.html", {"memberships": _memberships(request.actor)})


@administration
def user_create(request: HttpRequest) -> HttpResponse:
    """Invite a person; they get an email with a link to set a password (B-10)."""
    form = forms.UserInviteForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            membership = user_invite(actor=request.actor, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if membership.user.has_usable_password():
                note = _("%(email)s already has an account and can now act for this institution.")
            else:
                note = _("An invitation to set a password is on its way to %(email)s.")
            messages.success(request, note % {"email": membership.user.email})
            return redirect("institutions:user-list")
    context = {"title": _("Add user"), "form": form, "list_url": reverse("institutions:user-list")}
    return render(request, "institutions/object_form.html", context)


@administration
@require_POST
def user_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (access ends with the next request) or reactivate a user."""
    membership = get_object_or_404(_memberships(request.actor), pk=pk)
    error = ""
    try:
        membership = membership_set_active(
            actor=request.actor, membership=membership, active=request.POST.get("active") == "1"
        )
    except DomainError as refusal:
        if isinstance(refusal, NotPermitted):
            raise
        error = str(refusal.message)
    if request.htmx:
        context = {"membership": membership, "error": error}
        return render(request, "institutions/user_list.html#user-row", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Saved."))
    return redirect("institutions:user-list")
