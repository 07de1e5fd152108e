"""Webhooks (X-7): register and remove endpoints, enqueue events in the change's transaction, redeliver.

An event reaches only the endpoints of the organisations the caller names: the booking's institution and
its partner, or the two sides of a partnership. What it carries is built by the caller from what both of
them see on their own pages, never the internal note.
"""

import base64
import secrets
from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError
from medbook.core.ids import parse_id
from medbook.core.permissions import Perm, require
from medbook.core.tenancy import Actor, acting
from medbook.webhooks.addresses import WebhookUrlInvalid, addresses_resolve, webhook_url_parse
from medbook.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

MAX_ENDPOINTS = 10  # per organisation


def webhook_secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_url_checked(url: str) -> str:
    """The URL as it will be stored and called, or a refusal on the `url` field saying why (the page and
    any API create endpoints through webhook_endpoint_create, which calls this): it must parse as the worker
    sends it, and resolve only to public addresses (see medbook.webhooks.addresses)."""
    try:
        target = webhook_url_parse((url or "").strip())
        addresses_resolve(target)
    except WebhookUrlInvalid as invalid:
        raise DomainError(invalid.message, field="url") from None
    return target.url


def _admin(actor: Actor) -> None:
    require(actor, Perm.MANAGE_USERS)  # an institution's or a partner's administrator
    if actor.organization is None:
        raise Http404()


@transaction.atomic
def webhook_endpoint_create(*, actor: Actor, url: str, events: list[str]) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint of the actor's organisation; return it with its signing secret (shown once)."""
    _admin(actor)
    url = webhook_url_checked(url)
    chosen = sorted(set(events or []))
    if not chosen or any(event not in WebhookEvent.values for event in chosen):
        raise DomainError(_("Choose at least one event."), field="events")
    organization = acting(actor.organization)
    if WebhookEndpoint.objects.filter(organization=organization).count() >= MAX_ENDPOINTS:
        raise DomainError(_("An organisation can have at most %(max)s endpoints.") % {"max": MAX_ENDPOINTS})
    secret = webhook_secret_new()
    endpoint = WebhookEndpoint.objects.create(
        organization_id=organization.pk, url=url, events=chosen, secret=secret, created_by=actor.user
    )
    audit_record(actor=actor, action=AuditAction.WEBHOOK_CREATE, obj=endpoint, url=url, events=chosen)
    return endpoint, secret


def endpoints_of(actor: Actor) -> QuerySet[WebhookEndpoint]:
    if actor is None or actor.organization is None:
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(organization_id=actor.organization.pk)


def deliveries_of(actor: Actor) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint__in=endpoints_of(actor)).select_related("endpoint")


@transaction.atomic
def webhook_endpoint_delete(*, actor: Actor, endpoint_id) -> None:
    """Remove an endpoint of the actor's organisation (another's is 404); its pending deliveries go too."""
    _admin(actor)
    endpoint = endpoints_of(actor).filter(pk=parse_id(endpoint_id)).first()
    if endpoint is None:
        raise Http404()
    audit_record(actor=actor, action=AuditAction.WEBHOOK_DELETE, obj=endpoint, url=endpoint.url)
    endpoint.delete()


@transaction.atomic
def webhook_redeliver(*, actor: Actor, delivery_id) -> WebhookDelivery:
    """Send a delivery again (same event id, so the receiver can tell a repeat); another's is 404."""
    _admin(actor)
    delivery = deliveries_of(actor).select_for_update().filter(pk=parse_id(delivery_id)).first()
    if delivery is None:
        raise Http404()
    if delivery.status == WebhookDelivery.Status.SENDING:
        raise DomainError(_("This delivery is being sent right now."))
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_record(
        actor=actor, action=AuditAction.WEBHOOK_REDELIVER, obj=delivery.endpoint, delivery=delivery.pk
    )
    return delivery


def webhook_enqueue(
    *,
    organization_ids: list[int],
    event: str,
    data: Callable[[], dict] | None = None,
    data_for: Callable[[int], dict] | None = None,
) -> int:
    """Write one delivery per subscribed active endpoint of these organisations, in the caller's
    transaction (a rolled-back change sends nothing); return how many. `data` builds the payload, and is
    called only when an endpoint subscribed: most organisations have none, and a booking change should
    not read its related rows for nobody. `data_for` instead builds it for one receiving organisation,
    where the two sides are shown different things (a booking's patient, issue 19)."""
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            organization_id__in=[pk for pk in organization_ids if pk], is_active=True
        )
        if event in endpoint.events
    ]
    if not endpoints:
        return 0
    timestamp = timezone.now().isoformat()
    payloads: dict[int | None, dict] = {}  # built once for everyone, or once per organisation

    def payload_of(endpoint: WebhookEndpoint) -> dict:
        key = endpoint.organization_id if data_for is not None else None
        if key not in payloads:
            built = data_for(endpoint.organization_id) if data_for is not None else (data or dict)()
            payloads[key] = {"type": event, "timestamp": timestamp, "data": built}
        return payloads[key]

    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event=event, payload=payload_of(endpoint))
        for endpoint in endpoints
    )
    return len(endpoints)
