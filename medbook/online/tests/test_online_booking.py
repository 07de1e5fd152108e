"""Online booking by logged-out patients (B-13): the pages, the code, the booking and its record."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import local, next_weekday
from medbook.institutions.models import Location, Physician
from medbook.institutions.tests.factories import PhysicianFactory, ServiceFactory, weekly_hours
from medbook.notifications.models import OutboxMessage
from medbook.online.models import OnlineRequest
from medbook.online.services import online_requests_sweep
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


def test_b13_only_active_physicians_at_active_locations_are_offered(online, client):
    a = online.institution_a
    gamma = PhysicianFactory(institution=a, full_name="Dr. Gamma", locations=[online.location_a1])
    online.service_a.physicians.add(gamma)
    weekly_hours(gamma, online.location_a1)
    weekly_hours(online.physician_a, online.location_a2)
    url = reverse("online:times", args=[a.pk, online.service_a.pk])
    page = client.get(url).content.decode()
    assert "Dr. Gamma" in page and "A North" in page  # the control: both offered while active
    Physician.objects.filter(pk=gamma.pk).update(is_active=False)
    Location.objects.filter(pk=online.location_a2.pk).update(is_active=False)
    page = client.get(url).content.decode()
    assert 'data-testid="free-time"' in page
    assert "Dr. Gamma" not in page and "A North" not in page


def test_b13_each_free_time_links_its_time_and_escapes_the_names(online, client):
    Physician.objects.filter(pk=online.physician_a.pk).update(full_name='Dr. <b>"Alpha"</b> & Co')
    Location.objects.filter(pk=online.location_a1.pk).update(name="<script>alert(1)</script>")
    monday = next_weekday(0)
    page, _, _ = _times_page(client, online, monday)
    first = local(monday, 8)  # Dr. Alpha's first time that Monday, 08:00 local
    link = (
        f'<li><a href="{reverse("online:details", args=[online.institution_a.pk, online.service_a.pk])}'
        f"?location={online.location_a1.pk}&amp;physician={online.physician_a.pk}&amp;at={int(first.timestamp())}"
        '" data-testid="free-time">08:00<small>Dr. &lt;b&gt;&quot;Alpha&quot;&lt;/b&gt; &amp; Co · '
        "&lt;script&gt;alert(1)&lt;/script&gt;</small></a></li>"
    )
    assert link in page
    assert "<script>alert" not in page and "<b>" not in page


def _times_page(client, cast, day):
    url = reverse("online:times", args=[cast.institution_a.pk, cast.service_a.pk])
    page = client.get(url, {"date_from": day.isoformat()}).content.decode()
    days = re.findall(r'<section class="free-day"', page)
    return page, len(days), page.count('data-testid="free-time"')


def test_b13_a_page_shows_up_to_40_times_in_whole_days_and_later_starts_with_the_next(online, client):
    monday = next_weekday(0)  # Dr. Alpha works 8-16 at A Central every day: 16 half-hour times a day
    page, days, times = _times_page(client, online, monday)
    assert (days, times) == (2, 32)  # a third day's 16 would make 48: it starts the next page
    later = monday + timedelta(days=2)
    assert f"date_from={later.isoformat()}" in page
    page, days, times = _times_page(client, online, later)
    assert (days, times) == (2, 32) and "09:00" in page
    # A day with more than 40 times is shown whole, alone.
    weekly_hours(online.physician_a, online.location_a2)
    gamma = PhysicianFactory(
        institution=online.institution_a, full_name="Dr. Gamma", locations=[online.location_a1]
    )
    online.service_a.physicians.add(gamma)
    weekly_hours(gamma, online.location_a1)
    page, days, times = _times_page(client, online, monday)
    assert (days, times) == (1, 48)
    assert f"date_from={(monday + timedelta(days=1)).isoformat()}" in page


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


def _shape(text: str, *secrets: str) -> str:
    """A page or e-mail with what differs between any two requests (tokens, codes, ids) blanked."""
    for secret in secrets:
        text = text.replace(secret, "…")
    text = re.sub(r'<dl class="details panel" data-testid="chosen-time">.*?</dl>', "", text, flags=re.S)
    text = re.sub(r"\b\d\d:\d\d\b", "", text)  # the hold's end: each request its own minute
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "", text)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_b13_the_register_is_no_oracle_an_existing_patient_and_a_newcomer_see_the_same(online):
    """Anna is a patient of A (her e-mail and birth date in the register); Nora is not. Each books the same
    way at the same hour of two weeks: every page and e-mail reads the same, once the tokens and codes are
    blanked. Anna's booking is on her record; Nora's makes a record marked online."""
    Patient.objects.filter(pk=online.patient_a.pk).update(email="anna@example.test", birth_date="1980-01-02")
    seen = []
    for week, details in (
        (2, person(full_name="Anna Patient", email="anna@example.test", birth_date="1980-01-02")),
        (3, person(email="nora@example.test")),
    ):
        client = Client()
        url = details_url(online, hour=11, weekday=2)  # the same hour, each in a week of its own
        at = int(local(next_weekday(2, weeks_ahead=week), 11).timestamp())
        url = re.sub(r"at=\d+", f"at={at}", url)
        query = dict(pair.split("=") for pair in url.split("?", 1)[1].split("&"))
        started = client.post(url, {**query, **details})
        token = started["Location"].rstrip("/").rsplit("/", 1)[1]
        code = last_code(details["email"])
        waiting = client.get(started["Location"])
        done = client.post(started["Location"], {"code": code})
        shown = client.get(started["Location"])
        mail = OutboxMessage.objects.get(kind="online_code", to_email=details["email"])
        secrets_ = (token, code, details["email"], str(at))
        seen.append(
            (
                started.status_code,
                _shape(started["Location"], *secrets_),
                waiting.status_code,
                _shape(waiting.content.decode(), *secrets_),
                done.status_code,
                _shape(done["Location"], *secrets_),
                shown.status_code,
                len(mail.text_body.replace(code, "").replace(details["email"], "")),
            )
        )
    assert seen[0] == seen[1]
    anna = Booking.objects.get(channel__code="online", patient__email="anna@example.test")
    nora = Booking.objects.get(channel__code="online", patient__email="nora@example.test")
    assert anna.patient_id == online.patient_a.pk and not anna.patient.registered_online
    assert nora.patient.registered_online


def test_b13_the_same_email_with_another_name_is_a_new_record_for_the_desk_to_merge(online, client):
    Patient.objects.filter(pk=online.patient_a.pk).update(email="anna@example.test", birth_date="1980-01-02")
    verify = _start(
        client, online, full_name="Someone Else", email="anna@example.test", birth_date="1980-01-02"
    )
    client.post(verify["Location"], {"code": last_code("anna@example.test")})
    booking = Booking.objects.get(channel__code="online")
    assert booking.patient_id != online.patient_a.pk and booking.patient.registered_online


def test_b13_a_taj_number_of_the_register_is_accepted_and_never_confirmed(online, client):
    """The TAJ of Anna, typed by anyone, answers as any valid TAJ does and makes a record of its own."""
    response = _start(client, online, insurance_id=online.patient_a.insurance_id)
    assert response.status_code == 302
    client.post(response["Location"], {"code": last_code("nora@example.test")})
    booking = Booking.objects.get(channel__code="online")
    assert (
        booking.patient.insurance_id == online.patient_a.insurance_id
        and booking.patient_id != online.patient_a.pk
    )


def test_b13_a_robot_filling_the_hidden_field_holds_and_sends_nothing(online, client):
    response = _start(client, online, website="http://spam.example")
    assert response.status_code == 400
    assert not SlotHold.objects.exists() and not OnlineRequest.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_b13_requests_past_the_hourly_limit_answer_429_with_a_message(online, settings):
    """One address floods: the hourly limit per address refuses the third request, whatever the e-mail."""
    settings.ONLINE_BOOKING_LIMIT_HOUR = 2
    settings.ONLINE_UNCONFIRMED_MAX = 10
    client = Client()
    answers = [
        client.post(
            details_url(online, hour=9 + n),
            {**_picked_at(online, 9 + n), **person(email=f"p{n}@example.test")},
        )
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert "Too many online bookings from here: try again in an hour." in answers[2].content.decode()
    assert answers[2]["Retry-After"] == "3600"
    assert SlotHold.objects.count() == 2


def test_b13_one_email_address_may_have_a_few_unconfirmed_requests_at_once(online, settings):
    settings.ONLINE_UNCONFIRMED_MAX = 2
    answers = [
        Client(REMOTE_ADDR=f"198.51.100.{n}").post(
            details_url(online, hour=9 + n), {**_picked_at(online, 9 + n), **person()}
        )
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert "waiting for their e-mailed code" in answers[2].content.decode()
    assert SlotHold.objects.count() == 2


def test_b13_a_phone_number_is_limited_too(online, settings):
    settings.ONLINE_BOOKING_LIMIT_HOUR = 1
    first = Client(REMOTE_ADDR="198.51.100.1").post(
        details_url(online, hour=9), {**_picked_at(online, 9), **person(phone="+36 30 123 4567")}
    )
    second = Client(REMOTE_ADDR="198.51.100.2").post(
        details_url(online, hour=10),
        {**_picked_at(online, 10), **person(email="other@example.test", phone="+36301234567")},
    )
    assert (first.status_code, second.status_code) == (302, 429)


def test_b13_code_attempts_are_bounded(online, client, settings):
    settings.ONLINE_CODE_ATTEMPTS = 3
    verify = _start(client, online)["Location"]
    code = last_code("nora@example.test")
    wrong = "000000" if code != "000000" else "111111"
    statuses = [client.post(verify, {"code": wrong}).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    late = client.post(verify, {"code": code})
    assert late.status_code == 429 and "Too many wrong codes" in late.content.decode()
    assert not Booking.objects.filter(channel__code="online").exists()


def test_b13_an_expired_hold_books_nothing_and_frees_the_time(online, client):
    verify = _start(client, online)["Location"]
    past = timezone.now() - timedelta(seconds=1)
    SlotHold.objects.update(expires_at=past)
    OnlineRequest.objects.update(expires_at=past)
    response = client.post(verify, {"code": last_code("nora@example.test")})
    assert response.status_code == 422 and "choose a time again" in response.content.decode()
    assert not Booking.objects.filter(channel__code="online").exists()
    assert "The time is no longer held" in client.get(verify).content.decode()


def test_b13_another_hold_token_is_useless(online):
    first, second = Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.2")
    mine = first.post(
        details_url(online, hour=9), {**_picked_at(online, 9), **person(email="a@example.test")}
    )["Location"]
    theirs = second.post(
        details_url(online, hour=10), {**_picked_at(online, 10), **person(email="b@example.test")}
    )["Location"]
    # A well-formed token nobody was given, and a malformed one: 404, like any unknown address.
    assert first.get(reverse("online:verify", args=["0" * 48])).status_code == 404
    assert first.get(reverse("online:verify", args=["not-a-token"])).status_code == 404
    # My code does not open their request.
    assert first.post(theirs, {"code": last_code("a@example.test")}).status_code in (422,)
    assert not Booking.objects.filter(channel__code="online").exists()
    # Their held time is refused to the desk and to anyone else meanwhile.
    assert second.post(mine, {"code": last_code("a@example.test")}).status_code == 302  # the token is the key


def test_b13_a_held_time_is_not_offered_to_anyone_else(online, client):
    _start(client, online)
    hold = SlotHold.objects.get()
    page = Client().get(
        reverse("online:times", args=[online.institution_a.pk, online.service_a.pk]),
        {"date_from": timezone.localdate().isoformat()},
    )
    assert f"at={int(hold.starts_at.timestamp())}" not in page.content.decode()
    again = Client(REMOTE_ADDR="198.51.100.7").post(
        details_url(online), {**_picked(online), **person(email="x@example.test")}
    )
    assert again.status_code == 422 and "Someone else is booking this time" in again.content.decode()


def _picked_at(cast, hour: int) -> dict:
    query = details_url(cast, hour=hour).split("?", 1)[1]
    return dict(pair.split("=") for pair in query.split("&"))


def test_b13_the_worker_deletes_requests_an_hour_after_their_hold_expired(online, client):
    _start(client, online)
    assert online_requests_sweep() == 0
    OnlineRequest.objects.update(expires_at=timezone.now() - timedelta(hours=1, seconds=1))
    assert online_requests_sweep() == 1 and not OnlineRequest.objects.exists()
