"""The first free time on "Book to partner" (issue 23): the earliest free times of a service across every
institution, location and physician the partner may book, and nothing it may not."""

import re
from datetime import date, timedelta
from urllib.parse import parse_qsl

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.institutions.models import Institution
from medbook.institutions.tests.factories import (
    InstitutionFactory,
    LocationFactory,
    PhysicianFactory,
    ServiceFactory,
    weekly_hours,
)
from medbook.partners.tests.factories import partnership_make
from medbook.scheduling import holds
from medbook.scheduling.first_free import FIRST_FREE_SHOWN
from medbook.scheduling.models import SlotHold, WorkingHours

pytestmark = pytest.mark.django_db

BOOK = reverse("partners:book")
FIRST_FREE = reverse("partners:book-first-free")
SERVICE = "Cardiology check"


def _working_from(day) -> None:
    """Every physician works (08:00–16:00) only from `day` on: the first free times do not hang on the clock."""
    WorkingHours.objects.update(valid_from=day)


def _cardiology_elsewhere(cast, partners, institution=None, *, authorised=True, name="Dr. Gamma", start=8):
    """The same service (by name) at another institution, with a physician working from `start` o'clock, and
    (if `authorised`) a partnership of P there authorising it."""
    institution = institution or cast.institution_b
    location = LocationFactory(institution=institution, name=f"{institution.name} Heart")
    doctor = PhysicianFactory(institution=institution, full_name=name, locations=[location])
    service = ServiceFactory(institution=institution, name=SERVICE, locations=[location], physicians=[doctor])
    weekly_hours(doctor, location, start=timezone.datetime(2000, 1, 1, start).time())
    if authorised:
        partnership_make(institution, partners.partner_p, locations=[location], services=[service])
    return service


def _times(response) -> list[tuple[str, str]]:
    html = response.content.decode()
    return [
        (url.replace("&amp;", "&"), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip())
        for url, text in re.findall(r'hx-get="([^"]+)" hx-target="#panel">(.*?)</button>', html, re.S)
    ]


def _first_free(client, service=SERVICE):
    return client.get(FIRST_FREE, {"service": service}, HTTP_HX_REQUEST="true")


def test_p11_first_free_across_every_institution_the_partner_may_book(cast, partners, login):
    _cardiology_elsewhere(cast, partners, start=7)
    # Institution C gives the same service, but P has no partnership there: never offered.
    stranger = InstitutionFactory(name="Institution C")
    _cardiology_elsewhere(cast, partners, stranger, authorised=False, name="Dr. Stranger", start=6)
    _working_from(next_weekday(2))
    response = _first_free(login(partners.peter))
    assert response.status_code == 200
    texts = [text for _url, text in _times(response)]
    assert len(texts) == FIRST_FREE_SHOWN
    assert "07:00 · Dr. Gamma · Institution B Heart · Institution B" in texts[0]
    assert "07:30 · Dr. Gamma" in texts[1]
    assert "08:00 · Dr. Alpha · A Central · Institution A" in texts[2]  # by time, across institutions
    html = response.content.decode()
    assert "Institution C" not in html and "Dr. Stranger" not in html


