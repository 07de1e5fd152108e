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

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.html import escape

from conftest import local
from medbook.accounts.actor import actor_for
from medbook.accounts.models import ApiToken, ThrottleEvent
from medbook.accounts.tokens import api_token_create
from medbook.api.models import RateCount
from medbook.audit.actions import AuditAction
from medbook.audit.models import AuditEntry
from medbook.audit.services import audit_record
from medbook.core.tests.cast import ACTORS, Everyone, everyone_make
from medbook.scheduling import holds
from medbook.scheduling.models import Booking
from medbook.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

LOGIN = "login"  # a redirect to the login page (any other redirect is 302)
GET, POST, PUT = "get", "post", "put"  # PUT only in the API's rows
_ = None  # the URL takes no object
REFUSALS = {LOGIN, 401, 403, 404, 405}
LOGIN_IS_SUCCESS = {"accounts:logout"}  # its redirect to the login page is its success: it audits the logout
TOKEN_NAMESPACES = ("api:", "fhir:")  # called with the actor's API token, not a session
# Who must never see institution A's patient: not A's people, nor a P user who books for A. (E booked her
# at A before its partnership ended: since then, that booking is out of its sight too.)
OUTSIDERS = ("anon", "operator", "b_admin", "p_nobook", "q_admin", "e_user")

