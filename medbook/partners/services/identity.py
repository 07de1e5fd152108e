"""A verified partner's legal record (P-14, issue 19): its identity (name, country, registration and tax
numbers) changes only when the operator approves a request of its admins, the previous values kept in the
request; its headquarters address its admins keep up to date themselves. One transaction each, audited
here. The states: docs/partner-identity.md.
"""

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor, acting
from medbook.partners.models import IDENTITY_FIELDS, Partner, PartnerIdentityChange, Partnership
from medbook.partners.services.notices import identity_change_notice_send
from medbook.partners.services.verification import require_operator
from medbook.partners.validators import partner_details_errors, registry_key
from medbook.scheduling.models import TrafficChannel

LEGAL_FIELDS = (*IDENTITY_FIELDS, "address")
SELF_EDITED_FIELDS = ("address",)


def identity_of(partner: Partner) -> dict:
    """The partner's legal identity as it stands (the verified values)."""
    return {field: getattr(partner, field) for field in IDENTITY_FIELDS}


def _partner_admin_of_verified(actor: Actor) -> Partner:
    """The verified partner the actor administers, locked; anyone else may not touch its legal record."""
    require(actor, Perm.APPROVE_PARTNERSHIPS)
    if actor.partner is None:
        raise Http404()
    partner = Partner.objects.select_for_update().get(pk=actor.partner.pk)
    if not partner.is_verified:
        raise NotPermitted(_("Your company awaits verification: its details can be changed after it."))
    return partner


def _audit_for_institutions(*, actor: Actor, action: AuditAction, partner: Partner, **details) -> None:
    """The entry on the partner, and one in each institution's log that works with it."""
    audit_record(actor=actor, action=action, obj=partner, **details)
    for partnership in Partnership.objects.filter(partner=partner).exclude(
        status=Partnership.Status.PENDING_REGISTRATION
    ):
        audit_record(
            actor=actor,
            action=action,
            obj=partnership,
            institution_id=partnership.institution_id,
            **details,
        )


def _refuse_taken_registry_key(partner: Partner, values: dict) -> None:
    key = registry_key(values["country"], values["registration_number"])
    if Partner.objects.filter(registry_key=key).exclude(pk=partner.pk).exists():
        raise DomainError(
            _("Another partner is registered with this registration number."), field="registration_number"
        )


@transaction.atomic
def partner_details_update(*, actor: Actor, details: dict) -> PartnerIdentityChange | None:
    """The verified partner's admin saves "Organisation details": the address is changed at once; a new
    legal identity becomes a request the operator approves (replacing the admin's earlier pending one), the
    record keeping its verified values meanwhile; the verified values again withdraw a pending request.
    Return the pending request, if any."""
    partner = _partner_admin_of_verified(actor)
    cleaned, errors = partner_details_errors({field: details[field] for field in LEGAL_FIELDS})
    for field, messages in errors.items():
        raise DomainError(messages[0], field=field)
    changes = {
        field: [getattr(partner, field), cleaned[field]]
        for field in SELF_EDITED_FIELDS
        if getattr(partner, field) != cleaned[field]
    }
    if changes:
        for field, (_old, new) in changes.items():
            setattr(partner, field, new)
        partner.save(update_fields=list(changes))
        _audit_for_institutions(
            actor=actor, action=AuditAction.PARTNER_DETAILS_UPDATE, partner=partner, changes=changes
        )
    requested = {field: cleaned[field] for field in IDENTITY_FIELDS}
    pending = PartnerIdentityChange.objects.select_for_update().filter(
        partner=partner, status=PartnerIdentityChange.Status.PENDING
    )
    earlier = pending.first()
    if earlier is not None and earlier.new_values == requested:
        return earlier
    if requested != identity_of(partner):
        _refuse_taken_registry_key(partner, requested)
    if earlier is not None:
        _withdraw(earlier, actor=actor)
    if requested == identity_of(partner):
        return None
    change = PartnerIdentityChange.objects.create(
        partner=partner,
        old_values=identity_of(partner),
        new_values=requested,
        requested_by=acting(actor.user),
    )
    audit_record(
        actor=actor,
        action=AuditAction.PARTNER_IDENTITY_CHANGE_REQUEST,
        obj=partner,
        change_id=change.pk,
        old=change.old_values,
        new=change.new_values,
    )
    return change


