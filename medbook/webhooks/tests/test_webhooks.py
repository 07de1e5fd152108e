"""X-7: signed webhook deliveries through the durable log, to a real local HTTP receiver."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import actor_of as actor_for
from conftest import local, next_weekday
from medbook.core.errors import DomainError
from medbook.partners.services.contract import partnership_service_set
from medbook.partners.tests import services
from medbook.scheduling import services as scheduling
from medbook.webhooks.models import WebhookDelivery, WebhookEndpoint
from medbook.webhooks.services import webhook_endpoint_create, webhook_enqueue, webhook_redeliver
from medbook.webhooks.tests.receiver import Receiver
from medbook.webhooks.worker import webhooks_drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_receivers(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def verified(secret: str, headers: dict, body: bytes) -> bool:
    """The receiver's check, as the Standard Webhooks libraries do it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(f"v1,{expected}", s) for s in headers["webhook-signature"].split())


def _due_now():
    WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).update(
        next_attempt_at=timezone.now()
    )


def test_x7_a_delivery_is_signed_retried_while_the_receiver_is_down_and_delivered_once(cast, local_receivers):
    with Receiver() as receiver:
        endpoint, secret = webhook_endpoint_create(
            actor=actor_for(cast.alice), url=receiver.url, events=["booking.created"]
        )
        webhook_enqueue(
            organization_ids=[cast.institution_a.pk], event="booking.created", data=lambda: {"booking": 1}
        )
        webhook_enqueue(
            organization_ids=[cast.institution_a.pk], event="booking.cancelled", data=lambda: {"booking": 1}
        )
        receiver.down = True
        assert webhooks_drain() == 0
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)
        assert delivery.next_attempt_at > timezone.now()
        receiver.down = False
        assert webhooks_drain() == 0  # not due yet: the backoff holds
        _due_now()
        assert webhooks_drain() == 1
        assert webhooks_drain() == 0
        assert len(receiver.received) == 1
        got = receiver.received[0]
        headers = got["headers"]
        assert verified(secret, headers, got["body"])
        assert not verified(secret, headers, got["body"] + b" ")
        payload = json.loads(got["body"])
        assert (payload["type"], payload["data"], payload["id"]) == (
            "booking.created",
            {"booking": 1},
            headers["webhook-id"],
        )
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 204)
        # Redelivery from the page sends the same event id again.
        webhook_redeliver(actor=actor_for(cast.alice), delivery_id=delivery.pk)
        assert webhooks_drain() == 1
        assert receiver.received[1]["headers"]["webhook-id"] == headers["webhook-id"]


def test_x7_only_the_named_organisations_endpoints_receive_an_event(cast, local_receivers):
    with Receiver() as a, Receiver() as b:
        webhook_endpoint_create(actor=actor_for(cast.alice), url=a.url, events=["booking.created"])
        webhook_endpoint_create(actor=actor_for(cast.charlie), url=b.url, events=["booking.created"])
        webhook_enqueue(organization_ids=[cast.institution_a.pk], event="booking.created", data=lambda: {})
        webhooks_drain()
        assert (len(a.received), len(b.received)) == (1, 0)


def test_x7_an_endpoint_must_be_https_outside_private_networks(cast):
    for url in (
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/x",
        "https://[::1]/x",
        "ftp://x",
    ):
        with pytest.raises(DomainError):
            webhook_endpoint_create(actor=actor_for(cast.alice), url=url, events=["booking.created"])
    with pytest.raises(DomainError, match="event"):
        webhook_endpoint_create(actor=actor_for(cast.alice), url="https://93.184.215.14/x", events=["nope"])
    assert not WebhookEndpoint.objects.exists()


def test_x7_a_receiver_that_never_answers_well_is_given_up_after_the_attempts(
    cast, local_receivers, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    with Receiver() as receiver:
        receiver.down = True
        webhook_endpoint_create(actor=actor_for(cast.alice), url=receiver.url, events=["booking.created"])
        webhook_enqueue(organization_ids=[cast.institution_a.pk], event="booking.created", data=lambda: {})
        for _attempt in range(3):
            _due_now()
            webhooks_drain()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("failed", 3)


def test_x7_the_webhooks_page_shows_the_secret_once_and_another_tenant_cannot_redeliver(client, cast):
    client.force_login(cast.alice)
    page = client.post(
        "/administration/webhooks/", {"url": "https://93.184.215.14/hook", "events": ["booking.created"]}
    )
    assert page.status_code == 200, page.content
    secret = page.context["secret"]
    assert secret.startswith("whsec_") and secret in page.content.decode()
    assert secret not in client.get("/administration/webhooks/").content.decode()
    endpoint = WebhookEndpoint.objects.get()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="booking.created", payload={}, status="failed"
    )
    client.force_login(cast.charlie)
    assert client.post(f"/administration/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 404
    assert client.post(f"/administration/webhooks/{endpoint.pk}/delete/").status_code == 404
    client.force_login(cast.alice)
    assert client.post(f"/administration/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=1)


def test_x7_booking_and_partnership_events_reach_both_sides_and_nobody_else(cast, partners, local_receivers):
    with Receiver() as a, Receiver() as p, Receiver() as q:
        webhook_endpoint_create(
            actor=actor_for(cast.alice),
            url=a.url,
            events=[e for e in ("booking.created", "booking.cancelled", "partnership.changed")],
        )
        webhook_endpoint_create(
            actor=actor_for(partners.paula), url=p.url, events=["booking.created", "partnership.changed"]
        )
        webhook_endpoint_create(
            actor=actor_for(partners.quentin), url=q.url, events=["booking.created", "partnership.changed"]
        )
        booking = services.booking_create(
            actor=actor_for(partners.peter),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(next_weekday(1), 9),
            note="internal: call back after 5",
        )
        scheduling.booking_cancel(actor=actor_for(cast.bob), booking=booking, reason="Physician ill")
        partnership_service_set(
            actor=actor_for(cast.alice),
            partnership=partners.partnership_p,
            service=cast.service_a,
            enabled=False,
        )
        webhooks_drain()
        kinds = lambda receiver: [json.loads(r["body"])["type"] for r in receiver.received]  # noqa: E731
        assert kinds(a) == ["booking.created", "booking.cancelled", "partnership.changed"]
        assert kinds(p) == ["booking.created", "partnership.changed"]
        assert kinds(q) == []
        created = json.loads(p.received[0]["body"])["data"]["booking"]
        assert (created["id"], created["patient"]["name"]) == (booking.pk, "Anna Patient")
        assert all(b"call back" not in r["body"] for r in a.received + p.received)
        assert json.loads(a.received[1]["body"])["data"]["booking"]["cancel_reason"] == "Physician ill"
