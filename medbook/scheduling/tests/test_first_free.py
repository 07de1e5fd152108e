"""The first free time (issue 23): the earliest free times of a service across every calendar the desk may
book, one click from its booking form; and the jump links to each calendar."""

import re
from datetime import date, timedelta
from urllib.parse import parse_qsl

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.institutions.tests.factories import PhysicianFactory, ServiceFactory, weekly_hours
from medbook.scheduling import holds, selectors
from medbook.scheduling.first_free import FIRST_FREE_SHOWN, first_free
from medbook.scheduling.models import Booking, WorkingHours

pytestmark = pytest.mark.django_db

FIRST_FREE = reverse("scheduling:first-free")
CALENDAR = reverse("scheduling:calendar")


def _working_from(day) -> None:
    """Every physician works (08:00–16:00) only from `day` on: the first free times do not hang on the clock."""
    WorkingHours.objects.update(valid_from=day)


def _colleagues(cast, count: int, start: str = "08:00"):
    """`count` more physicians giving A's service at A North, working from 08:00 (or later)."""
    found = []
    for n in range(count):
        physician = PhysicianFactory(
            institution=cast.institution_a, full_name=f"Dr. Colleague {n}", locations=[cast.location_a2]
        )
        cast.service_a.physicians.add(physician)
        hour, minute = (int(part) for part in start.split(":"))
        weekly_hours(physician, cast.location_a2, start=timezone.datetime(2000, 1, 1, hour, minute).time())
        found.append(physician)
    return found


def _times(response) -> list[tuple[str, str]]:
    """The offered times' (booking form request, text) in order."""
    html = response.content.decode()
    return [
        (url.replace("&amp;", "&"), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip())
        for url, text in re.findall(r'hx-get="([^"]+)" hx-target="#panel">(.*?)</button>', html, re.S)
    ]


