"""Writes for institutions' objects (locations, physicians, services) from the Administration pages.

An institution itself is created by `medbook.scheduling.services.institution_create`, with its channels.
"""

from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError
from medbook.core.legal import (
    an_institution_not_a_legal_entity,
    validate_phone,
    validate_registration_number,
    validate_tax_number,
)
from medbook.core.meta import model_field
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor, acting
from medbook.institutions.models import Institution

# What the institution's admin sets on "Institution settings" (B-12); currency and kind are the operator's.
SETTINGS_FIELDS = (
    "name",
    "registration_number",
    "tax_number",
    "address",
    "country",
    "phone",
    "time_zone",
    "language",
    "no_show_earns_commission",
    "slot_grid_minutes",
    "booking_horizon_days",
    "partner_cutoff_minutes",
    "patient_cutoff_minutes",
    "release_unconfirmed_hours",
    "attendance_grace_minutes",
    "retention_years",
    "online_booking",
    "privacy_notice",
    "online_approval_no_shows",
)
PATIENT_LANGUAGES = ("hu", "en")


@transaction.atomic
def tenant_object_save(*, actor: Actor, form):
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
def tenant_object_delete(*, actor: Actor, obj) -> None:
    """Delete an administration object of the actor's institution."""
    require(actor, Perm.ADMINISTER, obj)
    obj.delete()


def institution_settings_errors(values: dict) -> tuple[dict, dict[str, str]]:
    """The institution's settings normalised, and what is wrong with them, field by field (B-12).

    Registration and tax numbers are checked as a partner's are (B-1, `medbook.core.legal`); the numbers
    against the model's own limits.
    """
    cleaned, errors = dict(values), {}
    country = (values.get("country") or "HU").upper()
    cleaned["country"] = country
    cleaned["name"] = " ".join((values.get("name") or "").split())
    if not cleaned["name"]:
        errors["name"] = str(_("The name is required."))
    checks = {
        "registration_number": lambda v: validate_registration_number(v, country),
        "tax_number": lambda v: validate_tax_number(v, country, an_institution_not_a_legal_entity),
        "phone": lambda v: validate_phone(v, country) if v.strip() else "",
    }
    for field, check in checks.items():
        try:
            cleaned[field] = check(values.get(field) or "")
        except ValidationError as error:
            errors[field] = error.messages[0]
    if values.get("time_zone") not in available_timezones():
        errors["time_zone"] = str(_("Choose a time zone from the list."))
    if values.get("language") not in PATIENT_LANGUAGES:
        errors["language"] = str(_("Choose a language from the list."))
    for name in (
        "slot_grid_minutes",
        "booking_horizon_days",
        "partner_cutoff_minutes",
        "patient_cutoff_minutes",
        "release_unconfirmed_hours",
        "attendance_grace_minutes",
        "retention_years",
        "online_approval_no_shows",
    ):
        db_field = model_field(Institution, name)
        value = values.get(name)
        if value is None:
            if not db_field.null:
                errors[name] = str(_("This field is required."))
            continue
        try:
            db_field.run_validators(int(value))
        except (TypeError, ValueError):
            errors[name] = str(_("Enter a whole number."))
        except ValidationError as error:
            errors[name] = error.messages[0]
        else:
            cleaned[name] = int(value)
    cleaned["no_show_earns_commission"] = bool(values.get("no_show_earns_commission"))
    cleaned["online_booking"] = bool(values.get("online_booking"))
    cleaned["privacy_notice"] = str(values.get("privacy_notice") or "").replace("\x00", "").strip()
    notice_max = model_field(Institution, "privacy_notice").max_length or 0
    if len(cleaned["privacy_notice"]) > notice_max:
        errors["privacy_notice"] = str(
            _("The privacy notice can be at most %(max)s characters.") % {"max": notice_max}
        )
    elif cleaned["online_booking"] and not cleaned["privacy_notice"]:
        errors["privacy_notice"] = str(
            _("Write the privacy notice patients accept before turning online booking on.")
        )
    return cleaned, errors


@transaction.atomic
def institution_settings_update(*, actor: Actor, values: dict) -> Institution:
    """The institution's admin changes its legal details and booking rules (B-12); audited with the changes.

    Every value is checked here (`institution_settings_errors`), whichever page or API sends it.
    """
    require(actor, Perm.ADMINISTER)
    institution = Institution.objects.select_for_update().get(pk=acting(actor.institution).pk)  # only its own
    cleaned, errors = institution_settings_errors({f: values.get(f) for f in SETTINGS_FIELDS})
    for field, message in errors.items():
        raise DomainError(message, field=field)
    changes = {}
    for field in SETTINGS_FIELDS:
        before, after = getattr(institution, field), cleaned[field]
        if before != after:
            changes[field] = [before, after]
            setattr(institution, field, after)
    if changes:
        institution.save()
        audit_record(
            actor=actor, action=AuditAction.INSTITUTION_SETTINGS_UPDATE, obj=institution, changes=changes
        )
    return institution
