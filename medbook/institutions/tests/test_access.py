"""Who may open which Administration page: one matrix over every URL of the app."""

import pytest
from django.urls import get_resolver, reverse

from medbook.accounts.models import Membership
from medbook.institutions.tests.factories import ScheduleExceptionFactory
from medbook.scheduling.models import WorkingHours

# URL name -> (method, which of institution A's objects it takes, alice's status)
MATRIX = {
    "location-list": ("get", None, 200),
    "location-create": ("get", None, 200),
    "location-edit": ("get", "location", 200),
    "physician-list": ("get", None, 200),
    "physician-create": ("get", None, 200),
    "physician-edit": ("get", "physician", 200),
    "service-list": ("get", None, 200),
    "service-create": ("get", None, 200),
    "service-edit": ("get", "service", 200),
    "workinghours-list": ("get", None, 200),
    "workinghours-create": ("get", None, 200),
    "workinghours-edit": ("get", "workinghours", 200),
    "workinghours-delete": ("get", "workinghours", 405),
    "exception-list": ("get", None, 200),
    "exception-create": ("get", None, 200),
    "exception-edit": ("get", "exception", 200),
    "exception-delete": ("get", "exception", 405),
    "channel-list": ("get", None, 200),
    "user-list": ("get", None, 200),
    "user-create": ("get", None, 200),
    "user-toggle": ("get", "membership", 405),
}
WITH_OBJECT = [name for name, (_, obj, _status) in MATRIX.items() if obj]
# POST-only URLs answer GET with 405 before looking at the object, so the stranger tries those with POST.
STRANGER_REQUESTS = [
    (name, method)
    for name in WITH_OBJECT
    for method in (["post"] if MATRIX[name][2] == 405 else ["get", "post"])
]


@pytest.fixture
def objects_of_a(cast) -> dict:
    return {
        "location": cast.location_a1,
        "physician": cast.physician_a,
        "service": cast.service_a,
        "workinghours": WorkingHours.objects.filter(physician=cast.physician_a).first(),
        "exception": ScheduleExceptionFactory(physician=cast.physician_a),
        "membership": Membership.objects.get(user=cast.bob),
    }


def url_of(name: str, objects: dict, pk=None) -> str:
    obj_key = MATRIX[name][1]
    args = [] if obj_key is None else [pk if pk is not None else objects[obj_key].pk]
    return reverse(f"institutions:{name}", args=args)


def test_b2_matrix_covers_every_administration_url():
    names = {
        name
        for name in get_resolver().namespace_dict["institutions"][1].reverse_dict
        if isinstance(name, str)
    }
    assert names == set(MATRIX)


@pytest.mark.parametrize("name", MATRIX)
def test_b2_admin_opens_administration_pages(name, cast, objects_of_a, login):
    method, _obj, status = MATRIX[name]
    response = getattr(login(cast.alice), method)(url_of(name, objects_of_a))
    assert response.status_code == status


@pytest.mark.parametrize("name", MATRIX)
@pytest.mark.parametrize("method", ["get", "post"])
def test_b10_staff_is_refused_administration_pages(name, method, cast, objects_of_a, login):
    response = getattr(login(cast.bob), method)(url_of(name, objects_of_a))
    assert response.status_code == 403
    assert b"permission" in response.content


@pytest.mark.parametrize("name", MATRIX)
def test_b2_anonymous_is_sent_to_login(name, cast, objects_of_a, client):
    response = client.get(url_of(name, objects_of_a))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("name", "method"), STRANGER_REQUESTS)
def test_b1_other_institution_object_is_not_found(name, method, cast, objects_of_a, login):
    response = getattr(login(cast.charlie), method)(url_of(name, objects_of_a))
    assert response.status_code == 404
    assert type(objects_of_a[MATRIX[name][1]]).objects.filter(pk=objects_of_a[MATRIX[name][1]].pk).exists()


@pytest.mark.parametrize("name", WITH_OBJECT)
@pytest.mark.parametrize("pk", [999_999, 2**70])
def test_b1_unknown_id_is_not_found(name, pk, cast, objects_of_a, login):
    response = login(cast.alice).post(url_of(name, objects_of_a, pk=pk))
    assert response.status_code == 404


@pytest.mark.parametrize("name", WITH_OBJECT)
def test_b1_non_numeric_id_is_not_found(name, cast, objects_of_a, login):
    url = url_of(name, objects_of_a).replace(f"/{objects_of_a[MATRIX[name][1]].pk}/", "/abc/")
    assert "/abc/" in url
    assert login(cast.alice).get(url).status_code == 404


def test_b2_menu_links_reach_the_administration_pages(cast, login):
    response = login(cast.alice).get(reverse("institutions:location-list"))
    for name in ["location", "physician", "service", "workinghours", "exception", "channel", "user"]:
        assert reverse(f"institutions:{name}-list").encode() in response.content
