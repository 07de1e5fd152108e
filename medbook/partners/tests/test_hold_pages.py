"""Book to partner's booking form holds its slot (issue 21), as the reception's does: opening a free slot
holds it for the partner's user, anyone else opening it (another user of the partner, the institution's
desk) is told at once, the holder books it with the hold, closing the form releases it; a hold's token is
its holder's own and useless to anyone else."""

import re
from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from conftest import local, next_weekday
from medbook.scheduling.models import Booking, SlotHold
from medbook.scheduling.tests.test_hold_pages import HELD
from medbook.scheduling.tests.test_hold_pages import _token as _token

pytestmark = pytest.mark.django_db

SLOT = reverse("partners:book-slot")
RELEASE = reverse("partners:book-slot-release")


@pytest.fixture
def start() -> datetime:
    return local(next_weekday(2), 10)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _slot(cast, start, **extra) -> dict:
    return {
        "slot_location": cast.location_a1.pk,
        "slot_physician": cast.physician_a.pk,
        "slot_service": cast.service_a.pk,
        "starts_at": start.isoformat(),
        **extra,
    }


def _open(client, cast, start):
    return client.get(SLOT, _slot(cast, start), HTTP_HX_REQUEST="true")


def _free_in_grid(client, start) -> set[datetime]:
    """The free starts the user's Book to partner shows in the week (after a refresh)."""
    response = client.get(reverse("partners:book"), {"week": start.date().isoformat(), "show": "1"})
    html = response.content.decode()
    return {datetime.fromisoformat(s) for s in re.findall(r'class="slot free" data-start="([^"]+)"', html)}


def _book(client, cast, start, hold):
    data = _slot(cast, start, hold=hold, **{"new-full_name": "Nora New", "new-phone": "+36 30 123 4567"})
    return client.post(SLOT, data, HTTP_HX_REQUEST="true")


def test_p12_opening_a_slot_holds_it_others_are_told_at_once_and_the_holder_books_it(cast, partners, start):
    peter, paula = _client(partners.peter), _client(partners.paula)
    opened = _open(peter, cast, start)
    assert opened.status_code == 200
    token = _token(opened)
    assert len(token) == 48

    for other, url, data in (
        (paula, SLOT, _slot(cast, start)),  # another user of the same partner
        (
            _client(cast.bob),  # the institution's desk
            reverse("scheduling:booking-create"),
            {
                "location": cast.location_a1.pk,
                "service": cast.service_a.pk,
                "slot_physician": cast.physician_a.pk,
                "starts_at": start.isoformat(),
            },
        ),
    ):
        told = other.get(url, data, HTTP_HX_REQUEST="true")
        assert told.status_code == 409 and HELD in told.content.decode()
    assert start not in _free_in_grid(paula, start)  # her grid, refreshed, shows it not free
    assert start in _free_in_grid(peter, start)  # the holder's shows it free

    booked = _book(peter, cast, start, token)
    assert booked.status_code == 200, booked.content
    booking = Booking.objects.get()
    assert (
        booking.booked_by == partners.peter and booking.partner_id is not None and booking.starts_at == start
    )
    assert not SlotHold.objects.exists()


def test_p12_closing_the_form_releases_the_hold_at_once(cast, partners, start):
    peter, paula = _client(partners.peter), _client(partners.paula)
    token = _token(_open(peter, cast, start))
    assert _open(paula, cast, start).status_code == 409
    closed = peter.post(RELEASE, {"hold": token}, HTTP_HX_REQUEST="true")
    assert closed.status_code == 200 and closed.content == b""
    assert _open(paula, cast, start).status_code == 200


def test_p12_a_slot_the_desk_holds_is_told_to_the_partner_at_once(cast, partners, start):
    desk = _client(cast.bob)
    desk.get(
        reverse("scheduling:booking-create"),
        {
            "location": cast.location_a1.pk,
            "service": cast.service_a.pk,
            "slot_physician": cast.physician_a.pk,
            "starts_at": start.isoformat(),
        },
        HTTP_HX_REQUEST="true",
    )
    told = _open(_client(partners.peter), cast, start)
    assert told.status_code == 409 and HELD in told.content.decode()


def test_p12_an_ended_hold_is_taken_again_at_submit(cast, partners, start):
    peter = _client(partners.peter)
    token = _token(_open(peter, cast, start))
    peter.post(RELEASE, {"hold": token})  # closed in another tab
    again = _book(peter, cast, start, token)
    assert again.status_code == 422 and "it is held for you again" in again.content.decode()
    assert "Nora New" in again.content.decode()  # the details typed stay
    assert _book(peter, cast, start, _token(again)).status_code == 200
    assert not SlotHold.objects.exists()


def test_hostile_tenant_another_users_hold_token_is_useless_and_never_consumes_the_hold(
    cast, partners, start
):
    token = _token(_open(_client(partners.peter), cast, start))
    held = SlotHold.objects.get()
    paula, quentin, charlie = _client(partners.paula), _client(partners.quentin), _client(cast.charlie)

    refused = _book(paula, cast, start, token)  # the same partner's other user
    assert refused.status_code == 422 and HELD in refused.content.decode()
    assert _book(quentin, cast, start, token).status_code == 403  # a partner without a partnership at A
    assert _open(quentin, cast, start).status_code == 403
    assert charlie.post(RELEASE, {"hold": token}).status_code == 403  # not a partner's user at all
    for other in (paula, quentin):
        assert other.post(RELEASE, {"hold": token}).status_code == 200  # the same answer: nothing released
    assert SlotHold.objects.filter(pk=held.pk).exists() and not Booking.objects.exists()
    assert _book(_client(partners.peter), cast, start, token).status_code == 200


def test_p12_a_user_who_may_not_book_cannot_hold(cast, partners, start):
    petra = _client(partners.petra)
    assert _open(petra, cast, start).status_code == 403
    assert petra.post(RELEASE, {"hold": "0" * 48}).status_code == 403
    assert not SlotHold.objects.exists()
