"""One permission matrix over every URL of the project: it fails when a new URL has no row."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from conftest import local, next_weekday
from medbook.institutions.tests import test_access as administration_matrix
from medbook.partners.tests import test_access as partner_matrix
from medbook.reports.tests import test_access as reports_matrix
from medbook.scheduling import services
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db

LOGIN = "login"  # redirected to the login page
# URL name -> (method, object of institution A it takes, anonymous, bob (staff of A), charlie (admin of B))
MATRIX = {
    "core:home": ("get", None, LOGIN, 302, 302),
    "core:language-set": ("post", None, 302, 302, 302),
    "scheduling:calendar": ("get", None, LOGIN, 200, 200),
    "scheduling:booking-create": ("get", "slot", LOGIN, 200, 404),
    "scheduling:booking-detail": ("get", "booking", LOGIN, 200, 404),
    "scheduling:booking-move": ("post", "booking", LOGIN, 422, 404),
    "scheduling:booking-cancel": ("post", "booking", LOGIN, 200, 404),
    "patients:patient-list": ("get", None, LOGIN, 200, 200),
    "patients:patient-search": ("get", None, LOGIN, 200, 200),
    "patients:patient-create": ("get", None, LOGIN, 200, 200),
    "patients:patient-edit": ("get", "patient", LOGIN, 200, 404),
    "accounts:login": ("get", None, 200, 302, 302),
    "accounts:logout": ("post", None, 302, 302, 302),
    "accounts:password-reset": ("get", None, 200, 200, 200),
    "accounts:password-reset-done": ("get", None, 200, 200, 200),
    "accounts:password-reset-confirm": ("get", "token", 200, 200, 200),
    "accounts:password-reset-complete": ("get", None, 200, 200, 200),
    "accounts:organization-switch": ("post", None, LOGIN, 302, 302),
}
# Covered by their own matrices.
ELSEWHERE = {f"institutions:{name}" for name in administration_matrix.MATRIX} | set(partner_matrix.MATRIX)
ELSEWHERE |= set(reports_matrix.MATRIX)


def _names(resolver=None, namespace="") -> set[str]:
    names = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's own admin: the operator only, tested in test_operator_admin
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


def test_x_every_url_has_a_row_in_a_permission_matrix():
    missing = _names() - set(MATRIX) - ELSEWHERE
    assert not missing, f"add these URLs to a permission matrix: {sorted(missing)}"


def _request(client, cast, name):
    method, obj, *_ = MATRIX[name]
    day = next_weekday(2)
    booking = Booking.objects.first() or services.booking_create(
        actor=cast.actor(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, 9),
    )
    args, query = [], {}
    if obj == "booking":
        args = [booking.pk]
    elif obj == "patient":
        args = [cast.patient_a.pk]
    elif obj == "token":
        args = ["MQ", "forged-token"]
    elif obj == "slot":
        query = {
            "location": cast.location_a1.pk,
            "service": cast.service_a.pk,
            "slot_physician": cast.physician_a.pk,
            "starts_at": local(day, 10).isoformat(),
        }
    url = reverse(name, args=args)
    return client.get(url, query) if method == "get" else client.post(url, query)


@pytest.mark.parametrize("name", sorted(MATRIX))
@pytest.mark.parametrize("who", ["anonymous", "bob", "charlie"])
def test_x_permission_matrix(cast, client, name, who):
    expected = MATRIX[name][2 + ["anonymous", "bob", "charlie"].index(who)]
    if who != "anonymous":
        client.force_login(getattr(cast, who))
    response = _request(client, cast, name)
    if expected == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == expected
    if who == "charlie":
        assert Booking.objects.filter(status=Booking.Status.BOOKED).count() == 1
