"""Locations: the institution admin lists, adds and edits its sites (B-2)."""

from django.urls import reverse

from medbook.institutions.models import Location

LIST = reverse("institutions:location-list")
CREATE = reverse("institutions:location-create")


def test_b2_admin_sees_own_locations_only(cast, login):
    response = login(cast.alice).get(LIST)
    assert response.status_code == 200
    assert b"A Central" in response.content and b"A North" in response.content
    assert b"B Only" not in response.content
    assert b"Add location" in response.content


def test_b2_admin_adds_location(cast, login):
    client = login(cast.alice)
    form = client.get(CREATE)
    assert b">Save<" in form.content
    data = {"name": "A South", "address": "3 South Road", "opening_hours": "Mon-Fri 8-18", "is_active": "on"}
    response = client.post(CREATE, data, follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert b"A South" in response.content and b"Saved." in response.content
    location = Location.objects.get(name="A South")
    assert location.institution == cast.institution_a
    assert location.opening_hours == "Mon-Fri 8-18"


def test_b2_admin_edits_location(cast, login):
    url = reverse("institutions:location-edit", args=[cast.location_a2.pk])
    client = login(cast.alice)
    assert b'value="A North"' in client.get(url).content
    response = client.post(url, {"name": "A North Wing", "address": "5 North Road"}, follow=True)
    assert b"A North Wing" in response.content
    cast.location_a2.refresh_from_db()
    assert (cast.location_a2.name, cast.location_a2.is_active) == ("A North Wing", False)
    assert cast.location_a2.institution == cast.institution_a


def test_b2_duplicate_location_name_is_a_form_error(cast, login):
    response = login(cast.alice).post(CREATE, {"name": "A Central", "address": "Elsewhere"})
    assert response.status_code == 422
    assert b"A location with this name already exists." in response.content
    assert Location.objects.filter(name="A Central").count() == 1


def test_b2_same_location_name_in_another_institution_is_fine(cast, login):
    response = login(cast.charlie).post(CREATE, {"name": "A Central", "address": "B Street"})
    assert response.status_code == 302
    assert Location.objects.get(name="A Central", institution=cast.institution_b)


def test_b2_missing_address_is_a_form_error(cast, login):
    response = login(cast.alice).post(CREATE, {"name": "Nowhere"})
    assert response.status_code == 422
    assert b"This field is required." in response.content
    assert not Location.objects.filter(name="Nowhere").exists()


def test_b2_stranger_cannot_edit_location(cast, login):
    url = reverse("institutions:location-edit", args=[cast.location_a1.pk])
    response = login(cast.charlie).post(url, {"name": "Taken over", "address": "x"})
    assert response.status_code == 404
    cast.location_a1.refresh_from_db()
    assert cast.location_a1.name == "A Central"


def test_b2_staff_cannot_add_location(cast, login):
    response = login(cast.bob).post(CREATE, {"name": "Sneaky", "address": "x"})
    assert response.status_code == 403
    assert not Location.objects.filter(name="Sneaky").exists()
