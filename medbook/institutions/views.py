"""The institution admin's Administration pages: one generic list/add/edit/delete, and the users page."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

from django.conf import settings
from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from medbook.accounts.security import reauthentication_required
from medbook.core.decorators import requires
from medbook.core.errors import DomainError
from medbook.core.forms import add_refusal, form_status
from medbook.core.meta import model_field
from medbook.core.permissions import Perm
from medbook.core.tenancy import Actor, ActorRequest, acting, get_for_actor, scoped
from medbook.institutions import forms
from medbook.institutions.models import Institution, Location, Physician, Service
from medbook.institutions.services import (
    institution_settings_update,
    tenant_object_delete,
    tenant_object_save,
)

administration = requires(Perm.ADMINISTER)


@dataclass(frozen=True)
class Column:
    """A column of a list: a model field, and what to show when it is empty."""

    name: str
    blank: str | Promise = "—"


@dataclass(frozen=True)
class Section:
    """One kind of the institution's objects, with its list, and its forms where it has them."""

    noun: str
    slug: str
    model: type[Model]
    title: str | Promise
    columns: tuple[Column, ...]
    form_class: type[forms.TenantForm] | None = None
    add_title: str | Promise = ""
    edit_title: str | Promise = ""
    group_by: str = ""
    order_by: tuple[str, ...] = ()
    deletable: bool = False
    namespace: str = "institutions"
    save: Callable[..., Model] = tenant_object_save  # the service that saves the form's object

    def url(self, verb: str, *args) -> str:
        return reverse(f"{self.namespace}:{self.noun}-{verb}", args=args)

    def objects(self, actor: Actor) -> QuerySet:
        """The actor's institution's objects, with what the columns show fetched up front."""
        names = [column.name for column in self.columns] + ([self.group_by] if self.group_by else [])
        fields = [self.model._meta.get_field(name) for name in names]
        queryset = scoped(self.model, actor).select_related(*[f.name for f in fields if f.many_to_one])
        queryset = queryset.prefetch_related(*[f.name for f in fields if f.many_to_many])
        return queryset.order_by(*self.order_by) if self.order_by else queryset


def cell(obj: Model, column: Column):
    """The value of a column for one object, as a person reads it."""
    field = model_field(obj, column.name)
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
# Working hours and leave are the scheduling app's sections (medbook.scheduling.administration); Traffic
# Channels is the partner module's matrix.
SECTIONS = (LOCATIONS, PHYSICIANS, SERVICES)


@administration
def object_list(request: ActorRequest, section: Section) -> HttpResponse:
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
        "headers": [capfirst(model_field(section.model, c.name).verbose_name) for c in section.columns],
        "rows": rows,
        "create_url": section.url("create") if section.form_class else "",
        "has_actions": bool(section.form_class or section.deletable),
    }
    return render(request, "institutions/object_list.html", context)


@administration
def object_create(request: ActorRequest, section: Section) -> HttpResponse:
    """Add an object to the institution."""
    return _object_form(request, section, instance=None)


@administration
def object_edit(request: ActorRequest, section: Section, pk: int) -> HttpResponse:
    """Change an object of the institution."""
    return _object_form(request, section, instance=get_for_actor(section.model, request.actor, pk))


def _object_form(request: ActorRequest, section: Section, instance: Model | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form_class = section.form_class
    if form_class is None:  # only a section with forms routes here (section_urls)
        raise Http404()
    form = form_class(data, instance=instance, institution=request.actor.institution)
    if form.is_bound and form.is_valid():
        try:
            section.save(actor=request.actor, form=form)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(section.url("list"))
    context = {
        "title": section.edit_title if instance else section.add_title,
        "form": form,
        "list_url": section.url("list"),
        "delete_url": section.url("delete", instance.pk) if instance and section.deletable else "",
    }
    return render(request, "institutions/object_form.html", context, status=form_status(form))


@administration
@require_POST
def object_delete(request: ActorRequest, section: Section, pk: int) -> HttpResponse:
    """Delete an object; a list row asking through htmx just disappears."""
    tenant_object_delete(actor=request.actor, obj=get_for_actor(section.model, request.actor, pk))
    if request.htmx and request.htmx.target:
        return HttpResponse("")
    messages.success(request, _("Deleted."))
    if request.htmx:
        return HttpResponseClientRedirect(section.url("list"))
    return redirect(section.url("list"))


def section_urls(section: Section, prefix: str = "") -> list[URLPattern]:
    """The list of a section and, where it has them, its add, edit and delete pages."""
    slug, noun, kwargs = section.slug, section.noun, {"section": section}
    urls = [path(f"{prefix}{slug}/", object_list, kwargs, name=f"{noun}-list")]
    if section.form_class:
        urls += [
            path(f"{prefix}{slug}/add/", object_create, kwargs, name=f"{noun}-create"),
            path(f"{prefix}{slug}/<int:pk>/", object_edit, kwargs, name=f"{noun}-edit"),
        ]
    if section.deletable:
        urls.append(path(f"{prefix}{slug}/<int:pk>/delete/", object_delete, kwargs, name=f"{noun}-delete"))
    return urls


@administration
@reauthentication_required
def institution_settings(request: ActorRequest) -> HttpResponse:
    """ "Institution settings": legal details, time zone, patients' e-mail language and the booking rules."""
    institution = acting(request.actor.institution)
    form = forms.InstitutionSettingsForm(
        request.POST or None, instance=Institution.objects.get(pk=institution.pk)
    )
    if form.is_bound and form.is_valid():
        try:
            institution_settings_update(actor=request.actor, values=form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("institutions:settings")
    # The institution's stable public booking address, for its own web site to link to (issue 22).
    online_url = f"{settings.SITE_URL}{reverse('online:institution', args=[institution.pk])}"
    context = {"form": form, "institution": institution, "online_url": online_url}
    return render(request, "institutions/settings.html", context, status=form_status(form))
