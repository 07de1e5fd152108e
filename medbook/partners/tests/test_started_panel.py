"""A partner's own booking that has started offers no Move or Delete (the services refuse them anyway)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.partners.tests import services
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


def test_p13_a_started_visit_shows_no_move_or_delete_to_the_partner(client, cast, partners):
    booking = services.booking_create(
        actor=actor_of(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(1), 9),
    )
    client.force_login(partners.peter)
    url = reverse("partners:booking-detail", args=[booking.pk])
    future = client.get(url).content.decode()
    assert "Delete booking" in future and 'id="move-form"' in future
    started = timezone.now() - timedelta(minutes=5)
    Booking.objects.filter(pk=booking.pk).update(starts_at=started, ends_at=started + timedelta(minutes=30))
    page = client.get(url).content.decode()
    assert "Delete booking" not in page and 'id="move-form"' not in page
    assert "This visit has started" in page
