"""Working hours: weekly rules per physician and location, listed by physician (B-5)."""

import html
from datetime import time

from django.urls import reverse

from medbook.institutions.tests.factories import LocationFactory, PhysicianFactory, WorkingHoursFactory
from medbook.scheduling.models import WorkingHours

LIST = reverse("scheduling:workinghours-list")
CREATE = reverse("scheduling:workinghours-create")
MONDAY = WorkingHours.Weekday.MONDAY


def hours_data(cast, **changes) -> dict:
    data = {
        "physician": cast.physician_a.pk,
        "location": cast.location_a2.pk,
        "weekday": MONDAY,
        "start_time": "17:00",
        "end_time": "19:30",
        "valid_from": "",
        "valid_until": "",
    }
    return {**data, **changes}


def test_b5_working_hours_are_listed_by_physician(cast, login):
    other = PhysicianFactory(
        institution=cast.institution_a, full_name="Dr. Zeta", locations=[cast.location_a2]
    )
    WorkingHoursFactory(physician=other, location=cast.location_a2, weekday=MONDAY)
    content = login(cast.alice).get(LIST).content.decode()
    assert "<h2>Dr. Alpha</h2>" in content and "<h2>Dr. Zeta</h2>" in content
    assert content.index("Dr. Alpha") < content.index("Dr. Zeta")
    assert content.count("A Central") == 7 and "Sunday" in content
    assert "<td>08:00</td><td>16:00</td>" in content
    assert "Dr. Beta" not in content and "B Only" not in content


def test_b5_admin_adds_working_hours(cast, login):
    response = login(cast.alice).post(CREATE, hours_data(cast), follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert b"Saved." in response.content and b"A North" in response.content
    hours = WorkingHours.objects.get(location=cast.location_a2)
    assert (hours.weekday, hours.start_time, hours.end_time) == (MONDAY, time(17), time(19, 30))


def test_b5_admin_edits_working_hours(cast, login):
    hours = WorkingHours.objects.get(physician=cast.physician_a, weekday=MONDAY)
    url = reverse("scheduling:workinghours-edit", args=[hours.pk])
    client = login(cast.alice)
    assert b'value="08:00"' in client.get(url).content
    data = hours_data(cast, location=cast.location_a1.pk, start_time="07:00", end_time="13:00")
    assert client.post(url, data).status_code == 302
    hours.refresh_from_db()
    assert (hours.start_time, hours.end_time) == (time(7), time(13))


def test_b5_admin_deletes_working_hours_with_htmx(cast, login):
    hours = WorkingHours.objects.get(physician=cast.physician_a, weekday=MONDAY)
    url = reverse("scheduling:workinghours-delete", args=[hours.pk])
    response = login(cast.alice).post(url, headers={"HX-Request": "true", "HX-Target": f"row-{hours.pk}"})
    assert response.status_code == 200 and response.content == b""
    assert not WorkingHours.objects.filter(pk=hours.pk).exists()


def test_b5_admin_deletes_working_hours_from_the_edit_page(cast, login):
    hours = WorkingHours.objects.get(physician=cast.physician_a, weekday=MONDAY)
    url = reverse("scheduling:workinghours-delete", args=[hours.pk])
    response = login(cast.alice).post(url, follow=True)
    assert response.redirect_chain[-1][0] == LIST and b"Deleted." in response.content
    assert not WorkingHours.objects.filter(pk=hours.pk).exists()


def test_b5_until_not_after_from_is_a_form_error(cast, login):
    response = login(cast.alice).post(CREATE, hours_data(cast, start_time="18:00", end_time="18:00"))
    assert response.status_code == 422
    assert "“Until” must be later than “from”." in response.content.decode()
    assert not WorkingHours.objects.filter(location=cast.location_a2).exists()


def test_b5_valid_until_before_valid_from_is_a_form_error(cast, login):
    data = hours_data(cast, valid_from="2026-06-01", valid_until="2026-05-01")
    response = login(cast.alice).post(CREATE, data)
    assert response.status_code == 422
    assert "“Valid until” cannot be before “valid from”." in response.content.decode()


def test_b5_physician_not_at_location_is_a_form_error(cast, login):
    elsewhere = LocationFactory(institution=cast.institution_a, name="A East")
    response = login(cast.alice).post(CREATE, hours_data(cast, location=elsewhere.pk))
    assert response.status_code == 422
    assert b"Dr. Alpha does not work at A East." in response.content
    assert not WorkingHours.objects.filter(location=elsewhere).exists()


def test_b5_overlapping_hours_of_one_physician_are_a_form_error(cast, login):
    response = login(cast.alice).post(CREATE, hours_data(cast, start_time="09:00", end_time="11:00"))
    assert response.status_code == 422
    assert "overlap the physician's hours 08:00–16:00 at A Central" in html.unescape(
        response.content.decode()
    )


def test_b5_other_institution_physician_and_location_are_refused(cast, login):
    data = hours_data(cast, physician=cast.physician_b.pk, location=cast.location_b.pk)
    response = login(cast.alice).post(CREATE, data)
    assert response.status_code == 422
    assert response.content.count(b"Select a valid choice.") == 2
    assert not WorkingHours.objects.filter(location=cast.location_b, start_time=time(17)).exists()


def test_b5_stranger_cannot_delete_working_hours(cast, login):
    hours = WorkingHours.objects.filter(physician=cast.physician_a).first()
    response = login(cast.charlie).post(reverse("scheduling:workinghours-delete", args=[hours.pk]))
    assert response.status_code == 404
    assert WorkingHours.objects.filter(pk=hours.pk).exists()