def _withdraw(change: PartnerIdentityChange, *, actor: Actor) -> None:
    change.status, change.decided_by, change.decided_at = (
        PartnerIdentityChange.Status.WITHDRAWN,
        actor.user,
        timezone.now(),
    )
    change.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action=AuditAction.PARTNER_IDENTITY_CHANGE_WITHDRAW,
        obj=change.partner,
        change_id=change.pk,
    )


@transaction.atomic
def partner_identity_change_withdraw(*, actor: Actor) -> None:
    """The partner's admin withdraws its pending request; nothing else changes."""
    partner = _partner_admin_of_verified(actor)
    change = PartnerIdentityChange.objects.select_for_update().filter(
        partner=partner, status=PartnerIdentityChange.Status.PENDING
    )
    found = change.first()
    if found is None:
        raise DomainError(_("There is no request awaiting the operator."))
    _withdraw(found, actor=actor)


def _pending_change(change: PartnerIdentityChange) -> PartnerIdentityChange:
    change = PartnerIdentityChange.objects.select_for_update().get(pk=change.pk)
    if not change.is_pending:
        raise DomainError(_("This request has already been decided."))
    change.partner = Partner.objects.select_for_update().get(pk=change.partner_id)
    return change


@transaction.atomic
def partner_identity_change_approve(
    *, actor: Actor, change: PartnerIdentityChange, note: str = ""
) -> Partner:
    """The operator has checked the company register: the partner takes the requested identity."""
    require_operator(actor)
    change = _pending_change(change)
    partner = change.partner
    if identity_of(partner) != change.old_values:
        raise DomainError(_("The partner's record changed after this request: refuse it."))
    _refuse_taken_registry_key(partner, change.new_values)
    for field in IDENTITY_FIELDS:
        setattr(partner, field, change.new_values[field])
    partner.registry_key = registry_key(partner.country, partner.registration_number)
    try:
        with transaction.atomic():
            partner.save(update_fields=[*IDENTITY_FIELDS, "registry_key"])
    except IntegrityError:  # another partner took the number a moment ago
        raise DomainError(
            _("Another partner is registered with this registration number."), field="registration_number"
        ) from None
    if change.old_values["name"] != partner.name:
        TrafficChannel.objects.filter(partner=partner).update(name=partner.name)
    change.status, change.decided_by, change.decided_at, change.note = (
        PartnerIdentityChange.Status.APPROVED,
        actor.user,
        timezone.now(),
        note,
    )
    change.save(update_fields=["status", "decided_by", "decided_at", "note"])
    changes = {
        field: [change.old_values[field], change.new_values[field]]
        for field in IDENTITY_FIELDS
        if change.old_values[field] != change.new_values[field]
    }
    _audit_for_institutions(
        actor=actor,
        action=AuditAction.PARTNER_IDENTITY_CHANGE_APPROVE,
        partner=partner,
        change_id=change.pk,
        requested_by=change.requested_by.email,
        changes=changes,
    )
    identity_change_notice_send(change)
    return partner


@transaction.atomic
def partner_identity_change_refuse(*, actor: Actor, change: PartnerIdentityChange, note: str = "") -> None:
    """The operator could not confirm the new identity: the partner keeps its verified values."""
    require_operator(actor)
    change = _pending_change(change)
    change.status, change.decided_by, change.decided_at, change.note = (
        PartnerIdentityChange.Status.REFUSED,
        actor.user,
        timezone.now(),
        note,
    )
    change.save(update_fields=["status", "decided_by", "decided_at", "note"])
    audit_record(
        actor=actor,
        action=AuditAction.PARTNER_IDENTITY_CHANGE_REFUSE,
        obj=change.partner,
        change_id=change.pk,
        requested_by=change.requested_by.email,
        new=change.new_values,
        note=note,
    )
    identity_change_notice_send(change)
