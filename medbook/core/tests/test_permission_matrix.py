"""The permission matrix: every URL of the project × every kind of actor, one exact answer per cell.

A URL without a row fails. Where a URL takes an object, the object is institution A's (or partner P's, on
the partner's side), so the row shows what the other tenants get for it. Besides the answer, every cell
checks that
- a refusal (LOGIN, 403, 404, 405) writes nothing to the database (no booking, partnership, membership,
  email in the outbox or audit entry); a GET row's refusal is also the answer to a POST, so that no form
  is posted past it, and a POST row answers 405 to a GET from whoever it lets through;
- a 403 page tells the user why;
- the outsiders (everyone but A's people and P's users who book for A) never see A's patient.
Each actor's requests run in a savepoint that is rolled back, so one cast serves a whole row. A failure
names the URL, the actor, the expected and the actual answer of every wrong cell of the row.
"""

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.html import escape

from conftest import local
from medbook.core.tests.cast import ACTORS, Everyone, everyone_make

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the login page (any other redirect is 302)
GET, POST = "get", "post"
_ = None  # the URL takes no object
REFUSALS = {LOGIN, 403, 404, 405}
# Who must never see institution A's patient: not A's people, nor a P user who books for A. (E booked her
# at A before its partnership ended: since then, that booking is out of its sight too.)
OUTSIDERS = ("anon", "operator", "b_admin", "p_nobook", "q_admin", "e_user")

