"""Leave and holidays: whole days a physician does not work, at one location or everywhere (B-5)."""

from datetime import date

from django.urls import reverse

from medbook.institutions.tests.factories import LocationFactory, ScheduleExceptionFactory
from medbook.scheduling.models import ScheduleException

LIST = reverse("scheduling:exception-list")
CREATE = reverse("scheduling:exception-create")


def leave_data(cast, **changes) -> dict:
    data = {
        "physician": cast.physician_a.pk,
        "location": "",
        "kind": ScheduleException.Kind.HOLIDAY,
        "date_from": "2026-12-24",
        "date_until": "2026-12-26",
        "note": "Christmas",
    }
    return {**data, **changes}


def test_b5_admin_lists_leave_of_own_physicians(cast, login):
    ScheduleExceptionFactory(physician=cast.physician_a, note="Conference")
    ScheduleExceptionFactory(physician=cast.physician_b, note="Stranger's leave")
    content = login(cast.alice).get(LIST).content.decode()
    assert "Conference" in content and "All locations" in content and "Leave" in content
    assert "Stranger" not in content


def test_b5_admin_adds_holiday(cast, login):
    response = login(cast.alice).post(CREATE, leave_data(cast), follow=True)
    assert b"Christmas" in response.content and b"Holiday" in response.content
    exception = ScheduleException.objects.get(note="Christmas")
    assert (exception.date_from, exception.date_until, exception.location) == (
        date(2026, 12, 24),
        date(2026, 12, 26),
        None,
    )


def test_b5_admin_edits_leave_to_one_location(cast, login):
    exception = ScheduleExceptionFactory(physician=cast.physician_a)
    url = reverse("scheduling:exception-edit", args=[exception.pk])
    data = leave_data(cast, location=cast.location_a2.pk, kind=ScheduleException.Kind.LEAVE, note="Course")
    assert login(cast.alice).post(url, data).status_code == 302
    exception.refresh_from_db()
    assert (exception.location, exception.note) == (cast.location_a2, "Course")


def test_b5_admin_deletes_leave(cast, login):
    exception = ScheduleExceptionFactory(physician=cast.physician_a)
    url = reverse("scheduling:exception-delete", args=[exception.pk])
    response = login(cast.alice).post(url, headers={"HX-Request": "true", "HX-Target": f"row-{exception.pk}"})
    assert response.status_code == 200
    assert not ScheduleException.objects.filter(pk=exception.pk).exists()


def test_b5_delete_from_the_edit_page_with_htmx_returns_to_the_list(cast, login):
    exception = ScheduleExceptionFactory(physician=cast.physician_a)
    url = reverse("scheduling:exception-delete", args=[exception.pk])
    response = login(cast.alice).post(url, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == LIST
    assert not ScheduleException.objects.filter(pk=exception.pk).exists()


def test_b5_one_day_leave_is_fine(cast, login):
    response = login(cast.alice).post(CREATE, leave_data(cast, date_until="2026-12-24"))
    assert response.status_code == 302


def test_b5_exception_until_before_from_is_a_form_error(cast, login):
    response = login(cast.alice).post(CREATE, leave_data(cast, date_until="2026-12-23"))
    assert response.status_code == 422
    assert "“Until” cannot be before “from”." in response.content.decode()
    assert not ScheduleException.objects.exists()


def test_b5_exception_at_a_location_the_physician_does_not_work_is_refused(cast, login):
    elsewhere = LocationFactory(institution=cast.institution_a, name="A East")
    response = login(cast.alice).post(CREATE, leave_data(cast, location=elsewhere.pk))
    assert response.status_code == 422
    assert b"Dr. Alpha does not work at A East." in response.content


def test_b5_other_institution_physician_is_refused(cast, login):
    response = login(cast.alice).post(CREATE, leave_data(cast, physician=cast.physician_b.pk))
    assert response.status_code == 422
    assert b"Select a valid choice." in response.content
    assert not ScheduleException.objects.exists()
