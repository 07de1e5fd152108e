"""Physicians: the institution admin lists, adds and edits them, at its own locations only (B-3)."""

from django.urls import reverse

from medbook.institutions.models import Physician

LIST = reverse("institutions:physician-list")
CREATE = reverse("institutions:physician-create")


def test_b3_admin_sees_own_physicians_with_locations(cast, login):
    response = login(cast.alice).get(LIST)
    assert b"Dr. Alpha" in response.content and b"A Central, A North" in response.content
    assert b"Dr. Beta" not in response.content


def test_b3_admin_adds_physician(cast, login):
    data = {
        "full_name": "Dr. Gamma",
        "specialty": "Neurology",
        "locations": [cast.location_a2.pk],
        "is_active": "on",
    }
    response = login(cast.alice).post(CREATE, data, follow=True)
    assert b"Dr. Gamma" in response.content
    physician = Physician.objects.get(full_name="Dr. Gamma")
    assert physician.institution == cast.institution_a
    assert list(physician.locations.all()) == [cast.location_a2]


def test_b3_admin_edits_physician(cast, login):
    url = reverse("institutions:physician-edit", args=[cast.physician_a.pk])
    data = {"full_name": "Dr. Alpha Senior", "specialty": "Cardiology", "locations": [cast.location_a1.pk]}
    response = login(cast.alice).post(url, data, follow=True)
    assert b"Dr. Alpha Senior" in response.content
    cast.physician_a.refresh_from_db()
    assert not cast.physician_a.is_active
    assert list(cast.physician_a.locations.all()) == [cast.location_a1]


def test_b3_form_offers_only_own_locations(cast, login):
    response = login(cast.alice).get(CREATE)
    assert b"A Central" in response.content and b"B Only" not in response.content


def test_b3_other_institution_location_is_refused(cast, login):
    data = {"full_name": "Dr. Mixed", "specialty": "Cardiology", "locations": [cast.location_b.pk]}
    response = login(cast.alice).post(CREATE, data)
    assert response.status_code == 422
    assert b"Select a valid choice." in response.content
    assert not Physician.objects.filter(full_name="Dr. Mixed").exists()


def test_b3_physician_needs_a_location(cast, login):
    response = login(cast.alice).post(CREATE, {"full_name": "Dr. Nowhere", "specialty": "Cardiology"})
    assert response.status_code == 422
    assert b"This field is required." in response.content


def test_b3_an_id_no_database_can_hold_is_an_invalid_choice(cast, login):
    data = {"full_name": "Dr. Huge", "specialty": "Cardiology", "locations": [str(2**63)]}
    response = login(cast.alice).post(CREATE, data)
    assert response.status_code == 422 and b"is not a valid value" in response.content
    assert not Physician.objects.filter(full_name="Dr. Huge").exists()
