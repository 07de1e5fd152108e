""" "Show calendars" (P-11) and a partner's booking cost the same number of queries however many calendars,
institutions and bookings there are (issue 13: a partner over 5 institutions ran 312 queries)."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import actor_of, local, next_weekday
from medbook.accounts.tokens import api_token_create
from medbook.institutions.tests.factories import (
    InstitutionFactory,
    LocationFactory,
    PhysicianFactory,
    ServiceFactory,
    weekly_hours,
)
from medbook.partners.offers import bookable_offers, offer_for
from medbook.partners.services.booking import partner_booking_create
from medbook.partners.tests.factories import TEN_PERCENT, partnership_make
from medbook.patients.tests.factories import PatientFactory
from medbook.scheduling.models import Booking
from medbook.scheduling.selectors import default_channel
from medbook.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

BOOK = reverse("partners:book")
# The page itself, whatever the number of calendars: the actor and session, the GTC gate, the offers, the
# remembered filters, the working hours, leave, busy times and bookings of every shown calendar at once.
SHOW_CALENDARS_MAX = 22
# A partner's booking of a new patient: the partner's terms (partnership with its authorised location and
# service, the GTC), the patient and its audit row, the offer, channel, working hours, leave, the day's busy
# times, the insert, its audit row, webhooks and the institution's e-mail.
PARTNER_CREATE_MAX = 26


def _calendar(institution, location, physicians, services) -> None:
    """Physicians giving services at a location, working every day."""
    for physician in physicians:
        weekly_hours(physician, location)
    for service in services:
        service.locations.add(location)
        service.physicians.add(*physicians)


def _grow(cast, partners) -> None:
    """Twelve calendars over three institutions: A gets a second physician and service (4 calendars), and
    two more institutions partner with P, each with two physicians giving two services (4 each)."""
    second = PhysicianFactory(institution=cast.institution_a, locations=[cast.location_a1])
    extra = ServiceFactory(institution=cast.institution_a)
    _calendar(cast.institution_a, cast.location_a1, [second], [cast.service_a])
    weekly_hours(second, cast.location_a1)  # twice: overlapping rules merge, as on any calendar
    _calendar(cast.institution_a, cast.location_a1, [cast.physician_a, second], [extra])
    partners.partnership_p.services.add(extra)
    for n in range(2):
        institution = InstitutionFactory(name=f"Grown {n}")
        location = LocationFactory(institution=institution)
        doctors = [PhysicianFactory(institution=institution, locations=[location]) for _ in range(2)]
        offered = [ServiceFactory(institution=institution) for _ in range(2)]
        _calendar(institution, location, doctors, offered)
        partnership_make(
            institution, partners.partner_p, locations=[location], services=offered, **TEN_PERCENT
        )


def _book_week(day, count: int, partners) -> None:
    """`count` bookings over the week of the partner's calendars' physicians, every other one its own."""
    offers = bookable_offers(actor=actor_of(partners.peter))
    taken = Booking.objects.values_list("physician_id", flat=True)
    made = []
    for n in range(count):
        offer = offers[n % len(offers)]
        slot = sum(1 for b in made if b.physician_id == offer.physician.pk) + sum(
            1 for pk in taken if pk == offer.physician.pk
        )
        starts = local(day + timedelta(days=slot % 7), 8) + timedelta(minutes=30 * (slot // 7))
        made.append(
            Booking(
                institution=offer.institution,
                location=offer.location,
                physician=offer.physician,
                service=offer.service,
                patient=PatientFactory(institution=offer.institution),
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
                channel=default_channel(institution=offer.institution),
                partner=partners.partner_p if n % 2 == 0 else None,
                price=1000,
                currency="HUF",
            )
        )
    Booking.objects.bulk_create(made)


def _shown_bookings(partners) -> int:
    """How many booked entries the calendars show: each physician's bookings on each of its calendars."""
    return sum(
        Booking.objects.filter(physician=offer.physician).count()
        for offer in bookable_offers(actor=actor_of(partners.peter))
    )


