"""The reception calendar's booking form holds its slot (issue 21): opening a free slot holds it for the
clerk, a second clerk opening it is told at once, the holder books it with the hold, closing the form
releases it; a hold's token is its holder's own and useless to anyone else."""

import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from conftest import local, next_weekday
from medbook.scheduling.holds import LIVE_HOLDS_MAX
from medbook.scheduling.models import Booking, SlotHold
from medbook.scheduling.tests.test_calendar_views import _filters

pytestmark = pytest.mark.django_db

OPEN = reverse("scheduling:booking-create")
RELEASE = reverse("scheduling:booking-hold-release")
HELD = "Someone else is booking this time right now"
TOKEN = re.compile(r'name="hold"(?: value="([0-9a-f]*)")?')


@pytest.fixture
def start() -> datetime:
    return local(next_weekday(2), 10)


def _calendar(cast, start, **extra) -> dict:
    """The calendar shown (its filters) and the slot clicked in it."""
    slot = {"slot_physician": cast.physician_a.pk, "starts_at": start.isoformat()}
    return {**_filters(cast, start.date()), **slot, **extra}


def _open(client, cast, start, htmx=True):
    """Click the free slot at `start` on the calendar (the slot button's htmx request)."""
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.get(OPEN, _calendar(cast, start), **extra)


def _token(response) -> str:
    """The hold token the opened (or shown again) booking form carries; "" when none."""
    found = TOKEN.search(response.content.decode())
    assert found, response.content
    return found.group(1) or ""


def _book(client, cast, start, hold, **extra):
    data = _calendar(
        cast,
        start,
        hold=hold,
        patient=cast.patient_a.pk,
        channel=cast.institution_a.channels.get(code="reception").pk,
        **extra,
    )
    return client.post(OPEN, data, HTTP_HX_REQUEST="true")


def _free_on_calendar(client, cast, start) -> set[datetime]:
    """The free starts the user's calendar shows in the week (after a refresh)."""
    html = client.get(reverse("scheduling:calendar"), _calendar(cast, start)).content.decode()
    return {datetime.fromisoformat(s) for s in re.findall(r'class="slot free" data-start="([^"]+)"', html)}


def test_b7_opening_a_slot_holds_it_the_second_clerk_is_told_at_once_and_the_holder_books_it(
    cast, client, start
):
    bob, alice = client, type(client)()
    bob.force_login(cast.bob)
    alice.force_login(cast.alice)
    opened = _open(bob, cast, start)
    assert opened.status_code == 200
    token = _token(opened)
    assert len(token) == 48 and SlotHold.objects.filter(user=cast.bob).count() == 1

    second = _open(alice, cast, start)
    assert second.status_code == 409 and HELD in second.content.decode()
    assert 'id="booking-form"' not in second.content.decode()
    assert start not in _free_on_calendar(alice, cast, start)  # her grid, refreshed, shows it not free
    assert start in _free_on_calendar(bob, cast, start)  # the holder's shows it free

    booked = _book(bob, cast, start, token)
    assert booked.status_code == 200, booked.content
    booking = Booking.objects.get()
    assert booking.starts_at == start and booking.booked_by == cast.bob
    assert not SlotHold.objects.exists()  # the booking consumed the hold


