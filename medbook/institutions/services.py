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
    obj.save()
    form.save_m2m()
    return obj


@transaction.atomic
def tenant_object_delete(*, actor, obj) -> None:
    """Delete an administration object of the actor's institution."""
    require(actor, Perm.ADMINISTER, obj)
    obj.delete()
