"""Writes for institutions and their settings."""

from django.db import transaction

from medbook.accounts.models import Organization
from medbook.core.permissions import Perm, require
from medbook.institutions.models import Institution
from medbook.scheduling.services import channels_create_defaults


@transaction.atomic
def institution_create(*, name: str, time_zone: str = "Europe/Budapest", **details) -> Institution:
    """Create an institution with its built-in traffic channels (an operator's act)."""
    institution = Institution.objects.create(
        kind=Organization.Kind.INSTITUTION, name=name, time_zone=time_zone, **details
    )
    channels_create_defaults(institution=institution)
    return institution


@transaction.atomic
def tenant_object_save(*, actor, form):
    """Save an administration form's object inside the actor's institution."""
    require(actor, Perm.ADMINISTER)
    obj = form.save(commit=False)
    if getattr(type(obj), "tenant_path", "institution") == "institution":
        obj.institution = actor.institution
    require(actor, Perm.ADMINISTER, obj)
    for related in _tenant_relations(obj, form):
        require(actor, Perm.ADMINISTER, related)
    obj.save()
    form.save_m2m()
    return obj


def _is_tenant_model(model) -> bool:
    return hasattr(model, "tenant_path") or any(f.name == "institution" for f in model._meta.concrete_fields)


def _tenant_relations(obj, form):
    """Every tenant object the form links to (foreign keys and many-to-many choices)."""
    for field in obj._meta.concrete_fields:
        if field.is_relation and field.name != "institution" and _is_tenant_model(field.related_model):
            related = getattr(obj, field.name)
            if related is not None:
                yield related
    for field in obj._meta.many_to_many:
        if field.name in form.cleaned_data and _is_tenant_model(field.related_model):
            yield from form.cleaned_data[field.name]


@transaction.atomic
def tenant_object_delete(*, actor, obj) -> None:
    """Delete an administration object of the actor's institution."""
    require(actor, Perm.ADMINISTER, obj)
    obj.delete()