# URL name: (method, the object of A or P it takes, the answer of each actor in the order of cast.ACTORS)
# anon: not logged in; oper: the operator (superuser); A adm, A stf: alice and bob (reception) of A;
# B adm: charlie of B; P adm, P bk, P nbk: P's admin, user who may book, user who may not; Q adm: Q's admin;
# E usr: the admin of E, whose partnership with A has ended.
# The objects (see _request_of): A's free slot, booking_a (reception's booking at A), patient, location,
# physician, service, hours, leave; booking_p (P's booking at A); member_a (bob's membership of A),
# member_p (petra's of P); ship_p (the A-P partnership), cell (its Traffic Channels cell of A's service);
# p_slot (a free slot of A that P may book), p_search (a search of A's patients through ship_p); feed
# (peter's feed address), invite (A's registration link for a new partner), reset (a set-password link of a
# user of A), accept (charlie's link to accept a role at A); statement_p (A's copy of P's statement),
# statement_a (P's statement at A).
# fmt: off
MATRIX = {
#   URL name                              method object          anon   oper   A adm  A stf  B adm  P adm  P bk   P nbk  Q adm  E usr
    # Start page, language and accounts. The logout's redirect to the login page is its success.
    "core:home":                          (GET,  _,             (LOGIN, 200,   302,   302,   302,   302,   302,   302,   302,   302)),
    "core:language-set":                  (POST, _,             (302,   302,   302,   302,   302,   302,   302,   302,   302,   302)),
    "accounts:login":                     (GET,  _,             (200,   302,   302,   302,   302,   302,   302,   302,   302,   302)),
    "accounts:logout":                    (POST, _,             (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),
    "accounts:password-reset":            (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "accounts:password-reset-done":       (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "accounts:password-reset-confirm":    (GET,  "reset",       (302,   302,   302,   302,   302,   302,   302,   302,   302,   302)),
    "accounts:password-reset-complete":   (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "accounts:organization-switch":       (POST, _,             (LOGIN, 302,   302,   302,   302,   302,   302,   302,   302,   302)),
    # A person with an account accepts a role offered by e-mail: only the person it was sent to (charlie).
    "accounts:membership-accept":         (GET,  "accept",      (LOGIN, 404,   404,   404,   200,   404,   404,   404,   404,   404)),
    # Two-factor authentication (anyone's own; nobody here is enrolled) and re-authentication.
    "accounts:two-factor":                (GET,  _,             (LOGIN, 200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "accounts:two-factor-confirm":        (GET,  _,             (LOGIN, 302,   302,   302,   302,   302,   302,   302,   302,   302)),
    "accounts:two-factor-verify":         (GET,  _,             (LOGIN, 302,   302,   302,   302,   302,   302,   302,   302,   302)),
    "accounts:two-factor-recovery":       (POST, _,             (LOGIN, 302,   302,   302,   302,   302,   302,   302,   302,   302)),
    "accounts:two-factor-disable":        (POST, _,             (LOGIN, 302,   302,   302,   302,   302,   302,   302,   302,   302)),
    "accounts:reauthenticate":            (GET,  _,             (LOGIN, 200,   200,   200,   200,   200,   200,   200,   200,   200)),
    # The choice of booking e-mails at once or in a digest (N-4): whoever receives them, for their own membership.
    "accounts:email-preferences":         (GET,  _,             (LOGIN, 403,   200,   403,   200,   200,   200,   403,   200,   200)),
    # The members page: an institution's "Users" and a partner's "Admin Users" (one page, per organisation).
    "accounts:member-list":               (GET,  _,             (LOGIN, 403,   200,   403,   200,   200,   403,   403,   200,   200)),
    "accounts:two-factor-policy":         (POST, _,             (LOGIN, 403,   302,   403,   302,   302,   403,   403,   302,   302)),
    "accounts:member-create":             (GET,  _,             (LOGIN, 403,   200,   403,   200,   200,   403,   403,   200,   200)),
    "accounts:member-edit":               (GET,  "member_a",    (LOGIN, 403,   200,   403,   404,   404,   403,   403,   404,   404)),
    "accounts:member-toggle":             (POST, "member_a",    (LOGIN, 403,   302,   403,   404,   404,   403,   403,   404,   404)),
    # The staff calendar and the patient register.
    "scheduling:calendar":                (GET,  _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    "scheduling:booking-create":          (GET,  "slot",        (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    "scheduling:booking-detail":          (GET,  "booking_a",   (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    "scheduling:booking-move":            (POST, "booking_a",   (LOGIN, 403,   422,   422,   404,   403,   403,   403,   403,   403)),
    "scheduling:booking-cancel":          (POST, "booking_a",   (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    "patients:patient-list":              (GET,  _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    "patients:patient-search":            (GET,  _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    "patients:patient-create":            (GET,  _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    "patients:patient-edit":              (GET,  "patient",     (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    "patients:patient-duplicates":        (GET,  _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    # The institution admin's Administration, and its audit log.
    "institutions:location-list":         (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "institutions:location-create":       (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "institutions:location-edit":         (GET,  "location",    (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "institutions:physician-list":        (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "institutions:physician-create":      (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "institutions:physician-edit":        (GET,  "physician",   (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "institutions:service-list":          (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "institutions:service-create":        (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "institutions:service-edit":          (GET,  "service",     (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "scheduling:workinghours-list":     (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "scheduling:workinghours-create":   (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "scheduling:workinghours-edit":     (GET,  "hours",       (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "scheduling:workinghours-delete":   (POST, "hours",       (LOGIN, 403,   302,   403,   404,   403,   403,   403,   403,   403)),
    "scheduling:exception-list":        (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "scheduling:exception-create":      (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "scheduling:exception-edit":        (GET,  "leave",       (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "scheduling:exception-delete":      (POST, "leave",       (LOGIN, 403,   302,   403,   404,   403,   403,   403,   403,   403)),
    "partners:channel-list":          (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "audit:entry-list":                   (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    # The institution admin's Partner Module and Traffic Channels.
    "partners:partner-list":              (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "partners:partner-create":            (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "partners:partner-edit":              (GET,  "ship_p",      (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "partners:partner-delete":            (GET,  "ship_p",      (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "partners:partner-resend":            (POST, "ship_p",      (LOGIN, 403,   302,   403,   404,   403,   403,   403,   403,   403)),
    "partners:matrix-cell":               (POST, "cell",        (LOGIN, 403,   302,   403,   404,   403,   403,   403,   403,   403)),
    # The partner's side.
    "partners:home":                      (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   200,   200,   200,   200)),
    "partners:partnership-answer":        (GET,  "ship_p",      (LOGIN, 403,   403,   403,   403,   200,   403,   403,   404,   404)),
    "partners:gtc-accept":                (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   403,   403,   200,   200)),
    "partners:partner-details":           (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   403,   403,   200,   200)),
    "partners:book":                      (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   200,   403,   200,   200)),
    "partners:book-slot":                 (GET,  "p_slot",      (LOGIN, 403,   403,   403,   403,   200,   200,   403,   403,   403)),
    "partners:patient-search":            (GET,  "p_search",    (LOGIN, 403,   403,   403,   403,   200,   200,   403,   404,   404)),
    "partners:booking-list":              (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   200,   403,   200,   200)),
    "partners:booking-detail":            (GET,  "booking_p",   (LOGIN, 403,   403,   403,   403,   200,   200,   403,   404,   404)),
    "partners:booking-move":              (POST, "booking_p",   (LOGIN, 403,   403,   403,   403,   422,   422,   403,   404,   404)),
    "partners:booking-note":              (POST, "booking_p",   (LOGIN, 403,   403,   403,   403,   302,   302,   403,   404,   404)),
    "partners:booking-cancel":            (POST, "booking_p",   (LOGIN, 403,   403,   403,   403,   302,   302,   403,   404,   404)),
    "partners:feed-settings":             (POST, _,             (LOGIN, 403,   403,   403,   403,   302,   302,   403,   302,   302)),
    # Secret links: whoever holds the link may use it, logged in or not (the token is A's or P's).
    "partners:feed":                      (GET,  "feed",        (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "partners:register":                  (GET,  "invite",      (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "partners:register-renew":            (POST, "invite",      (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    # Reports: a partner's user never learns that an institution report exists (404).
    "reports:booking-report":             (GET,  _,             (LOGIN, 403,   200,   200,   200,   404,   404,   404,   404,   404)),
    "reports:traffic":                    (GET,  _,             (LOGIN, 403,   200,   403,   200,   404,   404,   404,   404,   404)),
    "reports:partner-bookings":           (GET,  _,             (LOGIN, 403,   200,   403,   200,   404,   404,   404,   404,   404)),
    "reports:partner-booking-cancel":     (GET,  "booking_p",   (LOGIN, 403,   200,   403,   404,   404,   404,   404,   404,   404)),
    "reports:settlement":                 (GET,  _,             (LOGIN, 403,   200,   403,   200,   404,   404,   404,   404,   404)),
    "reports:settlement-download":        (GET,  "statement_p", (LOGIN, 403,   200,   403,   404,   404,   404,   404,   404,   404)),
    "reports:partner-statements":         (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   403,   403,   200,   200)),
    # E settles the bookings it made at A before the partnership ended: that statement is its own.
    "reports:partner-statement-download": (GET,  "statement_a", (LOGIN, 403,   403,   403,   403,   200,   403,   403,   404,   200)),
}
# fmt: on
# Cells where today's answer is unsafe: the table keeps the safe answer and the cell is a strict xfail.
# ("ns:name", "actor"): "why the answer of today is wrong"
KNOWN_HOLES: dict[tuple[str, str], str] = {}


def _names(resolver=None, namespace="") -> set[str]:
    """Every named URL of the project, but Django's admin (the operator's, see test_operator_admin)."""
    names = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _names(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(f"{namespace}{entry.name}")
    return names


@pytest.fixture
def everyone(cast, partners) -> Everyone:
    return everyone_make(cast, partners)


@pytest.fixture(scope="module")
def http() -> Client:
    """One test client for the module: each new one loads the middleware again (WhiteNoise scans the
    static files), which would cost more than all the requests of a row."""
    return Client()


def _request_of(name: str, everyone: Everyone) -> tuple[str, str, dict]:
    """The method, the URL and the data of the row's request, for the row's object."""
    method, obj, _answers = MATRIX[name]
    cast, partners = everyone.cast, everyone.partners
    args, data = [], {}
    if obj == "slot":
        data = {
            "location": cast.location_a1.pk,
            "service": cast.service_a.pk,
            "slot_physician": cast.physician_a.pk,
            "starts_at": local(everyone.slot_day, 13).isoformat(),
        }
    elif obj == "p_slot":
        data = {
            "slot_location": cast.location_a1.pk,
            "slot_physician": cast.physician_a.pk,
            "slot_service": cast.service_a.pk,
            "starts_at": local(everyone.slot_day, 14).isoformat(),
        }
    elif obj == "p_search":
        data = {"partnership": partners.partnership_p.pk, "q": "Anna"}
    elif obj is not None:
        args = {
            "booking_a": [everyone.booking_a.pk],
            "booking_p": [everyone.booking_p.pk],
            "patient": [cast.patient_a.pk],
            "location": [cast.location_a1.pk],
            "physician": [cast.physician_a.pk],
            "service": [cast.service_a.pk],
            "hours": [everyone.working_hours_a.pk],
            "leave": [everyone.exception_a.pk],
            "member_a": [everyone.membership_a_staff.pk],
            "member_p": [everyone.membership_p_nobook.pk],
            "ship_p": [partners.partnership_p.pk],
            "cell": [partners.partnership_p.pk, cast.service_a.pk],
            "feed": [everyone.feed_token],
            "invite": [everyone.register_token],
            "reset": [everyone.reset_uid, everyone.reset_token],
            "accept": [everyone.accept_token],
            "statement_p": [partners.partner_p.pk, "csv"],
            "statement_a": [cast.institution_a.pk, "csv"],
        }[obj]
    return method, reverse(name, args=args), data


def _answer(response):
    """The cell symbol of a response: LOGIN for a redirect to the login page, else the status code."""
    if response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")):
        return LOGIN
    return response.status_code


def _writes(queries) -> list[str]:
    """The statements that wrote to a table of the application (sessions are Django's, not ours)."""
    return [
        query["sql"]
        for query in queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE"))
        and "django_session" not in query["sql"]
    ]


def _patient_seen(response, everyone: Everyone) -> bool:
    patient = everyone.cast.patient_a
    return any(
        secret.encode() in response.content for secret in (patient.full_name, patient.insurance_id) if secret
    )


def _cell(http: Client, everyone: Everyone, actor: str, request: tuple, expected, name: str) -> list[str]:
    """Send the request as the actor (rolled back afterwards); say what is wrong with the answer."""
    method, url, data = request
    user = everyone.user(actor)
    problems = []
    attempts = [(method, expected)]
    if method == GET and expected in REFUSALS:
        attempts.append((POST, expected))  # no form is posted past a refusal
    elif method == POST and expected not in REFUSALS:
        attempts.append((GET, 405))  # a change is never made by a GET (a link, an image, a prefetch)
    http.cookies.clear()
    if user is not None:
        http.force_login(user)
    for attempt, want in attempts:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                response = getattr(http, attempt)(url, data)
            got = _answer(response)
            where = f"{name} {attempt.upper()} {url} as {actor}"
            if got != want:
                problems.append(f"{where}: expected {want}, got {got}")
            elif got in REFUSALS and (writes := _writes(queries)):
                problems.append(f"{where}: refused with {got}, yet wrote {writes}")
            if got == 403:
                message = response.context.get("message") if response.context is not None else None
                if not message or escape(str(message)).encode() not in response.content:
                    problems.append(f"{where}: a 403 without a message saying why")
            if actor in OUTSIDERS and _patient_seen(response, everyone):
                problems.append(f"{where}: the answer ({got}) shows institution A's patient")
            transaction.set_rollback(True)
    return problems


def test_x_every_url_has_a_row_in_the_permission_matrix():
    names = _names()
    assert not names - set(MATRIX), f"add these URLs to the permission matrix: {sorted(names - set(MATRIX))}"
    assert not set(MATRIX) - names, f"these rows name no URL: {sorted(set(MATRIX) - names)}"
    assert all(len(answers) == len(ACTORS) for _method, _obj, answers in MATRIX.values())


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_x_permission_matrix(http, everyone, name):
    problems = []
    for actor, expected in zip(ACTORS, MATRIX[name][2], strict=True):
        if (name, actor) not in KNOWN_HOLES:
            problems += _cell(http, everyone, actor, _request_of(name, everyone), expected, name)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("name", "actor"),
    [
        pytest.param(*cell, marks=pytest.mark.xfail(strict=True, reason=why))
        for cell, why in KNOWN_HOLES.items()
    ]
    or [pytest.param(None, None, marks=pytest.mark.skip(reason="no known hole in the matrix today"))],
)
def test_x_permission_matrix_known_hole(http, everyone, name, actor):
    expected = MATRIX[name][2][ACTORS.index(actor)]
    assert not _cell(http, everyone, actor, _request_of(name, everyone), expected, name)


# The secret links of the matrix, forged: refused alike for everyone.
FORGED = {
    "partners:feed": (GET, ["forged-feed-token"], 404),
    "partners:register": (GET, ["1:forged:1xWf1e:forged-signature"], 404),
    "partners:register-renew": (POST, ["1:forged:1xWf1e:forged-signature"], 404),
    # Django's page "This link is no longer valid", with a link to ask for a new one.
    "accounts:password-reset-confirm": (GET, ["MQ", "forged-token"], 200),
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_x_forged_secret_links_are_refused(http, everyone, name):
    method, args, expected = FORGED[name]
    request = (method, reverse(name, args=args), {})
    problems = [p for actor in ACTORS for p in _cell(http, everyone, actor, request, expected, name)]
    assert not problems, "\n".join(problems)
    if name == "accounts:password-reset-confirm":
        assert b"This link is no longer valid" in http.get(request[1]).content