def test_b7_the_new_patient_path_books_a_held_slot(cast, login, start):
    client = login(cast.bob)
    token = _token(_open(client, cast, start))
    data = {
        **_calendar(cast, start, hold=token),
        "channel": cast.institution_a.channels.get(code="reception").pk,
        "new-full_name": "Nora New",
        "new-phone": "+36 30 123 4567",
    }
    response = client.post(OPEN, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content
    assert Booking.objects.get().patient.full_name == "Nora New" and not SlotHold.objects.exists()


def test_b7_closing_the_form_releases_the_hold_at_once(cast, client, start):
    bob, alice = client, type(client)()
    bob.force_login(cast.bob)
    alice.force_login(cast.alice)
    token = _token(_open(bob, cast, start))
    assert _open(alice, cast, start).status_code == 409
    closed = bob.post(RELEASE, {"hold": token}, HTTP_HX_REQUEST="true")
    assert closed.status_code == 200 and closed.content == b""  # the panel is emptied
    assert not SlotHold.objects.exists()
    assert _open(alice, cast, start).status_code == 200


def test_b7_a_slot_booked_meanwhile_is_told_when_opened(cast, login, start):
    client = login(cast.bob)
    assert _book(client, cast, start, "").status_code == 200
    response = _open(client, cast, start)
    assert response.status_code == 409 and "This slot is no longer available." in response.content.decode()
    assert not SlotHold.objects.exists()


def test_b7_a_plain_link_to_the_form_holds_nothing(cast, login, start):
    response = _open(login(cast.bob), cast, start, htmx=False)
    assert response.status_code == 200 and _token(response) == ""
    assert not SlotHold.objects.exists()


@pytest.mark.parametrize(
    ("starts_at", "message"),
    [
        ("not-a-time", "Enter a valid date and time."),
        ("2026-01-01T10:00:00", "Enter a valid date and time."),  # no UTC offset
        ("9999-01-01T10:00:00+00:00", "Enter a date between 1900 and 2999."),
        ("", "This field is required."),
    ],
)
def test_b7_opening_a_bad_time_is_a_clear_refusal_not_an_error(cast, login, start, starts_at, message):
    response = login(cast.bob).get(OPEN, _calendar(cast, start, starts_at=starts_at), HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and message in response.content.decode()
    assert not SlotHold.objects.exists()


def test_b7_an_ended_hold_is_taken_again_at_submit_and_the_clerk_books_with_the_new_one(cast, login, start):
    client = login(cast.bob)
    token = _token(_open(client, cast, start))
    SlotHold.objects.update(expires_at=start - timedelta(days=30))  # expired while the clerk typed
    again = _book(client, cast, start, token, note="Kept")
    assert again.status_code == 422 and "it is held for you again" in again.content.decode()
    assert "Kept" in again.content.decode()  # what was typed stays
    renewed = _token(again)
    assert renewed != token and SlotHold.objects.filter(user=cast.bob).count() == 1
    assert _book(client, cast, start, renewed).status_code == 200
    assert Booking.objects.count() == 1 and not SlotHold.objects.exists()


def test_b7_an_ended_hold_someone_else_holds_now_is_told_at_submit(cast, client, start):
    bob, alice = client, type(client)()
    bob.force_login(cast.bob)
    alice.force_login(cast.alice)
    token = _token(_open(bob, cast, start))
    bob.post(RELEASE, {"hold": token})  # released in another tab
    _token(_open(alice, cast, start))
    response = _book(bob, cast, start, token)
    assert response.status_code == 422 and HELD in response.content.decode()
    assert not Booking.objects.exists() and SlotHold.objects.get().user == cast.alice


def test_hostile_tenant_another_users_hold_token_is_useless_and_never_consumes_the_hold(cast, client, start):
    bob, alice, charlie = client, type(client)(), type(client)()
    bob.force_login(cast.bob)
    alice.force_login(cast.alice)
    charlie.force_login(cast.charlie)
    token = _token(_open(bob, cast, start))
    held = SlotHold.objects.get()

    # Institution B's admin: A's slot is 404 with the token; releasing it releases nothing.
    assert _book(charlie, cast, start, token).status_code == 404
    assert charlie.post(RELEASE, {"hold": token}).status_code == 200
    # Booking B's own calendar naming A's token: refused as unknown (B's slot is held for Charlie instead).
    b_start = local(next_weekday(2), 11)
    b_data = {
        "location": cast.location_b.pk,
        "service": cast.service_b.pk,
        "slot_physician": cast.physician_b.pk,
        "starts_at": b_start.isoformat(),
        "hold": token,
        "patient": cast.patient_b.pk,
        "channel": cast.institution_b.channels.get(code="reception").pk,
    }
    assert charlie.post(OPEN, b_data, HTTP_HX_REQUEST="true").status_code == 422
    # Another clerk of the same institution: booking or releasing with Bob's token is refused too.
    refused = _book(alice, cast, start, token)
    assert refused.status_code == 422 and HELD in refused.content.decode()
    assert alice.post(RELEASE, {"hold": token}).status_code == 200

    assert SlotHold.objects.filter(pk=held.pk).exists()  # Bob's hold is untouched throughout
    assert not Booking.objects.exists()
    assert _open(alice, cast, start).status_code == 409
    assert _book(bob, cast, start, token).status_code == 200


def test_release_is_a_post_of_a_clerk_who_may_book(cast, login):
    assert login(cast.bob).get(RELEASE).status_code == 405


def test_b7_a_clerk_holding_too_many_times_is_told_why_when_opening_another(cast, login, start):
    client = login(cast.bob)
    for hour in range(8, 8 + LIVE_HOLDS_MAX):  # five forms left open in other tabs
        assert _open(client, cast, start.replace(hour=hour)).status_code == 200
    response = _open(client, cast, start.replace(hour=14))
    assert response.status_code == 400
    assert "You are holding 5 times already: book or release one first." in response.content.decode()
    assert SlotHold.objects.count() == LIVE_HOLDS_MAX
