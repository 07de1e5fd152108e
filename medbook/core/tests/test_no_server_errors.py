"""Hostile input never answers 5xx: every URL, every kind of actor, garbage ids, queries and forms.

For speed, the data and one logged-in client per actor are made once for the module (each test runs in a
savepoint that is rolled back), and templates are drawn only where that finds errors the views do not:
in every request of the first actor to get past a view's checks, and in the first request of every
actor. Elsewhere a stand-in runs what the view handed the template (querysets, bound forms' validation)
and draws nothing.
"""

import copy
import re
import traceback
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.core.paginator import Page
from django.db import transaction
from django.db.models import QuerySet
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet
from django.template.backends.django import Template
from django.test import Client, override_settings
from django.test.client import encode_multipart
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from conftest import actor_of, cast_build, local, next_weekday, partners_build
from medbook.accounts.models import Membership
from medbook.core.tests.test_permission_matrix import _names
from medbook.notifications.models import OutboxMessage
from medbook.partners.tests import services
from medbook.partners.tests.factories import gtc_publish
from medbook.scheduling.models import TrafficChannel

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "bob", "alice", "charlie", "paula", "peter")
HUGE = 2**63
# Every parameter name a view or a form of the project reads.
PARAMETERS = (
    "location", "physician", "service", "week", "date", "starts_at", "ends_at", "slot_location", "slot_physician",
    "slot_service", "patient", "channel", "note", "q", "page", "date_from", "date_until", "partner", "status",
    "language", "next", "organization", "institution", "specialty", "show", "partners_only", "partnership",
    "action", "active", "decision", "enabled", "from", "version", "valid_from", "valid_until", "full_name",
    "birth_date", "email", "phone", "insurance_id", "new-full_name", "new-birth_date", "new-email",
    "new-phone", "new-insurance_id", "name", "address", "opening_hours", "is_active", "locations",
    "physicians", "duration_minutes", "price", "currency", "weekday", "start_time", "end_time", "kind",
    "role", "country", "registration_number", "tax_number", "contact_name", "contact_email",
    "contact_phone", "contact_language", "commission_enabled", "commission_percent", "commission_fixed",
    "payment_location", "patient_data_access", "future_bookings", "accept", "can_book", "is_admin",
    "username", "password", "new_password1", "new_password2", "at", "code", "accept_privacy", "website",
    "received_on", "format", "restrict", "reason", "confirm",
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
MANAGE_PAGES = (
    "scheduling:manage",
    "scheduling:manage-cancel",
    "scheduling:manage-move",
    "scheduling:manage-confirm",
)
STRING_ARGS = ("csv", "xlsx", "x" * 300, "' OR 1=1 --", "<script>", "MQ")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The world and a client per actor, made once in a transaction rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            cast = cast_build()
            made = _world(cast, partners_build(cast, gtc_publish()))
            made["clients"] = {actor: _client(_user(made, actor)) for actor in ACTORS}
        made["cookies"] = {actor: copy.deepcopy(client.cookies) for actor, client in made["clients"].items()}
        everything = [dict.fromkeys(PARAMETERS, value) for value in GARBAGE]
        made["everything"] = [_payload(data) for data in everything]
        made["beside_valid"] = [_payload({**data, **made["valid"]}) for data in everything]
        yield made
        transaction.set_rollback(True)


def _world(cast, partners) -> dict:
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
    # A live manage link per page of the patient's (issue 22), each of its own booking: a cancel ends one.
    manage_tokens = {}
    for hour, name in enumerate(MANAGE_PAGES, start=11):
        booking = services.booking_create(
            actor=actor_of(partners.peter),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(day, hour),
        )
        made = OutboxMessage.objects.filter(reference=f"booking:{booking.pk}:patient").get()
        manage_tokens[name] = re.search(r"/appointment/([0-9a-f]+)/", made.text_body).group(1)
    return {
        "cast": cast,
        "partners": partners,
        "ids": sorted(ids),
        "valid": valid,
        "own": partner.pk,
        "manage_tokens": manage_tokens,
    }


@dataclass(frozen=True)
class Payload:
    """One set of form fields, encoded once as the test client would for a GET and for a POST."""

    data: dict
    query: str
    body: bytes


BOUNDARY = "hostile-input"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def _payload(data: dict) -> Payload:
    """Encode the fields once for all the requests that send them."""
    return Payload(data, urlencode(data, doseq=True), encode_multipart(BOUNDARY, data))


def _user(world: dict, actor: str):
    """The user of the cast named by the actor (None for the anonymous visitor)."""
    if actor == "anonymous":
        return None
    return getattr(world["cast"], actor, None) or getattr(world["partners"], actor)


def _client(user) -> Client:
    """A test client, logged in once for the whole module (its session row outlives each test)."""
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def clients(world) -> dict:
    """The actors' clients with the cookies the module logged them in with (a test's own are gone)."""
    for actor, client in world["clients"].items():
        client.cookies = copy.deepcopy(world["cookies"][actor])
    return world["clients"]


def _evaluate(value, depth: int = 2) -> None:
    """Do with a context value what drawing the template would, where that can fail: query, validate."""
    if isinstance(value, QuerySet | Page):
        list(value)
    elif isinstance(value, BaseForm | BaseFormSet):
        if value.is_bound:
            value.errors  # noqa: B018 - reading the errors runs the validation
    elif depth and isinstance(value, dict):
        for item in value.values():
            _evaluate(item, depth - 1)
    elif depth and isinstance(value, list | tuple):
        for item in value:
            _evaluate(item, depth - 1)


class _Drawing:
    """Whether templates are drawn for real, or only their context evaluated (see the module's docstring)."""

    real = True

    @classmethod
    @contextmanager
    def only_if(cls, real: bool):
        cls.real = real
        try:
            yield
        finally:
            cls.real = True


_draw = Template.render


def _render(template, context=None, request=None):
    """Draw the template, or only evaluate its context and answer an empty page."""
    if _Drawing.real:
        return _draw(template, context, request)
    for value in (context or {}).values():
        _evaluate(value)
    return ""


@pytest.fixture(autouse=True)
def _no_manage_link_limit(settings):
    """The manage pages' per-address limit would answer 429 before the garbage reaches them."""
    settings.MANAGE_LINK_LIMIT = 1_000_000


@pytest.fixture(autouse=True)
def _drawing(monkeypatch):
    """Every template of the test is drawn through _render."""
    monkeypatch.setattr(Template, "render", _render)


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


def _check(client: Client, method: str, url: str, payload: Payload, actor: str, relogin) -> bool:
    """Send one request; tell whether it was refused before the view read any input."""
    relogin()
    if method == "get":
        response = client.get(url, QUERY_STRING=payload.query)
    else:
        response = client.post(url, payload.body, content_type=MULTIPART)
    if response.status_code >= 500:
        detail = "".join(traceback.format_exception(*response.exc_info)) if response.exc_info else ""
        shown = {k: (v[:20] if isinstance(v, str) else v) for k, v in list(payload.data.items())[:6]}
        pytest.fail(f"{actor} {method.upper()} {url} {shown}… -> {response.status_code}\n{detail}")
    to_login = response.status_code == 302 and "/accounts/login/" in response.get("Location", "")
    # No permission, the wrong method, or (the API and FHIR, which a session does not open) no token: the
    # API's own hostile input is schemathesis's and test_fhir_hostile's, with tokens.
    return to_login or response.status_code in (401, 403, 405)


def _hostile_requests(client: Client, name: str, actor: str, user, world: dict, drawn: set) -> None:
    def relogin() -> None:
        # A logout or an organisation switch must not change who the next request is.
        if user is not None and (name.startswith("accounts:") or not client.session.get("_auth_user_id")):
            client.force_login(user)

    urls = _urls(name, world["ids"], world["own"])
    if name in world["manage_tokens"]:  # a live link first: the garbage reaches the page's own parsing
        urls = [reverse(name, args=[world["manage_tokens"][name]]), *urls]
    everything, beside_valid = world["everything"], world["beside_valid"]
    for method in ("get", "post"):
        if _check(client, method, urls[0], beside_valid[0], actor, relogin):
            continue  # the view never reads the input of this actor
        # The first actor past the view's checks has every answer drawn; the others only the first.
        with _Drawing.only_if(method not in drawn):
            drawn.add(method)
            # Every garbage value once in every parameter, alternately beside valid ids of the actor's
            # tenant (at its own object) and alone (at each hostile id: 0, 2**63, another tenant's objects).
            for index in range(1, max(len(GARBAGE), 2 * len(urls) - 1)):
                garbage = index % len(GARBAGE)
                if index % 2:
                    _check(client, method, urls[0], beside_valid[garbage], actor, relogin)
                else:
                    _check(client, method, urls[index // 2 % len(urls)], everything[garbage], actor, relogin)


@pytest.mark.parametrize("name", sorted(_names()))
def test_x_hostile_input_never_answers_a_server_error(world, clients, name):
    drawn: set[str] = set()  # the methods whose answers an actor has had drawn in full
    for actor in ACTORS:
        _hostile_requests(clients[actor], name, actor, _user(world, actor), world, drawn)
