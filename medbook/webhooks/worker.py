"""Send due webhook deliveries: claimed with a lease (as the e-mail outbox), signed, retried with backoff.

Signature in the Standard Webhooks style: headers `webhook-id` (the event's id, the same on every retry
and redelivery), `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
"<id>.<timestamp>.<body>" keyed with the secret's bytes>`. A 2xx answer is delivered; anything else, a
timeout or a refused address is retried after 2^attempts seconds (capped), up to WEBHOOK_MAX_ATTEMPTS.
"""

import base64
import hashlib
import hmac
import http.client
import json
import logging
import random
import socket
import ssl
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from medbook.webhooks.addresses import IPAddress, WebhookUrlInvalid, addresses_resolve, webhook_url_parse
from medbook.webhooks.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)
Status = WebhookDelivery.Status


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to an address checked beforehand; the Host header still names the endpoint."""

    def __init__(self, host: str, port: int, *, addresses: list[IPAddress], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._create_connection = lambda _address, timeout, source_address=None: connect_first(
            addresses, port, timeout
        )


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address: the certificate is verified and SNI sent for the endpoint's name."""

    def __init__(
        self, host: str, port: int, *, addresses: list[IPAddress], timeout: float, context=None
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context or ssl.create_default_context())
        self._create_connection = lambda _address, timeout, source_address=None: connect_first(
            addresses, port, timeout
        )


def connect_first(addresses: list[IPAddress], port: int, timeout: float) -> socket.socket:
    """A socket to the first of the checked addresses that answers (never a fresh resolution)."""
    failure: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout=timeout)
        except OSError as error:
            failure = error
    raise failure


def failure_reason(error: BaseException) -> str:
    """The short, generic reason of a failed delivery: the log never shows the network's own words, which
    would tell an endpoint's owner what answers at an address (a port scanner of the server's network)."""
    if isinstance(error, WebhookUrlInvalid):
        return error.reason
    if isinstance(error, http.client.InvalidURL | UnicodeError):  # what the HTTP library refuses to send
        return "invalid URL"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return "TLS error"
    if isinstance(error, http.client.HTTPException):
        return "invalid response"
    if isinstance(error, OSError):
        return "connection failed"
    return "internal error"


def post(endpoint: WebhookEndpoint, body: bytes, headers: dict[str, str]) -> int:
    """POST the body to the endpoint, resolved once and connected to a checked address, no redirects
    followed (a 3xx is a failed answer); return the answer's status."""
    target = webhook_url_parse(endpoint.url)
    addresses = addresses_resolve(target)
    connection_class = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    connection = connection_class(
        target.host, target.port, addresses=addresses, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
    )
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        return connection.getresponse().status  # the body is not read: closing ends the exchange
    finally:
        connection.close()


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
    """POST one claimed delivery; record the answer; return whether it was delivered. Whatever goes wrong
    with this one delivery is recorded on its row: it never stops the worker or the deliveries after it."""
    renewed = WebhookDelivery.objects.filter(
        pk=delivery.pk, claim_token=delivery.claim_token, status=Status.SENDING
    ).update(claimed_at=timezone.now(), attempts=F("attempts") + 1)
    if not renewed:
        return False
    attempts = delivery.attempts + 1
    status_code, error = None, ""
    try:
        if attempts > settings.WEBHOOK_MAX_ATTEMPTS:  # a row whose sending crashed the worker each time
            error = "internal error"
        elif not delivery.endpoint.is_active:
            error = "endpoint inactive"
        else:
            status_code = post(delivery.endpoint, *_signed(delivery))
            error = "" if 200 <= status_code < 300 else f"HTTP {status_code}"
    except Exception as failure:  # noqa: BLE001 - one delivery's failure is its own row's
        error = failure_reason(failure)
        if error == "internal error":
            log.exception("webhook delivery %s: unexpected error", delivery.pk)
    _record(delivery, attempts=attempts, status_code=status_code, error=error)
    return not error


def _signed(delivery: WebhookDelivery) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": str(delivery.event_id), **delivery.payload}, cls=DjangoJSONEncoder).encode()
    timestamp = int(timezone.now().timestamp())
    message_id = str(delivery.event_id)
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "MedBook-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(delivery.endpoint.secret, message_id, timestamp, body),
    }


def _record(delivery: WebhookDelivery, *, attempts: int, status_code: int | None, error: str) -> None:
    """Mark the delivery delivered, or due again after a backoff, or failed after the last attempt."""
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token)
    if not error:
        mine.update(
            status=Status.DELIVERED,
            delivered_at=timezone.now(),
            last_status_code=status_code,
            last_error="",
            claim_token=None,
        )
        return
    gave_up = attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    delay = min(2 ** min(attempts, 20), settings.WEBHOOK_BACKOFF_CAP_SECONDS) * random.uniform(0.5, 1.0)
    mine.update(
        status=Status.FAILED if gave_up else Status.PENDING,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        last_status_code=status_code,
        last_error=error[:500],
        claim_token=None,
        claimed_at=None,
    )
    log.warning("webhook delivery %s: attempt %s failed: %s", delivery.pk, attempts, error)
