"""Online booking by logged-out patients (B-13): the pages, the code, the booking and its record."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from medbook.institutions.tests.factories import ServiceFactory
from medbook.notifications.models import OutboxMessage
from medbook.online.models import OnlineRequest
from medbook.online.tests.helpers import PRIVACY, details_url, last_code, online_on, person
from medbook.patients.models import Patient
from medbook.scheduling.models import Booking, SlotHold

pytestmark = pytest.mark.django_db


@pytest.fixture
def online(cast):
    online_on(cast.institution_a, cast.service_a)
    return cast


def _start(client: Client, cast, **changes):
    return client.post(details_url(cast), {**_picked(cast), **person(**changes)})


def _picked(cast) -> dict:
    query = details_url(cast).split("?", 1)[1]
    return dict(pair.split("=") for pair in query.split("&"))


def test_b13_home_lists_the_institutions_taking_online_bookings(online, client):
    page = client.get(reverse("online:home")).content.decode()
    assert "Institution A" in page and "Institution B" not in page
    assert reverse("online:institution", args=[online.institution_a.pk]) in page


def test_b13_only_services_ticked_in_the_online_column_are_offered(online, client):
    unticked = ServiceFactory(
        institution=online.institution_a,
        name="Not online",
        locations=[online.location_a1],
        physicians=[online.physician_a],
    )
    page = client.get(reverse("online:institution", args=[online.institution_a.pk])).content.decode()
    assert "Cardiology check" in page and "Not online" not in page
    assert client.get(reverse("online:times", args=[online.institution_a.pk, unticked.pk])).status_code == 404
    times = client.get(reverse("online:times", args=[online.institution_a.pk, online.service_a.pk]))
    assert times.status_code == 200 and b'data-testid="free-time"' in times.content
    # The hold and booking services refuse it too, whatever the pages offer.
    picked = {**_picked(online), **person()}
    url = reverse("online:details", args=[online.institution_a.pk, unticked.pk])
    assert client.post(url, picked).status_code == 404


def test_b13_an_institution_without_online_booking_answers_404(online, client):
    b = online.institution_b
    assert client.get(reverse("online:institution", args=[b.pk])).status_code == 404
    assert client.get(reverse("online:times", args=[b.pk, online.service_b.pk])).status_code == 404
    # Another institution's service under A's address is no service of A's.
    assert (
        client.get(reverse("online:times", args=[online.institution_a.pk, online.service_b.pk])).status_code
        == 404
    )
    online_on(b)  # on, but nothing ticked: no service
    assert client.get(reverse("online:times", args=[b.pk, online.service_b.pk])).status_code == 404


def test_b13_a_newcomer_books_after_proving_the_email_address(online, client):
    page = client.get(details_url(online))
    assert page.status_code == 200 and PRIVACY in page.content.decode()
    response = _start(client, online)
    assert response.status_code == 302
    hold = SlotHold.objects.get()
    assert hold.user_id is None and (hold.expires_at - timezone.now()).total_seconds() > 9 * 60
    assert not Booking.objects.filter(patient__full_name="Nora Newcomer").exists()
    verify = response["Location"]
    assert b"Enter the code" in client.get(verify).content
    confirmed = client.post(verify, {"code": last_code("nora@example.test")})
    assert confirmed.status_code == 302
    booking = Booking.objects.get(patient__full_name="Nora Newcomer")
    assert booking.channel.code == "online" and booking.booked_by is None
    assert booking.patient.registered_online and booking.patient.email == "nora@example.test"
    assert not SlotHold.objects.exists()  # the booking consumed the hold
    done = client.get(verify).content.decode()
    assert "Your appointment is booked" in done and "Dr. Alpha" in done
    assert booking.pk  # the patient's usual confirmation, with its .ics, is in the outbox
    mail = OutboxMessage.objects.get(kind="patient_booking_made", to_email="nora@example.test")
    assert mail.attachments and mail.attachments[0]["filename"] == "appointment.ics"


def test_b13_the_emailed_link_fills_in_the_code_and_books_only_when_posted(online, client):
    verify = _start(client, online)["Location"]
    code = last_code("nora@example.test")
    page = client.get(f"{verify}?code={code}")
    assert f'value="{code}"' in page.content.decode()
    assert not Booking.objects.filter(channel__code="online").exists()  # a mail scanner's GET books nothing
    client.post(verify, {"code": code})
    assert Booking.objects.filter(channel__code="online").count() == 1
