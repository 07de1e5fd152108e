"""Administration pages: unknown and malformed ids, and the menu.

Who may open which Administration page is the permission matrix's (core/tests/test_permission_matrix.py).
"""

import pytest
from django.urls import NoReverseMatch, get_resolver, reverse

from medbook.accounts.models import Membership
from medbook.institutions.tests.factories import ScheduleExceptionFactory
from medbook.scheduling.models import WorkingHours

# URL name -> which of institution A's objects it takes
WITH_OBJECT = {
    "institutions:location-edit": "location",
    "institutions:physician-edit": "physician",
    "institutions:service-edit": "service",
    "scheduling:workinghours-edit": "workinghours",
    "scheduling:workinghours-delete": "workinghours",
    "scheduling:exception-edit": "exception",
    "scheduling:exception-delete": "exception",
    "accounts:member-edit": "membership",
    "accounts:member-toggle": "membership",
}


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
    return reverse(name, args=[pk if pk is not None else objects[WITH_OBJECT[name]].pk])


def _takes_an_id(name: str) -> bool:
    try:
        reverse(name)
    except NoReverseMatch:
        return True
    return False


def test_b1_every_administration_url_with_an_id_is_tried():
    resolver = get_resolver().namespace_dict["institutions"][1]
    names = {f"institutions:{name}" for name in resolver.reverse_dict if isinstance(name, str)}
    tried = {name for name in WITH_OBJECT if name.startswith("institutions:")}
    assert {name for name in names if _takes_an_id(name)} == tried


@pytest.mark.parametrize("name", WITH_OBJECT)
@pytest.mark.parametrize("pk", [999_999, 2**70])
def test_b1_unknown_id_is_not_found(name, pk, cast, objects_of_a, login):
    response = login(cast.alice).post(url_of(name, objects_of_a, pk=pk))
    assert response.status_code == 404


@pytest.mark.parametrize("name", WITH_OBJECT)
def test_b1_non_numeric_id_is_not_found(name, cast, objects_of_a, login):
    url = url_of(name, objects_of_a).replace(f"/{objects_of_a[WITH_OBJECT[name]].pk}/", "/abc/")
    assert "/abc/" in url
    assert login(cast.alice).get(url).status_code == 404


def test_b2_menu_links_reach_the_administration_pages(cast, login):
    response = login(cast.alice).get(reverse("institutions:location-list"))
    for name in [
        "institutions:location-list",
        "institutions:physician-list",
        "institutions:service-list",
        "scheduling:workinghours-list",
        "scheduling:exception-list",
        "partners:channel-list",
        "accounts:member-list",
    ]:
        assert reverse(name).encode() in response.content
