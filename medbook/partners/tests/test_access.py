"""Who may open which page of the partner module and the audit log: one matrix over every URL."""

from urllib.parse import urlencode

import pytest
from django.urls import get_resolver, reverse

from conftest import actor_of, local, next_weekday
from medbook.accounts.models import Membership
from medbook.scheduling import services

pytestmark = pytest.mark.django_db

LOGIN = "login"
WHO = ("anonymous", "alice", "bob", "charlie", "paula", "peter", "quentin")
# URL name -> (method, argument, then the status for each of WHO)
MATRIX = {
    "partners:partner-list": ("get", None, LOGIN, 200, 403, 200, 403, 403, 403),
    "partners:partner-create": ("get", None, LOGIN, 200, 403, 200, 403, 403, 403),
    "partners:partner-edit": ("get", "partnership", LOGIN, 200, 403, 404, 403, 403, 403),
    "partners:partner-delete": ("get", "partnership", LOGIN, 200, 403, 404, 403, 403, 403),
    "partners:partner-resend": ("post", "partnership", LOGIN, 302, 403, 404, 403, 403, 403),
    "partners:matrix-cell": ("post", "cell", LOGIN, 302, 403, 404, 403, 403, 403),
    "partners:home": ("get", None, LOGIN, 403, 403, 403, 200, 200, 200),
    "partners:partnership-answer": ("get", "partnership", LOGIN, 403, 403, 403, 200, 403, 404),
    "partners:gtc-accept": ("get", None, LOGIN, 403, 403, 403, 200, 403, 200),
    "partners:register": ("get", "token", 404, 404, 404, 404, 404, 404, 404),
    "partners:register-renew": ("post", "token", 404, 404, 404, 404, 404, 404, 404),
    "audit:entry-list": ("get", None, LOGIN, 200, 403, 200, 403, 403, 403),
    # The partner's side: "Administration / Admin Users", "Book to partner", its bookings and feed.
    "partners:user-list": ("get", None, LOGIN, 403, 403, 403, 200, 403, 200),
    "partners:user-create": ("get", None, LOGIN, 403, 403, 403, 200, 403, 200),
    "partners:user-edit": ("get", "membership", LOGIN, 403, 403, 403, 200, 403, 404),
    "partners:user-toggle": ("post", "membership", LOGIN, 403, 403, 403, 302, 403, 404),
    "partners:book": ("get", None, LOGIN, 403, 403, 403, 200, 200, 200),
    "partners:book-slot": ("get", "slot", LOGIN, 403, 403, 403, 200, 200, 403),
    "partners:patient-search": ("get", "search", LOGIN, 403, 403, 403, 403, 403, 404),
    "partners:booking-list": ("get", None, LOGIN, 403, 403, 403, 200, 200, 200),
    "partners:booking-detail": ("get", "booking", LOGIN, 403, 403, 403, 200, 200, 404),
    "partners:booking-move": ("post", "booking", LOGIN, 403, 403, 403, 422, 422, 404),
    "partners:booking-note": ("post", "booking", LOGIN, 403, 403, 403, 302, 302, 404),
    "partners:booking-cancel": ("post", "booking", LOGIN, 403, 403, 403, 302, 302, 404),
    "partners:feed-settings": ("post", None, LOGIN, 403, 403, 403, 302, 302, 302),
    "partners:feed": ("get", "token", 404, 404, 404, 404, 404, 404, 404),
}


def test_x_matrix_covers_every_partner_and_audit_url():
    names = set()
    for namespace in ("partners", "audit"):
        resolver = get_resolver().namespace_dict[namespace][1]
        names |= {f"{namespace}:{name}" for name in resolver.reverse_dict if isinstance(name, str)}
    assert names == set(MATRIX)


def url_of(name: str, cast, partners) -> str:
    argument = MATRIX[name][1]
    day = next_weekday(2)
    query = {}
    if argument == "booking":
        booking = services.booking_create(
            actor=actor_of(partners.peter),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(day, 9),
        )
        args = [booking.pk]
    elif argument == "membership":
        args = [Membership.objects.get(user=partners.petra).pk]
    elif argument == "slot":
        args = []
        query = {
            "slot_location": cast.location_a1.pk,
            "slot_physician": cast.physician_a.pk,
            "slot_service": cast.service_a.pk,
            "starts_at": local(day, 10).isoformat(),
        }
    elif argument == "search":
        args, query = [], {"partnership": partners.partnership_p.pk, "q": "Anna"}
    else:
        args = {
            None: [],
            "partnership": [partners.partnership_p.pk],
            "cell": [partners.partnership_p.pk, cast.service_a.pk],
            "token": ["1:forged:1xWf1e:forged-signature"],
        }[argument]
    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


@pytest.mark.parametrize("name", sorted(MATRIX))
@pytest.mark.parametrize("who", WHO)
def test_x_partner_permission_matrix(cast, partners, client, name, who):
    expected = MATRIX[name][2 + WHO.index(who)]
    if who != "anonymous":
        client.force_login(getattr(cast, who, None) or getattr(partners, who))
    method = MATRIX[name][0]
    response = getattr(client, method)(url_of(name, cast, partners))
    if expected == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == expected
    if expected not in (200, 302):  # a refusal changes nothing
        partners.partnership_p.refresh_from_db()
        assert partners.partnership_p.is_active and cast.service_a in partners.partnership_p.services.all()