def test_p11_first_free_time_opens_the_booking_form_and_holds_it(cast, partners, login):
    day = next_weekday(2)
    _working_from(day)
    client = login(partners.peter)
    url, _text = _times(_first_free(client))[0]
    path, query = url.split("?", 1)
    assert path == reverse("partners:book-slot")
    form = client.get(path, dict(parse_qsl(query)), HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    assert 'id="booking-form"' in form.content.decode()
    hold = SlotHold.objects.get()
    assert (hold.user, hold.starts_at, hold.location) == (partners.peter, local(day, 8), cast.location_a1)


def test_p11_first_free_leaves_out_unauthorised_locations_and_services(cast, partners, login):
    # A North is not authorised for P, the secret service not at all.
    weekly_hours(cast.physician_a, cast.location_a2, start=timezone.datetime(2000, 1, 1, 6).time())
    ServiceFactory(
        institution=cast.institution_a,
        name="Secret surgery",
        locations=[cast.location_a1],
        physicians=[cast.physician_a],
    )
    _working_from(next_weekday(2))
    client = login(partners.peter)
    texts = [text for _url, text in _times(_first_free(client))]
    assert texts and all("A Central" in text for text in texts)
    page = client.get(BOOK).content.decode()
    choice = page.split('id="first-free"', 1)[1].split("</form>", 1)[0]
    assert SERVICE in choice and "Secret surgery" not in choice
    assert _first_free(client, "Secret surgery").status_code == 404


def test_p11_first_free_respects_the_partner_cut_off_and_others_holds(cast, partners, login):
    Institution.objects.filter(pk=cast.institution_a.pk).update(partner_cutoff_minutes=3 * 24 * 60)
    _working_from(date.today())
    now = timezone.now()
    client = login(partners.peter)
    times = _times(_first_free(client))
    starts = [dict(parse_qsl(url.split("?", 1)[1]))["starts_at"] for url, _text in times]
    first = timezone.datetime.fromisoformat(starts[0])
    assert first >= now + timedelta(days=3)  # not inside the cut-off
    # Bob (reception) holds the partner's first time: it is not offered to the partner any more.
    holds.slot_hold(
        actor=actor_of(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        starts_at=first,
    )
    again = [dict(parse_qsl(url.split("?", 1)[1]))["starts_at"] for url, _text in _times(_first_free(client))]
    assert starts[0] not in again and again[0] == starts[1]


def test_p11_first_free_bad_input_is_400_with_a_message(cast, partners, login):
    client = login(partners.peter)
    missing = client.get(FIRST_FREE, HTTP_HX_REQUEST="true")
    assert missing.status_code == 400 and "Choose a service." in missing.content.decode()


def test_t1_first_free_of_another_institutions_service_gives_nothing(cast, partners, login):
    # B's service P has no partnership for; Q has no partnership at all.
    _working_from(next_weekday(2))
    assert _first_free(login(partners.peter), "Dermatology check").status_code == 404
    assert _first_free(login(partners.quentin)).status_code == 404


def test_p13_partner_user_who_may_not_book_and_the_desk_are_refused(cast, partners, login):
    assert _first_free(login(partners.petra)).status_code == 403
    assert _first_free(login(cast.bob)).status_code == 403


def test_p11_first_free_query_count_does_not_grow_with_calendars(
    cast, partners, login, django_assert_max_num_queries
):
    _working_from(date.today() + timedelta(days=3))
    client = login(partners.peter)
    _first_free(client)  # the session settles

    def count() -> int:
        with django_assert_max_num_queries(100) as captured:
            assert len(_times(_first_free(client))) == FIRST_FREE_SHOWN
        return len(captured)

    few = count()
    for n in range(4):
        doctor = PhysicianFactory(
            institution=cast.institution_a, full_name=f"Dr. More {n}", locations=[cast.location_a1]
        )
        cast.service_a.physicians.add(doctor)
        weekly_hours(doctor, cast.location_a1)
    _cardiology_elsewhere(cast, partners)
    _working_from(date.today() + timedelta(days=3))
    assert count() == few


def test_p11_book_has_the_first_free_control_and_jump_links(cast, partners, login):
    _cardiology_elsewhere(cast, partners)
    html = (
        login(partners.peter).get(BOOK, {"show": "1", "week": next_weekday(1).isoformat()}).content.decode()
    )
    assert 'id="first-free"' in html and "First free time" in html
    jump = html.split('data-testid="calendar-jump"', 1)[1].split("</nav>", 1)[0]
    assert "Dr. Alpha" in jump and "Dr. Gamma" in jump and "A Central" in jump
    for href in re.findall(r'href="#([^"]+)"', jump):
        assert f'id="{href}"' in html


def test_p11_nothing_to_book_has_no_first_free_control(cast, partners, login):
    html = login(partners.quentin).get(BOOK).content.decode()
    assert 'id="first-free"' not in html
