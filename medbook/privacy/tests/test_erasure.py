"""G-2 (issue 24): after an erasure the patient's name is on no page, API or FHIR answer of the permission
matrix; statistics and a closed statement are unchanged; partners are told, signed like every webhook."""

import json
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from conftest import local
from medbook.audit.sealer import audit_seal
from medbook.core.tests import test_permission_matrix as matrix
from medbook.core.tests.cast import ACTORS, everyone_make
from medbook.notifications.models import OutboxMessage
from medbook.partners.tests import services as partner_services
from medbook.privacy import services
from medbook.reports.selectors import Period, traffic_report
from medbook.reports.services import statement_close
from medbook.scheduling import services as scheduling
from medbook.scheduling.models import Booking
from medbook.webhooks.models import WebhookDelivery
from medbook.webhooks.services import webhook_endpoint_create
from medbook.webhooks.tests.receiver import Receiver
from medbook.webhooks.tests.test_webhooks import local_receivers, verified  # noqa: F401 (a fixture)
from medbook.webhooks.worker import webhooks_drain

pytestmark = pytest.mark.django_db

NAME, TAJ = "Anna Patient", "111111110"


def test_g2_after_an_erasure_no_page_api_or_fhir_answer_of_the_matrix_shows_the_patient(cast, partners):
    everyone = everyone_make(cast, partners)
    alice = cast.actor(cast.alice)
    for booking in (everyone.booking_a, everyone.booking_p, everyone.booking_e):
        scheduling.booking_cancel(actor=alice, booking=booking, reason="Anna Patient asked")
    result = services.patient_erase(actor=alice, patient=cast.patient_a, reason="The patient asked")
    assert result.erased, result.holds
    audit_seal()
    http, seen = Client(), []
    for name in sorted(matrix.MATRIX):
        request = matrix._request_of(name, everyone)
        for actor in ACTORS:
            http.cookies.clear()
            user = everyone.user(actor)
            if user is not None and not name.startswith(matrix.TOKEN_NAMESPACES):
                http.force_login(user)
            if name.startswith(matrix.TOKEN_NAMESPACES):
                matrix._token_of(everyone, actor)
            with transaction.atomic():
                method, url, data = request
                response = matrix._send(http, name, everyone, actor, method, url, data)
                content = getattr(response, "content", b"") if not response.streaming else b"".join(response)
                if NAME.encode() in content or TAJ.encode() in content:
                    seen.append(f"{name} as {actor} ({response.status_code})")
                transaction.set_rollback(True)
    assert not seen, "the erased patient is still shown: " + ", ".join(seen)


def _held_partner_booking(cast, partners, day: date) -> Booking:
    """A partner's booking of Anna's that took place on `day` and was completed."""
    booking = partner_services.booking_create(
        actor=cast.actor(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day + timedelta(days=400), 10),
    )
    length = booking.ends_at - booking.starts_at
    Booking.objects.filter(pk=booking.pk).update(
        starts_at=local(day, 10), ends_at=local(day, 10) + length, status=Booking.Status.COMPLETED
    )
    booking.refresh_from_db()
    return booking


def _figures(cast, client, closing, period):
    report = traffic_report(actor=cast.actor(cast.alice), period=period)
    rows = [
        (row.name, row.bookings, row.completed, row.value, row.commission)
        for row in report.partners + [report.partner_total]
    ]
    download = client.get(reverse("reports:settlement-closed-download", args=[closing.pk, "csv"]))
    return rows, b"".join(download) if download.streaming else download.content


def test_g2_statistics_and_a_closed_statement_are_unchanged_by_an_erasure(cast, partners, login):
    alice = cast.actor(cast.alice)
    period = Period(date(2026, 3, 1), date(2026, 3, 31), cast.institution_a.time_zone)
    _held_partner_booking(cast, partners, date(2026, 3, 10))
    # Not settled yet: the erasure waits, the patient restricted.
    assert services.patient_erase(actor=alice, patient=cast.patient_a, reason="asked").holds
    closing = statement_close(actor=alice, partner=partners.partner_p, period=period)
    client = login(cast.alice)
    before = _figures(cast, client, closing, period)
    assert before[0][0][1] == 1
    result = services.patient_erase(actor=alice, patient=cast.patient_a, reason="asked")
    assert result.erased and result.request.outcome == "erased"
    assert _figures(cast, client, closing, period) == before
    assert result.request.answered_at is not None
    assert cast.patient_a.data_requests.count() == 1  # the waiting request was answered, once


def test_g2_partners_are_told_by_email_and_a_signed_patient_erased_webhook(cast, partners, local_receivers):  # noqa: F811
    with Receiver() as receiver:
        _endpoint, secret = webhook_endpoint_create(
            actor=cast.actor(partners.paula), url=receiver.url, events=["patient.erased", "booking.created"]
        )
        booking = partner_services.booking_create(
            actor=cast.actor(partners.peter),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(date.today() + timedelta(days=9), 10),
        )
        created = WebhookDelivery.objects.get(event="booking.created")
        assert created.payload["data"]["booking"]["patient"]["name"] == NAME
        scheduling.booking_cancel(actor=cast.actor(cast.bob), booking=booking, reason="moved away")
        services.patient_erase(actor=cast.actor(cast.alice), patient=cast.patient_a, reason="asked")
        created.refresh_from_db()
        assert created.payload["data"]["booking"]["patient"] == {"id": cast.patient_a.pk, "name": ""}
        assert webhooks_drain() == 2
        got = next(r for r in receiver.received if b"patient.erased" in r["body"])
        assert verified(secret, got["headers"], got["body"])
        payload = json.loads(got["body"])
        assert payload["type"] == "patient.erased"
        assert payload["data"]["booking_ids"] == [booking.pk]
        assert payload["data"]["patient"] == {"id": cast.patient_a.pk}
        assert all(NAME.encode() not in r["body"] for r in receiver.received)
    mail = OutboxMessage.objects.get(kind="partner_patient_erased")
    assert (
        mail.to_email == "paula@p.test" and f"#{booking.pk}" in mail.text_body and NAME not in mail.text_body
    )