def _show_count(client, day, page: int = 1) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(BOOK, {"week": day.isoformat(), "show": "1", "page": page})
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_p11_show_calendars_query_count_does_not_grow_with_calendars_or_bookings(cast, partners, client):
    day = next_weekday(0)
    client.force_login(partners.peter)
    _show_count(client, day)  # the session settles and the chosen filters are remembered
    _book_week(day, 10, partners)
    small, page = _show_count(client, day)
    assert page.count('class="physician-calendar"') == 1
    assert page.count("slot booked") == _shown_bookings(partners) == 10
    _grow(cast, partners)
    _book_week(day, 100, partners)
    large, page = _show_count(client, day)
    second, rest = _show_count(client, day, page=2)
    # Twelve calendars, ten to a page (CALENDARS_PER_PAGE): every booking shown once over the two pages.
    assert page.count('class="physician-calendar"') == 10 and rest.count('class="physician-calendar"') == 2
    assert "12 calendars, one below the other. Showing 1–10." in page and "Page 2 of 2" in rest
    assert page.count("slot booked") + rest.count("slot booked") == _shown_bookings(partners)
    assert large == second == small
    assert large <= SHOW_CALENDARS_MAX


def test_p11_show_calendars_pages_answer_any_page_number_with_a_page(cast, partners, client):
    client.force_login(partners.peter)
    day = next_weekday(0)
    for page in ("0", "-3", "99", "x", ""):
        response = client.get(BOOK, {"week": day.isoformat(), "show": "1", "page": page})
        assert response.status_code == 200
        assert response.content.decode().count('class="physician-calendar"') == 1


def test_p11_partner_booking_create_query_count_does_not_grow_with_offers(cast, partners):
    day = next_weekday(1)
    actor = actor_of(partners.peter)

    def count(hour: int) -> int:
        offer = offer_for(
            actor=actor,
            location_id=cast.location_a1.pk,
            physician_id=cast.physician_a.pk,
            service_id=cast.service_a.pk,
        )
        with CaptureQueriesContext(connection) as queries:
            partner_booking_create(
                actor=actor,
                offer=offer,
                starts_at=local(day, hour),
                new_patient={"full_name": f"New {hour}", "phone": "+36 30 123 4567"},
            )
        return len(queries)

    small = count(9)
    _grow(cast, partners)
    large = count(10)
    assert Booking.objects.filter(partner=partners.partner_p).count() == 2
    assert large == small <= PARTNER_CREATE_MAX


def _endpoint(organization_id: int, n: int) -> None:
    WebhookEndpoint.objects.create(
        organization_id=organization_id,
        url=f"https://hook{n}.example/booking",
        events=["booking.created"],
        secret="whsec_" + "A" * 44,
    )


@pytest.mark.parametrize("who", ["peter", "bob"])
def test_api_booking_create_query_count_does_not_grow_with_partnerships(cast, partners, client, who):
    """POST /api/v1/bookings with a new patient, by P's booker (1, then 5 active partnerships with more
    locations, services and calendars) and by A's reception, costs the same however many partnerships,
    webhook endpoints, patients and bookings there are (issue 13: the bench's partner create ran 279)."""
    user = getattr(partners, who) if who == "peter" else cast.bob
    _token, secret = api_token_create(actor=actor_of(user), name="queries")
    day = next_weekday(2)
    _endpoint(cast.institution_a.pk, 0)
    _endpoint(partners.partner_p.pk, 1)

    def count(hour: int) -> int:
        body = {
            "location_id": cast.location_a1.pk,
            "physician_id": cast.physician_a.pk,
            "service_id": cast.service_a.pk,
            "starts_at": local(day, hour).isoformat(),
            "new_patient": {"full_name": f"New {hour}"},
        }
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                "/api/v1/bookings", json.dumps(body), content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {secret}",
            )  # fmt: skip
        assert response.status_code == 201, response.content
        return len(queries)

    count(8)  # the token's first use is written once
    small = count(9)
    _grow(cast, partners)  # two institutions more partner with P
    for n in range(2):
        institution = InstitutionFactory(name=f"More {n}")
        location = LocationFactory(institution=institution)
        partnership_make(institution, partners.partner_p, locations=[location], **TEN_PERCENT)
    for n in range(2, 6):
        _endpoint(cast.institution_a.pk if n % 2 else partners.partner_p.pk, n)
    _book_week(day + timedelta(days=7), 20, partners)
    assert partners.partner_p.partnerships.filter(status="active").count() == 5
    large = count(10)
    assert large == small
