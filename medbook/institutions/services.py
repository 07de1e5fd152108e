"""Writes for institutions' objects (locations, physicians, services) from the Administration pages.

An institution itself is created by `medbook.scheduling.services.institution_create`, with its channels.
"""

from django.db import transaction

from medbook.core.permissions import Perm, require


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
