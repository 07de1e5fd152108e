"""Send due webhook deliveries: claimed with a lease (as the e-mail outbox), signed, retried with backoff.

Signature in the Standard Webhooks style: headers `webhook-id` (the event's id, the same on every retry
and redelivery), `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
"<id>.<timestamp>.<body>" keyed with the secret's bytes>`. A 2xx answer is delivered; anything else, a
timeout or a refused address is retried after 2^attempts seconds (capped), up to WEBHOOK_MAX_ATTEMPTS.
"""

import base64
import hashlib
import hmac
import json
import logging
import random
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from medbook.webhooks.models import WebhookDelivery
from medbook.webhooks.services import url_refusal

log = logging.getLogger(__name__)
Status = WebhookDelivery.Status


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an order: following it could lead the server into its own network."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def webhooks_drain(*, batch_size: int = 20) -> int:
    """Send batches until nothing is due; return how many were delivered."""
    delivered = 0
    while claimed := claim_due(token=uuid.uuid4(), batch_size=batch_size):
        delivered += sum(deliver(delivery) for delivery in claimed)
    return delivered


def claim_due(*, token: uuid.UUID, batch_size: int) -> list[WebhookDelivery]:
    now = timezone.now()
    lease_expired = now - timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    due = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_at__lt=lease_expired
    )
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.filter(due)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch_size]
        )
        WebhookDelivery.objects.filter(due, pk__in=ids).update(
            status=Status.SENDING, claimed_at=now, claim_token=token
        )
    return list(
        WebhookDelivery.objects.filter(claim_token=token, status=Status.SENDING)
        .select_related("endpoint")
        .order_by("pk")
    )


def deliver(delivery: WebhookDelivery) -> bool:
    """POST one claimed delivery; record the answer; return whether it was delivered."""
    renewed = WebhookDelivery.objects.filter(
        pk=delivery.pk, claim_token=delivery.claim_token, status=Status.SENDING
    ).update(claimed_at=timezone.now(), attempts=F("attempts") + 1)
    if not renewed:
        return False
    attempts = delivery.attempts + 1
    endpoint = delivery.endpoint
    body = json.dumps({"id": str(delivery.event_id), **delivery.payload}, cls=DjangoJSONEncoder).encode()
    timestamp = int(timezone.now().timestamp())
    message_id = str(delivery.event_id)
    status_code, error = None, ""
    refusal = url_refusal(endpoint.url) if endpoint.is_active else "the endpoint is inactive"
    if refusal:
        error = str(refusal)
    else:
        request = urllib.request.Request(
            endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "MedBook-Webhooks/1",
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(endpoint.secret, message_id, timestamp, body),
            },
        )
        try:
            with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
                status_code = response.status
        except urllib.error.HTTPError as answer:
            status_code, error = answer.code, f"HTTP {answer.code}"
        except (urllib.error.URLError, OSError, ValueError) as failure:
            error = f"{type(failure).__name__}: {failure}"
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token)
    if status_code is not None and 200 <= status_code < 300:
        mine.update(
            status=Status.DELIVERED,
            delivered_at=timezone.now(),
            last_status_code=status_code,
            last_error="",
            claim_token=None,
        )
        return True
    gave_up = attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    delay = min(2 ** min(attempts, 20), settings.WEBHOOK_BACKOFF_CAP_SECONDS) * random.uniform(0.5, 1.0)
    mine.update(
        status=Status.FAILED if gave_up else Status.PENDING,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        last_status_code=status_code,
        last_error=(error or "")[:500],
        claim_token=None,
        claimed_at=None,
    )
    log.warning(
        "webhook delivery %s to %s: attempt %s failed: %s", delivery.pk, endpoint.url, attempts, error
    )
    return False
