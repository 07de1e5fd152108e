"""Hostile input never answers 5xx: every URL, every kind of actor, garbage ids, queries and forms."""

import traceback

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from conftest import actor_of, local, next_weekday
from medbook.accounts.models import Membership
from medbook.core.tests.test_permission_matrix import _names
from medbook.partners.tests import services
from medbook.scheduling.models import TrafficChannel

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "bob", "alice", "charlie", "paula", "peter")
HUGE = 2**63
# Every parameter name a view or a form of the project reads.
PARAMETERS = (
    "location", "physician", "service", "week", "starts_at", "ends_at", "slot_location", "slot_physician",
    "slot_service", "patient", "channel", "note", "q", "page", "date_from", "date_until", "partner", "status",
    "language", "next", "organization", "institution", "specialty", "show", "partners_only", "partnership",
    "action", "active", "decision", "enabled", "from", "version", "valid_from", "valid_until", "full_name",
    "birth_date", "email", "phone", "insurance_id", "new-full_name", "new-birth_date", "new-email",
    "new-phone", "new-insurance_id", "name", "address", "opening_hours", "is_active", "locations",
    "physicians", "duration_minutes", "price", "currency", "weekday", "start_time", "end_time", "kind",
    "role", "country", "registration_number", "tax_number", "contact_name", "contact_email",
    "contact_phone", "contact_language", "commission_enabled", "commission_percent", "commission_fixed",
    "payment_location", "patient_data_access", "future_bookings", "accept", "can_book", "is_admin",
    "username", "password", "new_password1", "new_password2",
)  # fmt: skip
GARBAGE = (
    "x" * 5000,
    "-1",
    "NaN",
    "2026-02-30",
    "9999-12-31T25:61",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59+14:00",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "",
    ["1", "2"],
    str(HUGE),
    "nul\x00byte",
)
STRING_ARGS = ("csv", "xlsx", "x" * 300, "' OR 1=1 --", "<script>", "MQ")


@pytest.fixture
def world(cast, partners) -> dict:
    """The cast with a staff booking and a partner booking at A and a booking at B; the ids of them all."""
    day = next_weekday(2)
    staff = services.booking_create(
        actor=actor_of(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, 9),
    )
    partner = services.booking_create(
        actor=actor_of(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, 10),
    )
    stranger = services.booking_create(
        actor=actor_of(cast.charlie),
        location=cast.location_b,
        physician=cast.physician_b,
        service=cast.service_b,
        patient=cast.patient_b,
        starts_at=local(day, 9),
    )
    # Another tenant's objects (institution B, partner Q) and, for charlie and the partners, A's own.
    ids = {0, HUGE, staff.pk, partner.pk, stranger.pk, cast.patient_b.pk, cast.location_b.pk}
    ids |= {cast.physician_b.pk, cast.service_b.pk, partners.partner_q.pk, cast.institution_b.pk}
    ids |= set(
        Membership.objects.filter(user__in=[cast.charlie, partners.quentin]).values_list("pk", flat=True)
    )
    ids.add(
        TrafficChannel.objects.filter(institution=cast.institution_b).values_list("pk", flat=True).first()
    )
    valid = {
        "location": cast.location_a1.pk,
        "slot_location": cast.location_a1.pk,
        "physician": cast.physician_a.pk,
        "slot_physician": cast.physician_a.pk,
        "service": cast.service_a.pk,
        "slot_service": cast.service_a.pk,
        "institution": cast.institution_a.pk,
        "patient": cast.patient_a.pk,
        "partnership": partners.partnership_p.pk,
    }
    return {"cast": cast, "partners": partners, "ids": sorted(ids), "valid": valid, "own": partner.pk}


def _urls(name: str, ids: list[int], own: int) -> list[str]:
    """The URL with each hostile argument its pattern takes (ints, or strings such as tokens and formats)."""
    for shape in ((), ("x",), ("x", "x"), (0,), (0, "csv"), (0, 0)):
        try:
            reverse(name, args=shape)
        except NoReverseMatch:
            continue
        if not shape:
            return [reverse(name)]
        if isinstance(shape[0], str):
            return [reverse(name, args=[value] * len(shape)) for value in STRING_ARGS]
        if shape == (0, 0):
            return [reverse(name, args=(pk, other)) for pk in [own, *ids] for other in (own, 0, HUGE)]
        formats = ("csv", "xlsx", "' OR 1=1 --")
        tails = [(formats[i % 3],) if len(shape) == 2 else () for i in range(len(ids) + 1)]
        return [reverse(name, args=(pk, *tail)) for pk, tail in zip([own, *ids], tails, strict=True)]
    pytest.fail(f"no way to build the URL of {name}")


def _check(client: Client, method: str, url: str, data: dict, actor: str, relogin) -> bool:
    """Send one request; tell whether it was refused before the view read any input."""
    relogin()
    response = getattr(client, method)(url, data)
    if response.status_code >= 500:
        detail = "".join(traceback.format_exception(*response.exc_info)) if response.exc_info else ""
        shown = {k: (v[:20] if isinstance(v, str) else v) for k, v in list(data.items())[:6]}
        pytest.fail(f"{actor} {method.upper()} {url} {shown}… -> {response.status_code}\n{detail}")
    to_login = response.status_code == 302 and "/accounts/login/" in response.get("Location", "")
    return to_login or response.status_code in (403, 405)  # no permission or the wrong method


def _hostile_requests(client: Client, name: str, actor: str, user, world: dict) -> None:
    def relogin() -> None:
        # A logout or an organisation switch must not change who the next request is.
        if user is not None and (name.startswith("accounts:") or not client.session.get("_auth_user_id")):
            client.force_login(user)

    urls = _urls(name, world["ids"], world["own"])
    everything = [dict.fromkeys(PARAMETERS, value) for value in GARBAGE]
    beside_valid = [{**payload, **world["valid"]} for payload in everything]
    for method in ("get", "post"):
        if _check(client, method, urls[0], beside_valid[0], actor, relogin):
            continue  # the view never reads the input of this actor
        # Every garbage value once in every parameter, alternately beside valid ids of the actor's tenant
        # (at its own object) and alone (at each hostile id: 0, 2**63, another tenant's objects).
        for index in range(1, max(len(GARBAGE), 2 * len(urls) - 1)):
            garbage = index % len(GARBAGE)
            if index % 2:
                _check(client, method, urls[0], beside_valid[garbage], actor, relogin)
            else:
                _check(client, method, urls[index // 2 % len(urls)], everything[garbage], actor, relogin)


@pytest.mark.parametrize("name", sorted(_names()))
def test_x_hostile_input_never_answers_a_server_error(world, name):
    # The actors loop inside: building the cast once per URL keeps the whole run near a minute.
    for actor in ACTORS:
        client = Client(raise_request_exception=False)
        user = None if actor == "anonymous" else getattr(world["cast"], actor, None)
        _hostile_requests(client, name, actor, user or getattr(world["partners"], actor, None), world)