# URL name: (method, the object of A or P it takes, the answer of each actor in the order of cast.ACTORS)
# anon: not logged in; oper: the operator (superuser); A adm, A stf: alice and bob (reception) of A;
# B adm: charlie of B; P adm, P bk, P nbk: P's admin, user who may book, user who may not; Q adm: Q's admin;
# E usr: the admin of E, whose partnership with A has ended.
# The objects (see _request_of): A's free slot, booking_a (reception's booking at A), patient, location,
# physician, service, hours, leave; booking_p (P's booking at A); attendance, payment (booking_ended, reception's
# booking at A that ended two hours ago, marked completed or paid); member_a (bob's membership of A),
# member_p (petra's of P); ship_p (the A-P partnership), cell (its Traffic Channels cell of A's service);
# first_free (the first free time of A's service), p_first_free (the same by its name, for P),
# p_slot (a free slot of A that P may book), p_search (a search of A's patients through ship_p); feed
# (peter's feed address), invite (A's registration link for a new partner), reset (a set-password link of a
# user of A), accept (charlie's link to accept a role at A); statement_p (A's copy of P's statement),
# statement_a (P's statement at A), close_p (closing P's statement of February 2020 at A), closing_p (A's
# closed statement of P for January 2020); switch_a (the question whether to act for A, where a link leads).
# fmt: off
MATRIX = {
#   URL name                              method object          anon   oper   A adm  A stf  B adm  P adm  P bk   P nbk  Q adm  E usr
    # Start page, language and accounts. The logout's redirect to the login page is its success.
    "core:home":                          (GET,  _,             (LOGIN, 200,   302,   302,   302,   302,   302,   302,   302,   302)),
    "core:healthz":                       (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "core:readyz":                        (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "core:language-set":                  (POST, _,             (302,   302,   302,   302,   302,   302,   302,   302,   302,   302)),
    # The public booking pages (issue 22): the patient's, whoever is logged in; A takes online bookings.
    "online:home":                        (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "online:institution":                 (GET,  "institution", (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "online:times":                       (GET,  "online_service",(200, 200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "online:details":                     (GET,  "online_pick", (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "online:verify":                      (GET,  "online_token",(200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "accounts:login":                     (GET,  _,             (200,   302,   302,   302,   302,   302,   302,   302,   302,   302)),
    "accounts:logout":                    (POST, _,             (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)),
    "accounts:password-reset":            (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "accounts:password-reset-done":       (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "accounts:password-reset-confirm":    (GET,  "reset",       (302,   302,   302,   302,   302,   302,   302,   302,   302,   302)),
    "accounts:password-reset-complete":   (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "accounts:organization-switch":       (POST, _,             (LOGIN, 302,   302,   302,   302,   302,   302,   302,   302,   302)),
    "accounts:organization-switch-ask":   (GET,  "switch_a",    (LOGIN, 404,   200,   200,   404,   404,   404,   404,   404,   404)),
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
    # The desk's day agenda (issue 23): the institution's own people, each their own institution's.
    "scheduling:agenda":                  (GET,  _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    # The first free time of a service (issue 23): A's service, the desk of A only.
    "scheduling:first-free":              (GET,  "first_free",  (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    "scheduling:booking-create":          (GET,  "slot",        (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    # Closing the booking form releases its hold: one answer whether there was a hold of the user's or not.
    "scheduling:booking-hold-release":    (POST, _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    "scheduling:booking-detail":          (GET,  "booking_a",   (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    "scheduling:booking-move":            (POST, "booking_a",   (LOGIN, 403,   422,   422,   404,   403,   403,   403,   403,   403)),
    "scheduling:booking-cancel":          (POST, "booking_a",   (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    # Undo a move or cancellation (issue 23): here there is none to undo (409); another tenant's booking 404.
    "scheduling:booking-undo":            (POST, "booking_a",   (LOGIN, 403,   409,   409,   404,   403,   403,   403,   403,   403)),
    # Reception records the attendance and the payment of a booking that has ended (booking_ended).
    "scheduling:booking-attendance":      (POST, "attendance",  (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    "scheduling:booking-payment":         (POST, "payment",     (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    # The desk approves an online booking awaiting approval (issue 22; approval: booking_a made to await it).
    "scheduling:booking-approve":         (POST, "approval",    (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    # The desk revokes the patient's manage links of a booking (issue 22).
    "scheduling:booking-link-revoke":     (POST, "booking_a",   (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    "patients:patient-list":              (GET,  _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    "patients:patient-search":            (GET,  _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    "patients:patient-create":            (GET,  _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    "patients:patient-edit":              (GET,  "patient",     (LOGIN, 403,   200,   200,   404,   403,   403,   403,   403,   403)),
    "patients:patient-duplicates":        (GET,  _,             (LOGIN, 403,   200,   200,   200,   403,   403,   403,   403,   403)),
    # A patient's data rights (issue 24): the institution admin's only; another institution's patient is 404.
    "privacy:patient-rights":             (GET,  "patient",     (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "privacy:request-create":             (POST, "rights_request", (LOGIN, 403, 302,   403,   404,   403,   403,   403,   403,   403)),
    "privacy:patient-export":             (POST, "rights_export", (LOGIN, 403,  200,   403,   404,   403,   403,   403,   403,   403)),
    "privacy:patient-restriction":        (POST, "rights_restrict", (LOGIN, 403, 302,  403,   404,   403,   403,   403,   403,   403)),
    "privacy:patient-erase":              (GET,  "patient",     (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "privacy:request-list":               (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    # The records of processing (G-4): each institution's admins read their own; each partner's admins the
    # partner's side (Q and E too: none or a former partnership); nobody else.
    "privacy:processing-record":          (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "privacy:partner-processing-record":  (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   403,   403,   200,   200)),
    # The institution admin's Administration, and its audit log.
    "institutions:settings":              (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
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
    # An entry's inclusion proof (audit_a: an entry of A); the key that signs the audit trees is public.
    "audit:entry-proof":                  (GET,  "audit_a",     (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "audit:public-key":                   (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    # The institution admin's Partner Module and Traffic Channels.
    "partners:partner-list":              (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "partners:partner-create":            (GET,  _,             (LOGIN, 403,   200,   403,   200,   403,   403,   403,   403,   403)),
    "partners:partner-edit":              (GET,  "ship_p",      (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "partners:partner-delete":            (GET,  "ship_p",      (LOGIN, 403,   200,   403,   404,   403,   403,   403,   403,   403)),
    "partners:partner-resend":            (POST, "ship_p",      (LOGIN, 403,   302,   403,   404,   403,   403,   403,   403,   403)),
    "partners:matrix-cell":               (POST, "cell",        (LOGIN, 403,   302,   403,   404,   403,   403,   403,   403,   403)),
    "partners:online-cell":               (POST, "service",     (LOGIN, 403,   302,   403,   404,   403,   403,   403,   403,   403)),
    # The partner's side.
    "partners:home":                      (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   200,   200,   200,   200)),
    "partners:partnership-answer":        (GET,  "ship_p",      (LOGIN, 403,   403,   403,   403,   200,   403,   403,   404,   404)),
    "partners:gtc-accept":                (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   403,   403,   200,   200)),
    "partners:partner-details":           (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   403,   403,   200,   200)),
    "partners:book":                      (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   200,   403,   200,   200)),
    # The first free time of A's service (issue 23), by its name: only those who may book it there.
    "partners:book-first-free":           (GET,  "p_first_free",(LOGIN, 403,   403,   403,   403,   200,   200,   403,   404,   404)),
    "partners:book-slot":                 (GET,  "p_slot",      (LOGIN, 403,   403,   403,   403,   200,   200,   403,   403,   403)),
    "partners:book-slot-release":         (POST, _,             (LOGIN, 403,   403,   403,   403,   200,   200,   403,   200,   200)),
    "partners:patient-search":            (GET,  "p_search",    (LOGIN, 403,   403,   403,   403,   200,   200,   403,   404,   404)),
    "partners:booking-list":              (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   200,   403,   200,   200)),
    "partners:booking-detail":            (GET,  "booking_p",   (LOGIN, 403,   403,   403,   403,   200,   200,   403,   404,   404)),
    "partners:booking-move":              (POST, "booking_p",   (LOGIN, 403,   403,   403,   403,   422,   422,   403,   404,   404)),
    "partners:booking-note":              (POST, "booking_p",   (LOGIN, 403,   403,   403,   403,   302,   302,   403,   404,   404)),
    "partners:booking-cancel":            (POST, "booking_p",   (LOGIN, 403,   403,   403,   403,   302,   302,   403,   404,   404)),
    "partners:booking-undo":              (POST, "booking_p",   (LOGIN, 403,   403,   403,   403,   409,   409,   403,   404,   404)),
    "partners:feed-settings":             (POST, _,             (LOGIN, 403,   403,   403,   403,   302,   302,   403,   302,   302)),
    # Secret links: whoever holds the link may use it, logged in or not (the token is A's or P's).
    "partners:feed":                      (GET,  "feed",        (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "partners:register":                  (GET,  "invite",      (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "partners:register-renew":            (POST, "invite",      (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    # The patient's manage link of a booking (issue 22): whoever holds it, logged in or not; each change is
    # rolled back after its cell. booking_a needs no confirmation (400), booking_p does (302).
    "scheduling:manage":                  (GET,  "manage",      (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "scheduling:manage-cancel":           (POST, "manage",      (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "scheduling:manage-move":             (POST, "manage",      (422,   422,   422,   422,   422,   422,   422,   422,   422,   422)),
    "scheduling:manage-confirm":          (POST, "manage_p",    (302,   302,   302,   302,   302,   302,   302,   302,   302,   302)),
    # Anyone's own claims to represent a partner (issue 19): nobody here has one, so each sees an empty list.
    "partners:claim-list":                (GET,  _,             (LOGIN, 200,   200,   200,   200,   200,   200,   200,   200,   200)),
    # Reports: a partner's user never learns that an institution report exists (404).
    "reports:booking-report":             (GET,  _,             (LOGIN, 403,   200,   200,   200,   404,   404,   404,   404,   404)),
    "reports:traffic":                    (GET,  _,             (LOGIN, 403,   200,   403,   200,   404,   404,   404,   404,   404)),
    "reports:partner-bookings":           (GET,  _,             (LOGIN, 403,   200,   403,   200,   404,   404,   404,   404,   404)),
    "reports:partner-booking-cancel":     (GET,  "booking_p",   (LOGIN, 403,   200,   403,   404,   404,   404,   404,   404,   404)),
    "reports:settlement":                 (GET,  _,             (LOGIN, 403,   200,   403,   200,   404,   404,   404,   404,   404)),
    "reports:settlement-download":        (GET,  "statement_p", (LOGIN, 403,   200,   403,   404,   404,   404,   404,   404,   404)),
    # Closing a period is the institution admin's; another institution's admin does not find A's closing.
    "reports:settlement-close":           (POST, "close_p",     (LOGIN, 403,   302,   403,   404,   404,   404,   404,   404,   404)),
    "reports:settlement-closed-download": (GET,  "closing_p",   (LOGIN, 403,   200,   403,   404,   404,   404,   404,   404,   404)),
    "reports:partner-statements":         (GET,  _,             (LOGIN, 403,   403,   403,   403,   200,   403,   403,   200,   200)),
    # E settles the bookings it made at A before the partnership ended: that statement is its own.
    "reports:partner-statement-download": (GET,  "statement_a", (LOGIN, 403,   403,   403,   403,   200,   403,   403,   404,   200)),
    # API tokens: any member makes its own (the operator acts in Django admin); each revokes only its own.
    "accounts:api-token-list":            (GET,  _,             (LOGIN, 403,   200,   200,   200,   200,   200,   200,   200,   200)),
    "accounts:api-token-revoke":          (POST, "token_a",     (LOGIN, 403,   302,   404,   404,   404,   404,   404,   404,   404)),
    # The JSON API, with each actor's own token (anon and the operator have none: 401; E's partnership has
    # ended: 401). The schema and its docs are public; the API's root names no operation.
    "api:api-root":                       (GET,  _,             (404,   404,   404,   404,   404,   404,   404,   404,   404,   404)),
    "api:openapi-json":                   (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "api:openapi-view":                   (GET,  _,             (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "api:me":                             (GET,  _,             (401,   401,   200,   200,   200,   200,   200,   200,   200,   401)),
    "api:institutions":                   (GET,  _,             (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "api:locations":                      (GET,  _,             (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "api:physicians":                     (GET,  _,             (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "api:services":                       (GET,  _,             (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "api:slots":                          (GET,  "api_slots",   (401,   401,   200,   200,   404,   200,   200,   403,   403,   401)),
    "api:booking_list":                   (GET,  _,             (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "api:booking_get":                    (GET,  "booking_a",   (401,   401,   200,   200,   404,   404,   404,   403,   404,   401)),
    "api:booking_create":                 (POST, "api_book",    (401,   401,   201,   201,   404,   201,   201,   403,   403,   401)),
    "api:booking_move":                   (POST, "api_move",    (401,   401,   200,   200,   404,   200,   200,   403,   404,   401)),
    "api:booking_cancel":                 (POST, "booking_p",   (401,   401,   200,   200,   404,   200,   200,   403,   404,   401)),
    "api:patients":                       (GET,  "api_search",  (401,   401,   200,   200,   200,   200,   200,   403,   404,   401)),
    "api:booking_attendance":             (POST, "api_attendance", (401, 401,   200,   200,   404,   403,   403,   403,   403,   401)),
    "api:booking_payment":                (POST, "api_payment", (401,   401,   200,   200,   404,   403,   403,   403,   403,   401)),
    "api:partnerships":                   (GET,  _,             (401,   401,   200,   403,   200,   403,   403,   403,   403,   401)),
    # Issue 21: a partner's user learns of no institution report through the API either (404, as the pages).
    "api:traffic":                        (GET,  "api_period",  (401,   401,   200,   403,   200,   404,   404,   404,   404,   401)),
    "api:settlement":                     (GET,  "api_period",  (401,   401,   200,   403,   200,   404,   404,   404,   404,   401)),
    "api:partnership_put":                (PUT,  "api_ship",    (401,   401,   200,   403,   404,   403,   403,   403,   403,   401)),
    "api:partnership_service":            (PUT,  "api_cell",    (401,   401,   200,   403,   404,   403,   403,   403,   403,   401)),
    "api:channels":                       (GET,  _,             (401,   401,   200,   403,   200,   403,   403,   403,   403,   401)),
    "api:audit_tree_head":                (GET,  _,             (401,   401,   200,   403,   200,   403,   403,   403,   403,   401)),
    # A patient's export (G-1): A's admins only; another institution's admin does not find A's patient.
    "api:patient_export":                 (GET,  "patient",     (401,   401,   200,   403,   404,   403,   403,   403,   403,   401)),
    # Webhooks: an organisation's administrators; another organisation's endpoint or delivery is 404.
    "webhooks:endpoint-list":             (GET,  _,             (LOGIN, 403,   200,   403,   200,   200,   403,   403,   200,   200)),
    "webhooks:endpoint-delete":           (POST, "webhook_a",   (LOGIN, 403,   302,   403,   404,   404,   403,   403,   404,   404)),
    "webhooks:delivery-redeliver":        (POST, "delivery_a",  (LOGIN, 403,   302,   403,   404,   404,   403,   403,   404,   404)),
    # FHIR R4 with the same tokens: what each actor may book, its bookings, patients as P-7 allows.
    "fhir:metadata":                      (GET,  _,            (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "fhir:organization-search":           (GET,  _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:organization-post-search":      (POST, _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:organization-read":             (GET,  "institution",(401, 401,   200,   200,   404,   200,   200,   403,   404,   401)),
    "fhir:location-search":               (GET,  _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:location-post-search":          (POST, _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:location-read":                 (GET,  "location",   (401,   401,   200,   200,   404,   200,   200,   403,   404,   401)),
    "fhir:practitioner-search":           (GET,  _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:practitioner-post-search":      (POST, _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:practitioner-read":             (GET,  "physician",  (401,   401,   200,   200,   404,   200,   200,   403,   404,   401)),
    "fhir:practitionerrole-search":       (GET,  _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:practitionerrole-post-search":  (POST, _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:practitionerrole-read":         (GET,  "physician",  (401,   401,   200,   200,   404,   200,   200,   403,   404,   401)),
    "fhir:healthcareservice-search":      (GET,  _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:healthcareservice-post-search": (POST, _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:healthcareservice-read":        (GET,  "service",    (401,   401,   200,   200,   404,   200,   200,   403,   404,   401)),
    "fhir:schedule-search":               (GET,  _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:schedule-post-search":          (POST, _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:schedule-read":                 (GET,  "fhir_schedule",(401, 401,   200,   200,   404,   200,   200,   403,   404,   401)),
    # Issue 21: a search naming a schedule the caller may not see finds nothing (200, an empty Bundle, as FHIR
    # searches do; it was 404); a read of another tenant's Slot or Patient is 404.
    "fhir:slot-search":                   (GET,  "fhir_slots", (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:slot-post-search":              (POST, "fhir_slots", (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:slot-read":                     (GET,  "fhir_slot",  (401,   401,   200,   200,   404,   200,   200,   403,   404,   401)),
    "fhir:appointment-search":            (GET,  _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:appointment-post-search":       (POST, _,            (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:appointment-read":              (GET,  "booking_a",  (401,   401,   200,   200,   404,   404,   404,   403,   404,   401)),
    # IHE ITI Scheduling (issue 21): $find offers what each may book (nothing of A to B or Q: an empty Bundle);
    # $hold is refused where booking is (B: another tenant's calendar 404; Q: not authorised 403); $book of
    # bob's hold: only bob books it, for anyone else it is an unknown Appointment (404).
    "fhir:appointment-find":              (GET,  "fhir_find",  (401,   401,   200,   200,   200,   200,   200,   403,   200,   401)),
    "fhir:appointment-hold":              (POST, "fhir_hold",  (401,   401,   200,   200,   404,   200,   200,   403,   403,   401)),
    "fhir:appointment-book":              (POST, "fhir_book",  (401,   401,   404,   200,   404,   404,   404,   403,   404,   401)),
    "fhir:patient-search":                (GET,  "fhir_search",(401, 401,   200,   200,   200,   200,   200,   403,   404,   401)),
    "fhir:patient-post-search":           (POST, "fhir_search",(401, 401,   200,   200,   200,   200,   200,   403,   404,   401)),
    "fhir:patient-read":                  (GET,  "patient",    (401,   401,   200,   200,   404,   200,   200,   403,   404,   401)),
    # SMART discovery, public: no OAuth grant is supported, and its token endpoint says so (400).
    "fhir:smart-configuration":           (GET,  _,            (200,   200,   200,   200,   200,   200,   200,   200,   200,   200)),
    "fhir:token":                         (POST, _,            (400,   400,   400,   400,   400,   400,   400,   400,   400,   400)),
    # P's closed statement at A: P's admin reads it; no other partner finds it.
    "reports:partner-statement-closed-download": (GET, "closing_p", (LOGIN, 403, 403,   403,   403,   200,   403,   403,   404,   404)),
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
    elif obj == "first_free":
        data = {"service": cast.service_a.pk}
    elif obj == "p_first_free":
        data = {"service": cast.service_a.name}
    elif obj == "switch_a":
        data = {"organization": cast.institution_a.pk}
    elif obj == "p_search":
        data = {"partnership": partners.partnership_p.pk, "q": "Anna"}
    elif obj == "api_slots":
        day = everyone.slot_day.isoformat()
        ids = {"location_id": cast.location_a1.pk, "physician_id": cast.physician_a.pk}
        data = {**ids, "service_id": cast.service_a.pk, "date_from": day}
    elif obj == "api_book":
        data = {
            "location_id": cast.location_a1.pk,
            "physician_id": cast.physician_a.pk,
            "service_id": cast.service_a.pk,
            "starts_at": local(everyone.slot_day, 14).isoformat(),
            "new_patient": {"full_name": "Matrix Newcomer"},
        }
    elif obj == "api_move":
        args, data = [everyone.booking_p.pk], {"starts_at": local(everyone.slot_day, 15).isoformat()}
    elif obj == "api_search":
        data = {"q": "Anna", "institution_id": cast.institution_a.pk}
    elif obj == "api_ship":
        args = [partners.partnership_p.pk]
        data = {
            "commission_enabled": True,
            "commission_percent": "12.50",
            "payment_location": "institution",
            "location_ids": [cast.location_a1.pk],
        }
    elif obj == "api_cell":
        args, data = [partners.partnership_p.pk, cast.service_a.pk], {"enabled": False}
    elif obj == "api_period":
        data = {"date_from": everyone.slot_day.isoformat(), "date_until": everyone.slot_day.isoformat()}
    elif obj in ("api_attendance", "api_payment"):
        args = [everyone.booking_ended.pk]
        data = {"status": "completed"} if obj == "api_attendance" else {"payment_status": "paid"}
    elif obj == "fhir_slots":
        day = everyone.slot_day
        data = {
            "schedule": f"Schedule/{cast.physician_a.pk}-{cast.location_a1.pk}-{cast.service_a.pk}",
            "start": [f"ge{day.isoformat()}", f"lt{(day + timedelta(days=1)).isoformat()}"],
        }
    elif obj == "fhir_find":
        data = {"start": everyone.slot_day.isoformat(), "end": everyone.slot_day.isoformat()}
    elif obj == "fhir_hold":
        when = int(local(everyone.slot_day, 13).timestamp())
        proposed = f"proposed-{cast.physician_a.pk}-{cast.location_a1.pk}-{cast.service_a.pk}-{when}"
        reference = {"reference": f"Appointment/{proposed}"}
        data = {
            "resourceType": "Parameters",
            "parameter": [{"name": "appointment-reference", "valueReference": reference}],
        }
    elif obj == "fhir_book":
        booked = {"resourceType": "Appointment", "id": _hold_of(everyone), "status": "booked",
                  "participant": [{"actor": {"reference": f"Patient/{cast.patient_a.pk}"}, "status": "accepted"}]}  # fmt: skip
        data = {
            "resourceType": "Parameters",
            "parameter": [{"name": "appointment-resource", "resource": booked}],
        }
    elif obj == "fhir_search":
        data = {"name": "Anna", "organization": f"Organization/{cast.institution_a.pk}"}
    elif obj == "approval":
        args = [everyone.booking_a.pk]
        Booking.objects.filter(pk=everyone.booking_a.pk).update(approval_needed_at=timezone.now())
    elif obj in ("attendance", "payment"):
        args = [everyone.booking_ended.pk]
        data = {"status": "completed"} if obj == "attendance" else {"payment_status": "paid"}
    elif obj in ("online_service", "online_pick"):
        args = [cast.institution_a.pk, cast.service_a.pk]
        if obj == "online_pick":
            at = int(local(everyone.slot_day, 13).timestamp())
            data = {"location": cast.location_a1.pk, "physician": cast.physician_a.pk, "at": at}
    elif obj == "online_token":
        args = [everyone.online_token]
    elif obj in ("rights_request", "rights_export", "rights_restrict"):
        args = [cast.patient_a.pk]
        data = {"rights_request": {"kind": "access"}, "rights_export": {"format": "html"}}.get(
            obj, {"restrict": "1"}
        )
    elif obj == "close_p":
        args, data = [partners.partner_p.pk], {"date_from": "2020-02-01", "date_until": "2020-02-29"}
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
            "manage": [everyone.manage_token],
            "manage_p": [everyone.manage_token_p],
            "statement_p": [partners.partner_p.pk, "csv"],
            "statement_a": [cast.institution_a.pk, "csv"],
            "token_a": [_token_of(everyone, "a_admin")[0].pk],
            "institution": [cast.institution_a.pk],
            "webhook_a": [_webhook_of(everyone).endpoint_id],
            "delivery_a": [_webhook_of(everyone).pk],
            "fhir_schedule": [f"{cast.physician_a.pk}-{cast.location_a1.pk}-{cast.service_a.pk}"],
            "fhir_slot": [
                f"{cast.physician_a.pk}-{cast.location_a1.pk}-{cast.service_a.pk}-"
                f"{int(local(everyone.slot_day, 13).timestamp())}"
            ],
            "closing_p": [everyone.closing_p.pk, "xlsx"],
            "audit_a": [_audit_entry_of(everyone).pk],
        }[obj]
    return method, reverse(name, args=args), data


def _answer(response):
    """The cell symbol of a response: LOGIN for a redirect to the login page, else the status code."""
    if response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")):
        return LOGIN
    return response.status_code


def _writes(queries) -> list[str]:
    """The statements that wrote to a table of the application (sessions are Django's, not ours; the API's
    rate limit counts every request of a token, a refused one too, as the manage pages' limit counts every
    request of an address)."""
    return [
        query["sql"]
        for query in queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE"))
        and "django_session" not in query["sql"]
        and RateCount._meta.db_table not in query["sql"]
        # The per-address limit of the patients' manage-link pages counts a refused request too (issue 22).
        and ThrottleEvent._meta.db_table not in query["sql"]
    ]


def _patient_seen(response, everyone: Everyone) -> bool:
    patient = everyone.cast.patient_a
    return any(
        secret.encode() in response.content for secret in (patient.full_name, patient.insurance_id) if secret
    )


def _token_of(everyone: Everyone, actor: str):
    """The actor's own API token (made once per test), or None for whoever may hold none."""
    tokens = everyone.__dict__.setdefault("_tokens", {})
    if actor not in tokens:
        user = everyone.user(actor)
        membership_actor = actor_for(user) if user is not None else None
        if membership_actor is None or membership_actor.membership is None:
            tokens[actor] = (None, "")
        else:
            token, secret = api_token_create(actor=membership_actor, name="matrix")
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())  # no write per call
            tokens[actor] = (token, secret)
    return tokens[actor]


def _audit_entry_of(everyone: Everyone) -> AuditEntry:
    """An audit entry of A (made once per test)."""
    if "_audit_entry" not in everyone.__dict__:
        actor = actor_for(everyone.cast.alice)
        everyone.__dict__["_audit_entry"] = audit_record(
            actor=actor, action=AuditAction.BOOKING_NOTE, obj=everyone.cast.location_a1
        )
    return everyone.__dict__["_audit_entry"]


def _hold_of(everyone: Everyone) -> str:
    """The token of bob's hold of A's free slot at 12:00, a time no other case books or moves to (made once
    per test)."""
    if "_hold" not in everyone.__dict__:
        cast = everyone.cast
        everyone.__dict__["_hold"] = holds.slot_hold(
            actor=actor_for(cast.bob),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            starts_at=local(everyone.slot_day, 12),
        ).token
    return everyone.__dict__["_hold"]


def _webhook_of(everyone: Everyone) -> WebhookDelivery:
    """A's webhook endpoint with one delivery in its log (made once per test)."""
    if "_delivery" not in everyone.__dict__:
        endpoint = WebhookEndpoint.objects.create(
            organization_id=everyone.cast.institution_a.pk,
            url="https://a.example/hook",
            events=["booking.created"],
            secret="whsec_" + "A" * 44,
        )
        everyone.__dict__["_delivery"] = WebhookDelivery.objects.create(
            endpoint=endpoint, event="booking.created", payload={}, status=WebhookDelivery.Status.FAILED
        )
    return everyone.__dict__["_delivery"]


def _send(http: Client, name: str, everyone: Everyone, actor: str, method: str, url: str, data: dict):
    """A page's request with the session; an API operation's with the actor's token (JSON bodies)."""
    if not name.startswith(TOKEN_NAMESPACES):
        return getattr(http, method)(url, data)
    _token, secret = _token_of(everyone, actor)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    if name.endswith("-post-search"):  # FHIR's POST _search: the search's parameters as a form
        form = urlencode(data, doseq=True)
        return http.post(url, form, content_type="application/x-www-form-urlencoded", **headers)
    if method in (POST, PUT):
        send = http.post if method == POST else http.put
        return send(url, json.dumps(data), content_type="application/json", **headers)
    return http.get(url, data, **headers)


def _cell(http: Client, everyone: Everyone, actor: str, request: tuple, expected, name: str) -> list[str]:
    """Send the request as the actor (rolled back afterwards); say what is wrong with the answer."""
    method, url, data = request
    user = everyone.user(actor)
    problems = []
    attempts = [(method, expected)]
    api = name.startswith(TOKEN_NAMESPACES)
    if api:
        pass  # a token's request: the method check is django-ninja's (405 before any authentication)
    elif method == GET and expected in REFUSALS:
        attempts.append((POST, expected))  # no form is posted past a refusal
    elif method == POST and expected not in REFUSALS:
        attempts.append((GET, 405))  # a change is never made by a GET (a link, an image, a prefetch)
    http.cookies.clear()
    if user is not None and not api:
        http.force_login(user)
    if api:
        _token_of(everyone, actor)  # made before the request, outside what the cell counts as its writes
    for attempt, want in attempts:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                response = _send(http, name, everyone, actor, attempt, url, data)
            got = _answer(response)
            where = f"{name} {attempt.upper()} {url} as {actor}"
            if got != want:
                problems.append(f"{where}: expected {want}, got {got}")
            elif got in REFUSALS and name not in LOGIN_IS_SUCCESS and (writes := _writes(queries)):
                problems.append(f"{where}: refused with {got}, yet wrote {writes}")
            if got == 403 and api:
                answer = response.json()
                if not (
                    answer.get("error", {}).get("message") or answer.get("issue", [{}])[0].get("diagnostics")
                ):
                    problems.append(f"{where}: a 403 without a message saying why")
            elif got == 403:
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
    # A patient's manage link: one neutral 404 (issue 22), a well-formed token or not.
    "scheduling:manage": (GET, ["0" * 48], 404),
    "scheduling:manage-cancel": (POST, ["0" * 48], 404),
    "scheduling:manage-move": (POST, ["forged"], 404),
    "scheduling:manage-confirm": (POST, ["0" * 48], 404),
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_x_forged_secret_links_are_refused(http, everyone, name):
    method, args, expected = FORGED[name]
    request = (method, reverse(name, args=args), {})
    problems = [p for actor in ACTORS for p in _cell(http, everyone, actor, request, expected, name)]
    assert not problems, "\n".join(problems)
    if name == "accounts:password-reset-confirm":
        assert b"This link is no longer valid" in http.get(request[1]).content