def test_b5_first_free_lists_the_earliest_times_across_physicians_and_locations(cast, login):
    day = next_weekday(2)
    _colleagues(cast, 1, start="08:15")
    _working_from(day)
    response = login(cast.bob).get(FIRST_FREE, {"service": cast.service_a.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    times = _times(response)
    assert len(times) == FIRST_FREE_SHOWN
    texts = [text for _url, text in times]
    # By time across both physicians (Alpha at A Central from 08:00, the colleague at A North from 08:15),
    # in the institution's zone, with physician, location and institution.
    assert "08:00 · Dr. Alpha · A Central · Institution A" in texts[0]
    assert "08:15 · Dr. Colleague 0 · A North · Institution A" in texts[1]
    assert "08:30 · Dr. Alpha" in texts[2]
    assert "Cardiology check" in response.content.decode()


def test_b5_first_free_time_opens_the_booking_form_of_its_calendar_and_books_there(cast, login):
    day = next_weekday(2)
    (colleague,) = _colleagues(cast, 1, start="07:00")
    _working_from(day)
    client = login(cast.bob)
    response = client.get(FIRST_FREE, {"service": cast.service_a.pk}, HTTP_HX_REQUEST="true")
    url, text = _times(response)[0]
    assert "07:00 · Dr. Colleague 0 · A North" in text
    path, query = url.split("?", 1)
    data = dict(parse_qsl(query, keep_blank_values=True))
    assert data["location"] == str(cast.location_a2.pk) and data["slot_physician"] == str(colleague.pk)
    # The click: the same htmx request as a free slot's, which holds the time.
    form = client.get(path, data, HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'id="booking-form"' in html and "A North" in html
    hold = re.search(r'name="hold" value="([^"]+)"', html).group(1)
    assert holds.SlotHold.objects.get().starts_at == local(day, 7)
    # The form keeps the time's own location over the page's filters (A Central): booked at A North.
    posted = re.findall(
        r'<input type="hidden" name="(location|service|physician|week)" value="([^"]*)"', html
    )
    assert dict(posted)["location"] == str(cast.location_a2.pk)
    booked = client.post(
        path,
        {
            **dict(posted),
            "slot_physician": colleague.pk,
            "starts_at": local(day, 7).isoformat(),
            "hold": hold,
            "channel": selectors.default_channel(institution=cast.institution_a).pk,
            "new-full_name": "Fiona First",
            "new-phone": "+36 30 123 4567",
        },
        HTTP_HX_REQUEST="true",
    )
    assert booked.status_code == 200
    booking = Booking.objects.get()
    assert (booking.location, booking.physician, booking.starts_at) == (
        cast.location_a2,
        colleague,
        local(day, 7),
    )
    assert "Fiona First" in booked.content.decode()  # the calendars of that location and week, shown after


def test_b5_first_free_at_the_location_chosen_only(cast, login):
    day = next_weekday(2)
    _colleagues(cast, 1, start="07:00")
    _working_from(day)
    client = login(cast.bob)
    chosen = {"service": cast.service_a.pk, "location": cast.location_a1.pk}
    texts = [text for _url, text in _times(client.get(FIRST_FREE, chosen, HTTP_HX_REQUEST="true"))]
    assert texts and all("A Central" in text and "Dr. Alpha" in text for text in texts)
    # "At every location" ticked: the location the filters chose does not narrow it.
    everywhere = _times(client.get(FIRST_FREE, {**chosen, "every_location": "1"}, HTTP_HX_REQUEST="true"))
    assert "07:00 · Dr. Colleague 0 · A North" in everywhere[0][1]


def test_b5_first_free_leaves_out_booked_and_held_times(cast, login):
    day = next_weekday(2)
    _working_from(day)
    actor = actor_of(cast.alice)
    booking_at, held_at = local(day, 8), local(day, 8, 30)
    Booking.objects.create(
        institution=cast.institution_a,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=booking_at,
        ends_at=booking_at + timedelta(minutes=30),
        channel=selectors.default_channel(institution=cast.institution_a),
        price=cast.service_a.price,
        currency=cast.service_a.currency,
    )
    holds.slot_hold(
        actor=actor,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        starts_at=held_at,
    )
    texts = [text for _url, text in _times(login(cast.bob).get(FIRST_FREE, {"service": cast.service_a.pk}))]
    assert "09:00 · Dr. Alpha" in texts[0]  # not 08:00 (booked), not 08:30 (Alice holds it)
    # Alice's own hold is free for her.
    own = first_free(actor=actor, calendars=selectors.desk_offers(actor=actor), limit=1)
    assert [t.starts_at for t in own] == [held_at]


def test_b5_first_free_finds_a_time_weeks_ahead_and_says_when_there_is_none(cast, login):
    _working_from(next_weekday(2, weeks_ahead=5))
    client = login(cast.bob)
    times = _times(client.get(FIRST_FREE, {"service": cast.service_a.pk}))
    assert len(times) == FIRST_FREE_SHOWN
    WorkingHours.objects.all().delete()
    response = client.get(FIRST_FREE, {"service": cast.service_a.pk})
    assert response.status_code == 200
    assert "No free time in the next 8 weeks." in response.content.decode()


def test_b5_first_free_query_count_does_not_grow_with_physicians(cast, django_assert_num_queries):
    _working_from(date.today() + timedelta(days=3))  # within the first span of days read
    actor = actor_of(cast.bob)

    def search() -> None:
        calendars = selectors.desk_offers(actor=actor)
        # The calendars' institution, and their working hours, leave, and bookings with others' holds of a week.
        with django_assert_num_queries(4):
            found = first_free(actor=actor, calendars=calendars)
        assert len(found) == FIRST_FREE_SHOWN

    search()
    _colleagues(cast, 6)
    search()


def test_b5_first_free_bad_input_is_400_with_a_message(cast, login):
    client = login(cast.bob)
    missing = client.get(FIRST_FREE, HTTP_HX_REQUEST="true")
    assert missing.status_code == 400 and "Choose a service." in missing.content.decode()
    garbage = client.get(FIRST_FREE, {"service": "cardiology"}, HTTP_HX_REQUEST="true")
    assert garbage.status_code == 400
    assert "Select a valid choice" in garbage.content.decode()


def test_t1_first_free_of_another_institutions_service_or_location_is_404(cast, login):
    client = login(cast.bob)
    assert client.get(FIRST_FREE, {"service": cast.service_b.pk}).status_code == 404
    other_location = {"service": cast.service_a.pk, "location": cast.location_b.pk}
    assert client.get(FIRST_FREE, other_location).status_code == 404
    # And B's admin never sees A's times.
    assert login(cast.charlie).get(FIRST_FREE, {"service": cast.service_a.pk}).status_code == 404


def test_t1_first_free_of_b_lists_only_bs_physicians(cast, login):
    _working_from(next_weekday(2))
    texts = [
        text for _url, text in _times(login(cast.charlie).get(FIRST_FREE, {"service": cast.service_b.pk}))
    ]
    assert texts and all("Dr. Beta · B Only · Institution B" in text for text in texts)


def test_p13_partner_users_are_refused_the_desks_first_free(cast, partners, login):
    assert login(partners.peter).get(FIRST_FREE, {"service": cast.service_a.pk}).status_code == 403


def test_b5_calendar_has_the_first_free_control_and_jump_links_to_each_calendar(cast, login):
    day = next_weekday(2)
    doctor = PhysicianFactory(
        institution=cast.institution_a, full_name="Dr. Second", locations=[cast.location_a1]
    )
    cast.service_a.physicians.add(doctor)
    weekly_hours(doctor, cast.location_a1)
    query = {"location": cast.location_a1.pk, "service": cast.service_a.pk, "week": day.isoformat()}
    html = login(cast.bob).get(CALENDAR, query).content.decode()
    assert 'id="first-free"' in html and "First free time" in html
    control = html.split('id="first-free"', 1)[1].split("</form>", 1)[0]
    assert 'hx-include="#calendar-filters"' in control  # the filters' service (and location)
    assert 'name="every_location" value="1" checked' in control
    jump = html.split('data-testid="calendar-jump"', 1)[1].split("</nav>", 1)[0]
    for physician in (cast.physician_a, doctor):
        anchor = f"calendar-{physician.pk}-{cast.location_a1.pk}-{cast.service_a.pk}"
        assert f'href="#{anchor}"' in jump and f'id="{anchor}"' in html
    assert "Dr. Alpha" in jump and "Dr. Second" in jump


def test_b5_one_calendar_has_no_jump_links(cast, login):
    query = {"location": cast.location_a1.pk, "service": cast.service_a.pk, "physician": cast.physician_a.pk}
    html = login(cast.bob).get(CALENDAR, query).content.decode()
    assert 'data-testid="calendar-jump"' not in html


def test_b5_first_free_time_in_hungarian(cast, login):
    _working_from(next_weekday(2))
    client = login(cast.bob)
    response = client.get(FIRST_FREE, {"service": cast.service_a.pk}, HTTP_ACCEPT_LANGUAGE="hu")
    html = response.content.decode()
    assert "Első szabad időpontok" in html


def test_b5_unused_service_of_the_desk_has_no_times(cast, login):
    unused = ServiceFactory(
        institution=cast.institution_a, name="Nobody gives it", locations=[cast.location_a1]
    )
    response = login(cast.bob).get(FIRST_FREE, {"service": unused.pk})
    assert response.status_code == 200 and "No free time" in response.content.decode()
