"""Query budgets (issue 13): every page and API operation takes as many queries with ten times the data.

Each case of BUDGETS sends one request as its user: once with the cast of the permission matrix and one
unit more of everything a page lists (budget_data.grow), and once after ten units more. Both counts must
be equal, and equal to the case's budget, which is today's count on that engine: a query more (an N+1, a
lost select_related) fails, so does a query fewer until its budget is lowered, and so does a URL with no
case. Each request runs in a savepoint that is rolled back, after a fresh login (the session's
once-a-minute writes then come alike every time); the API's requests use the actor's token, its last use
written just before (it is written at most once a minute).
"""

import copy
import json
from datetime import timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import cast_build, local, partners_build
from medbook.accounts import security
from medbook.accounts.models import ApiToken
from medbook.core.tests.budget_data import grow, taj
from medbook.core.tests.cast import ACTORS, Everyone, everyone_make
from medbook.core.tests.test_permission_matrix import (
    MATRIX,
    TOKEN_NAMESPACES,
    _hold_of,
    _names,
    _request_of,
    _token_of,
    _webhook_of,
)
from medbook.online.tests.helpers import last_code, person
from medbook.partners.forms.module import PartnerForm
from medbook.partners.tests.factories import gtc_publish
from medbook.scheduling.models import Booking, BookingUndo, TrafficChannel

# One worker measures every case (the module's `counts`), rather than each worker all of them again.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("query_budgets")]
SMALL, LARGE = 1, 10  # units of budget_data.grow on top of the cast, then ten times as many

ONE, LIST = "one", "list"  # the answer shows one object (or none), or lists the grown rows (so it is longer)

# case: (actor, the answer's status, its budget, ONE or LIST). A case is a URL name, or a URL name and a word
# for another request of it (see _request); the actor is one of cast.ACTORS. A budget is one number for
# both engines, or (PostgreSQL, SQLite) where they differ. (An audit entry is one INSERT on both: its queue row
# is written by a trigger, and no lock is taken — see docs/audit.md. An entry naming a patient writes its
# erasable personal part in the same statement on PostgreSQL, in one more INSERT on SQLite.)
# A calendar reads others' live slot holds in one query (issue 21, docs/scheduling.md); a booking's check
# reads them with its bookings in one UNION, and locks the physician in its working-hours read: no more.
# Issue 22: a booking made or moved for a patient with an e-mail writes a manage link (one INSERT), a cancel
# revokes the booking's links (one UPDATE); the booking panel reads the patient's attendance memory and whether
# a link is live (two queries), the patient's record the attendance memory (one).
# Issue 23: the patient's record reads the visits (two queries: upcoming and past, each capped); a booking
# for a patient with another visit that day reads those visits (one query) and is refused until acknowledged.
# fmt: off
BUDGETS: dict[str, tuple[str, int, int | tuple[int, int], str]] = {
    "core:home":                                  ("a_admin",  302,     8, ONE ),
    "core:healthz":                               ("anon",     200,     0, ONE ),
    "core:readyz":                                ("anon",     200,     3, ONE ),
    "core:language-set":                          ("a_admin",  302,     4, ONE ),
    "accounts:login":                             ("anon",     200,     0, ONE ),
    # The public booking pages (issue 22), as a patient: the offer in two queries (the service with its
    # institution, the calendars), the free times of every calendar over the two weeks in three (working hours, leave, and
    # bookings with holds).
    "online:home":                                ("anon",     200,     1, ONE ),
    "online:institution":                         ("anon",     200,     2, ONE ),
    "online:times":                               ("anon",     200,     5, ONE ),  # the earliest 40
    "online:details":                             ("anon",     200,     2, ONE ),
    "online:details post":                        ("anon",     302,     38, ONE ),  # 18: the limits (throttle)
    "online:verify":                              ("anon",     200,     1, ONE ),
    "online:verify post":                         ("anon",     302,     (32, 34), ONE ),
    "accounts:logout":                            ("a_admin",  302,  8, ONE ),
    "accounts:password-reset":                    ("anon",     200,     0, ONE ),
    "accounts:password-reset-done":               ("anon",     200,     0, ONE ),
    "accounts:password-reset-confirm":            ("anon",     302,     5, ONE ),
    "accounts:password-reset-complete":           ("anon",     200,     0, ONE ),
    "accounts:organization-switch":               ("a_admin",  302,  11, ONE ),
    "accounts:organization-switch-ask":           ("a_admin",  200,     8, ONE ),
    "accounts:membership-accept":                 ("b_admin",  200,     9, ONE ),
    "accounts:two-factor":                        ("a_admin",  200,     9, ONE ),
    "accounts:two-factor-confirm":                ("a_admin",  302,     9, ONE ),
    "accounts:two-factor-verify":                 ("a_admin",  302,     5, ONE ),
    "accounts:two-factor-recovery":               ("a_admin",  302,   14, ONE ),
    "accounts:two-factor-disable":                ("a_admin",  302,  15, ONE ),
    "accounts:reauthenticate":                    ("a_admin",  200,     8, ONE ),
    "accounts:email-preferences":                 ("a_admin",  200,     8, ONE ),
    "accounts:member-list":                       ("a_admin",  200,     9, LIST),
    "accounts:member-list partner":               ("p_admin",  200,     9, LIST),
    "accounts:two-factor-policy":                 ("a_admin",  302,   10, ONE ),
    "accounts:member-create":                     ("a_admin",  200,     8, ONE ),
    "accounts:member-edit":                       ("a_admin",  200,     9, ONE ),
    "accounts:member-toggle":                     ("a_admin",  302,  19, ONE ),
    "accounts:api-token-list":                    ("a_admin",  200,     9, LIST),
    "accounts:api-token-revoke":                  ("a_admin",  302,        13, ONE ),
    # The staff calendar: the empty choice, the week shown (page and htmx), all physicians at once.
    "scheduling:calendar":                        ("a_staff",  200,   16, LIST),
    "scheduling:calendar week":                   ("a_staff",  200,   30, LIST),
    "scheduling:calendar htmx":                   ("a_staff",  200,   30, LIST),
    "scheduling:calendar all":                    ("a_staff",  200,   28, LIST),
    # The day agenda (issue 23): today at the last location, the slot day of A's first location (page and
    # htmx): physicians, service colours, then calendar_days' hours, leave, bookings and holds, however many.
    # (the remembered location and service are written when they change: here every time, rolled back).
    "scheduling:agenda":                          ("a_staff",  200,   28, LIST),
    "scheduling:agenda day":                      ("a_staff",  200,   28, LIST),
    "scheduling:agenda htmx":                     ("a_staff",  200,   26, LIST),
    # The first free time (issue 23): the earliest 10 across every calendar of the service, in the same few
    # queries however many physicians (calendar_days' hours, leave, bookings and holds, per span of days).
    "scheduling:first-free":                      ("a_staff",  200,   17, ONE ),
    "scheduling:booking-create":                  ("a_staff",  200,   14, ONE ),
    "scheduling:booking-create htmx":             ("a_staff",  200,   23, ONE ),
    "scheduling:booking-hold-release":            ("a_staff",  200,   10, ONE ),
    "scheduling:booking-create post":             ("a_staff",  200,        (48, 49), LIST),
    "scheduling:booking-create same-day":         ("a_staff",  422,   24, ONE ),
    "scheduling:booking-create new":              ("a_staff",  200,        (49, 51), LIST),
    "scheduling:booking-detail":                  ("a_staff",  200,   17, ONE ),
    # Issue 23: choosing a time asks to confirm (the panel, no write); the confirmed move and the cancel keep
    # what undoing needs (a delete and an insert); an undo restores the booking (booking_a moved a moment ago).
    "scheduling:booking-move ask":                ("a_staff",  200,   13, ONE ),
    "scheduling:booking-move":                    ("a_staff",  200,        (47, 48), LIST),
    "scheduling:booking-cancel":                  ("a_staff",  200,        (43, 44), LIST),
    "scheduling:booking-undo":                    ("a_staff",  200,        (54, 55), LIST),
    "scheduling:booking-attendance":              ("a_staff",  200,        (39, 40), LIST),
    "scheduling:booking-payment":                 ("a_staff",  200,        (38, 39), LIST),
    # The patient's manage link (issue 22), logged out: the address's limit (a count, an insert, a clean-up)
    # before the booking is opened; a cancel or move then costs what the desk's does, with the patient's e-mail.
    "scheduling:manage":                          ("anon",     200,   10, ONE ),
    "scheduling:manage-cancel":                   ("anon",     200,   (16, 17), ONE ),
    "scheduling:manage-move":                     ("anon",     302,   (20, 21), ONE ),
    "scheduling:manage-confirm":                  ("anon",     302,   (13, 14), ONE ),
    "scheduling:booking-link-revoke":             ("a_staff",  200,   (43, 44), LIST),
    # The desk approves an online booking awaiting approval (issue 22): booking_a, made to await it.
    "scheduling:booking-approve":                 ("a_staff",  200,   (46, 47), LIST),
    "patients:patient-list":                      ("a_staff",  200,        13, LIST),
    "patients:patient-list q":                    ("a_staff",  200,        (13, 14), LIST),
    "patients:patient-search":                    ("a_staff",  200,        (12, 13), LIST),
    "patients:patient-create":                    ("a_staff",  200,     8, ONE ),
    "patients:patient-create post":               ("a_staff",  302,        (12, 13), ONE ),
    "patients:patient-edit":                      ("a_staff",  200,        (15, 16), ONE ),
    "patients:patient-edit post":                 ("a_staff",  302,        (13, 14), ONE ),
    "patients:patient-duplicates":                ("a_staff",  200,    9, LIST),
    # A patient's data rights (issue 24): the export reads each kind of data once, whatever its amount. The
    # audit entries about the patient take one query more on SQLite, which has no jsonb containment: the
    # lists that showed patients are read first (audit.selectors.entries_about_patient).
    "privacy:patient-rights":                     ("a_admin",  200,   10, ONE ),
    "privacy:request-create":                     ("a_admin",  302,   14, ONE ),
    "privacy:patient-export":                     ("a_admin",  200,   (22, 24), ONE ),
    "privacy:patient-restriction":                ("a_admin",  302,   (17, 18), ONE ),
    "privacy:patient-erase":                      ("a_admin",  200,   (16, 17), ONE ),
    "privacy:request-list":                       ("a_admin",  200,   9, ONE ),
    # The records of processing: one query for the partnerships and one each for their locations and services.
    "privacy:processing-record":                  ("a_admin",  200,   11, LIST),
    "privacy:processing-record json":             ("a_admin",  200,   11, LIST),
    "privacy:partner-processing-record":          ("p_admin",  200,   14, LIST),  # + the bookings' counts, the users
    "institutions:settings":                      ("a_admin",  200,     9, ONE ),
    "institutions:location-list":                 ("a_admin",  200,     9, LIST),
    "institutions:location-create":               ("a_admin",  200,     8, ONE ),
    "institutions:location-edit":                 ("a_admin",  200,     9, ONE ),
    "institutions:physician-list":                ("a_admin",  200,   10, LIST),
    "institutions:physician-create":              ("a_admin",  200,     9, LIST),
    "institutions:physician-edit":                ("a_admin",  200,   11, LIST),
    "institutions:service-list":                  ("a_admin",  200,   11, LIST),
    "institutions:service-create":                ("a_admin",  200,   10, LIST),
    "institutions:service-edit":                  ("a_admin",  200,   13, LIST),
    "scheduling:workinghours-list":               ("a_admin",  200,     9, LIST),
    "scheduling:workinghours-create":             ("a_admin",  200,   10, LIST),
    "scheduling:workinghours-edit":               ("a_admin",  200,   11, LIST),
    "scheduling:workinghours-delete":             ("a_admin",  302,   13, ONE ),
    "scheduling:exception-list":                  ("a_admin",  200,     9, LIST),
    "scheduling:exception-create":                ("a_admin",  200,   10, LIST),
    "scheduling:exception-edit":                  ("a_admin",  200,   11, LIST),
    "scheduling:exception-delete":                ("a_admin",  302,   13, ONE ),
    "audit:entry-list":                           ("a_admin",  200,   11, LIST),
    "audit:entry-proof":                          ("a_admin",  200,   11, ONE ),
    "audit:public-key":                           ("anon",     200,     0, ONE ),
    "partners:partner-list":                      ("a_admin",  200,   10, LIST),
    "partners:partner-create":                    ("a_admin",  200,     9, LIST),
    "partners:partner-edit":                      ("a_admin",  200,   11, LIST),
    "partners:partner-edit post":                 ("a_admin",  302,        20, ONE ),
    "partners:partner-delete":                    ("a_admin",  200,   11, LIST),
    "partners:partner-resend":                    ("a_admin",  302,   14, ONE ),
    "partners:channel-list":                      ("a_admin",  200,   13, LIST),  # +1: the Online column (issue 22)
    "partners:matrix-cell":                       ("a_admin",  302,        17, ONE ),
    "partners:online-cell":                       ("a_admin",  302,         14, ONE ),
    "partners:home":                              ("p_book",   200,   12, LIST),
    "partners:partnership-answer":                ("p_admin",  200,   13, LIST),
    "partners:gtc-accept":                        ("p_admin",  200,   10, ONE ),
    "partners:partner-details":                   ("p_admin",  200,   10, ONE ),
    # Book to partner: every calendar (its landing page), and one calendar chosen (htmx).
    "partners:book":                              ("p_book",   200,   26, LIST),
    "partners:book htmx":                         ("p_book",   200,   25, ONE ),
    "partners:book-first-free":                   ("p_book",   200,   16, ONE ),
    "partners:book-slot":                         ("p_book",   200,   13, ONE ),
    "partners:book-slot htmx":                    ("p_book",   200,   21, ONE ),
    "partners:book-slot-release":                 ("p_book",   200,   11, ONE ),
    "partners:book-slot post":                    ("p_book",   200,         (53, 55), ONE ),
    "partners:patient-search":                    ("p_book",   200,        (23, 24), LIST),
    "partners:booking-list":                      ("p_book",   200,   13, LIST),
    "partners:booking-detail":                    ("p_book",   200,   14, ONE ),
    "partners:booking-move":                      ("p_book",   302,        (32, 33), ONE ),
    "partners:booking-note":                      ("p_book",   302,        (19, 20), ONE ),
    "partners:booking-cancel":                    ("p_book",   302,        (28, 29), ONE ),
    "partners:booking-undo":                      ("p_book",   302,        (31, 32), ONE ),
    "partners:feed-settings":                     ("p_book",   302,        17, ONE ),
    "partners:feed":                              ("anon",     200,     3, LIST),
    "partners:register":                          ("anon",     200,     2, ONE ),
    "partners:register-renew":                    ("anon",     200,  10, ONE ),
    "partners:claim-list":                        ("p_admin",  200,     9, ONE ),
    "reports:booking-report":                     ("a_admin",  200,   13, LIST),
    "reports:traffic":                            ("a_admin",  200,    9, LIST),
    "reports:partner-bookings":                   ("a_admin",  200,   11, LIST),
    "reports:partner-booking-cancel":             ("a_admin",  200,     9, ONE ),
    "reports:settlement":                         ("a_admin",  200,   14, LIST),
    "reports:settlement-download":                ("a_admin",  200,        14, LIST),
    "reports:settlement-close":                   ("a_admin",  302,        20, ONE ),
    "reports:settlement-closed-download":         ("a_admin",  200,        13, ONE ),
    "reports:partner-statements":                 ("p_admin",  200,   14, LIST),
    "reports:partner-statement-download":         ("p_admin",  200,        14, LIST),
    "reports:partner-statement-closed-download":  ("p_admin",  200,        13, ONE ),
    "webhooks:endpoint-list":                     ("a_admin",  200,   10, LIST),
    "webhooks:endpoint-list partner":             ("p_admin",  200,   10, LIST),
    "webhooks:endpoint-delete":                   ("a_admin",  302,        14, ONE ),
    "webhooks:delivery-redeliver":                ("a_admin",  302,        13, ONE ),
    # The JSON API with the actor's token: as A's admin, and as P's booker where a partner sees otherwise.
    "api:api-root":                               ("a_admin",  404,     0, ONE ),
    "api:openapi-json":                           ("anon",     200,     0, ONE ),
    "api:openapi-view":                           ("anon",     200,     0, ONE ),
    "api:me":                                     ("a_admin",  200,     3, ONE ),
    "api:institutions":                           ("a_admin",  200,     4, ONE ),
    "api:institutions partner":                   ("p_book",   200,     8, LIST),
    "api:locations":                              ("a_admin",  200,     4, LIST),
    "api:locations partner":                      ("p_book",   200,     8, LIST),
    "api:physicians":                             ("a_admin",  200,     5, LIST),
    "api:physicians partner":                     ("p_book",   200,     8, LIST),
    "api:services":                               ("a_admin",  200,     6, LIST),
    "api:services partner":                       ("p_book",   200,     8, LIST),
    "api:slots":                                  ("a_admin",  200,     9, ONE ),
    "api:slots partner":                          ("p_book",   200,    11, ONE ),
    "api:booking_list":                           ("a_admin",  200,  5, LIST),
    "api:booking_list partner":                   ("p_book",   200,  6, LIST),
    "api:booking_get":                            ("a_admin",  200,  5, ONE ),
    "api:booking_create":                         ("a_admin",  201,  (21, 23), ONE ),
    "api:booking_create partner":                 ("p_book",   201,  (23, 25), ONE ),
    "api:booking_move":                           ("a_admin",  200,  (23, 24), ONE ),
    "api:booking_move partner":                   ("p_book",   200,  (26, 27), ONE ),
    "api:booking_cancel":                         ("a_admin",  200,  (19, 20), ONE ),
    "api:booking_cancel partner":                 ("p_book",   200,  (22, 23), ONE ),
    "api:patients":                               ("a_admin",  200,  (7, 8), LIST),
    "api:patients partner":                       ("p_book",   200,  (16, 17), LIST),
    "api:booking_attendance":                     ("a_admin",  200,  (11, 12), ONE ),
    "api:booking_payment":                        ("a_admin",  200,  (10, 11), ONE ),
    "api:audit_tree_head":                        ("a_admin",  200,     4, ONE ),
    "api:patient_export":                         ("a_admin",  200,  (17, 19), ONE ),
    "api:partnerships":                           ("a_admin",  200,     6, LIST),
    "api:traffic":                                ("a_admin",  200,     4, LIST),
    "api:settlement":                             ("a_admin",  200,     7, LIST),
    "api:partnership_put":                        ("a_admin",  200,  20, LIST),
    "api:partnership_service":                    ("a_admin",  200,  15, LIST),
    "api:channels":                               ("a_admin",  200,     8, LIST),  # +1: the Online column (issue 22)
    # FHIR R4 with the same tokens.
    "fhir:metadata":                              ("anon",     200,     0, ONE ),
    "fhir:organization-search":                   ("a_admin",  200,     4, ONE ),
    "fhir:organization-post-search":              ("a_admin",  200,     4, ONE ),
    "fhir:organization-search partner":           ("p_book",   200,     8, LIST),
    "fhir:organization-post-search partner":      ("p_book",   200,     8, LIST),
    "fhir:organization-read":                     ("a_admin",  200,     4, ONE ),
    "fhir:location-search":                       ("a_admin",  200,     7, LIST),
    "fhir:location-post-search":                  ("a_admin",  200,     7, LIST),
    "fhir:location-search partner":               ("p_book",   200,     8, LIST),
    "fhir:location-post-search partner":          ("p_book",   200,     8, LIST),
    "fhir:location-read":                         ("a_admin",  200,     7, ONE ),
    "fhir:practitioner-search":                   ("a_admin",  200,     7, LIST),
    "fhir:practitioner-post-search":              ("a_admin",  200,     7, LIST),
    "fhir:practitioner-search partner":           ("p_book",   200,     8, LIST),
    "fhir:practitioner-post-search partner":      ("p_book",   200,     8, LIST),
    "fhir:practitioner-read":                     ("a_admin",  200,     7, ONE ),
    "fhir:practitionerrole-search":               ("a_admin",  200,     7, LIST),
    "fhir:practitionerrole-post-search":          ("a_admin",  200,     7, LIST),
    "fhir:practitionerrole-search partner":       ("p_book",   200,     8, LIST),
    "fhir:practitionerrole-post-search partner":  ("p_book",   200,     8, LIST),
    "fhir:practitionerrole-read":                 ("a_admin",  200,     7, LIST),
    "fhir:healthcareservice-search":              ("a_admin",  200,     7, LIST),
    "fhir:healthcareservice-post-search":         ("a_admin",  200,     7, LIST),
    "fhir:healthcareservice-search partner":      ("p_book",   200,     8, LIST),
    "fhir:healthcareservice-post-search partner": ("p_book",   200,     8, LIST),
    "fhir:healthcareservice-read":                ("a_admin",  200,     7, LIST),
    "fhir:schedule-search":                       ("a_admin",  200,     7, LIST),
    "fhir:schedule-post-search":                  ("a_admin",  200,     7, LIST),
    "fhir:schedule-search partner":               ("p_book",   200,     8, LIST),
    "fhir:schedule-post-search partner":          ("p_book",   200,     8, LIST),
    "fhir:schedule-read":                         ("a_admin",  200,     7, ONE ),
    "fhir:slot-search":                           ("a_admin",  200,    11, ONE ),
    "fhir:slot-post-search":                      ("a_admin",  200,    11, ONE ),
    "fhir:slot-search partner":                   ("p_book",   200,    11, ONE ),
    "fhir:slot-post-search partner":              ("p_book",   200,    11, ONE ),
    "fhir:appointment-search":                    ("a_admin",  200,  5, LIST),
    "fhir:appointment-post-search":               ("a_admin",  200,  5, LIST),
    "fhir:appointment-search partner":            ("p_book",   200,  6, LIST),
    "fhir:appointment-post-search partner":       ("p_book",   200,  6, LIST),
    "fhir:appointment-read":                      ("a_admin",  200,  5, ONE ),
    "fhir:patient-search":                        ("a_admin",  200,  (7, 8), LIST),
    "fhir:patient-post-search":                   ("a_admin",  200,  (7, 8), LIST),
    "fhir:patient-search partner":                ("p_book",   200,  (16, 17), LIST),
    "fhir:slot-read":                             ("a_admin",  200,    12, ONE ),
    "fhir:slot-read partner":                     ("p_book",   200,    12, ONE ),
    "fhir:patient-read":                          ("a_admin",  200,     7, ONE ),
    "fhir:patient-read partner":                  ("p_book",   200,     6, ONE ),
    # IHE's operations (issue 21): $find over one calendar (like the Slot search, each calendar searched is
    # one run of the slot engine); $hold and $book take the booking's check of the slot and its lock.
    "fhir:appointment-find":                      ("a_admin",  200,  11, ONE ),
    "fhir:appointment-find partner":              ("p_book",   200,  11, ONE ),
    "fhir:appointment-hold":                      ("a_admin",  200,  15, ONE ),
    "fhir:appointment-hold partner":              ("p_book",   200,  16, ONE ),
    "fhir:appointment-book":                      ("a_staff",  200,  (27, 28), ONE ),
    "fhir:smart-configuration":                   ("anon",     200,     0, ONE ),
    "fhir:token":                                 ("anon",     400,     0, ONE ),
    "fhir:patient-post-search partner":           ("p_book",   200,  (16, 17), LIST),
}
# fmt: on


def _name(case: str) -> str:
    return case.split(" ", 1)[0]


def _period(everyone: Everyone) -> dict:
    """A period of the reports that holds every booking of the cast and of the growth."""
    today = timezone.localdate()
    until = everyone.slot_day + timedelta(days=7)
    return {"date_from": (today - timedelta(days=7)).isoformat(), "date_until": until.isoformat()}


def _calendar(everyone: Everyone, physician=True) -> dict:
    """Reception's choice of the calendar of the slot day: A's first location and service."""
    cast = everyone.cast
    return {
        "location": cast.location_a1.pk,
        "physician": cast.physician_a.pk if physician else "",
        "service": cast.service_a.pk,
        "week": everyone.slot_day.isoformat(),
    }


def _agenda(everyone: Everyone) -> dict:
    """Reception's day agenda of the slot day at A's first location, free time for A's service."""
    cast = everyone.cast
    return {
        "location": cast.location_a1.pk,
        "service": cast.service_a.pk,
        "date": everyone.slot_day.isoformat(),
    }


def _offer(everyone: Everyone) -> dict:
    """A partner's choice of one calendar in Book to partner."""
    cast = everyone.cast
    return {
        "institution": cast.institution_a.pk,
        "location": cast.location_a1.pk,
        "physician": cast.physician_a.pk,
        "service": cast.service_a.pk,
        "week": everyone.slot_day.isoformat(),
        "show": "1",
    }


def _slots(everyone: Everyone) -> dict:
    """A FHIR search of the free slots of one schedule (physician A at A's first location) for one service."""
    cast, day = everyone.cast, everyone.slot_day
    return {
        "schedule": f"Schedule/{cast.physician_a.pk}-{cast.location_a1.pk}-{cast.service_a.pk}",
        "service-type": str(cast.service_a.pk),
        "start": [f"ge{day.isoformat()}", f"lt{(day + timedelta(days=1)).isoformat()}"],
    }


def _find(everyone: Everyone) -> dict:
    """IHE's $find of one calendar (physician A giving service A at A's first location) on the slot day."""
    cast, day = everyone.cast, everyone.slot_day.isoformat()
    return {
        "start": day,
        "end": day,
        "practitioner": f"Practitioner/{cast.physician_a.pk}",
        "location": f"Location/{cast.location_a1.pk}",
        "service-type": str(cast.service_a.pk),
    }


def _partner_form(everyone: Everyone) -> dict:
    """The Modify partner form of P as shown, with another commission."""
    initial = PartnerForm.initial_for(everyone.partners.partnership_p)
    data = {key: value for key, value in initial.items() if value is not None}
    data["locations"] = [location.pk for location in initial["locations"]]
    data["commission_percent"] = "12.50"
    return data


def _undoable(everyone: Everyone, case: str) -> None:
    """Make the case's booking one moved a moment ago by its own side, which may still undo it."""
    desk = case.startswith("scheduling:")
    booking = everyone.booking_a if desk else everyone.booking_p
    user = everyone.cast.bob if desk else everyone.partners.peter
    previous = local(everyone.slot_day, 8, 30) if desk else local(everyone.slot_day, 12, 30)
    BookingUndo.objects.update_or_create(
        booking=booking,
        defaults={
            "kind": BookingUndo.Kind.MOVE,
            "user": user,
            "organization_id": booking.institution_id if desk else booking.partner_id,
            "previous_starts_at": previous,
            "previous_ends_at": previous + (booking.ends_at - booking.starts_at),
            "changed_starts_at": booking.starts_at,
            "done_at": timezone.now(),
            "expires_at": timezone.now() + timedelta(hours=1),
        },
    )


def _request(case: str, everyone: Everyone) -> tuple[str, str, dict, bool]:
    """The case's method, URL, data and whether htmx sends it; by default the permission matrix's request."""
    cast, partners = everyone.cast, everyone.partners
    day = everyone.slot_day
    reception = TrafficChannel.objects.get(institution=cast.institution_a, code="reception").pk
    booking_a, booking_p = [everyone.booking_a.pk], [everyone.booking_p.pk]
    new_patient = {"new-full_name": "Budget Newcomer", "new-insurance_id": taj(9999)}
    slot = {
        "slot_physician": cast.physician_a.pk,
        "starts_at": local(day, 13).isoformat(),
        "channel": reception,
    }
    # booking_a awaits the desk's approval (an online booking of a repeat no-show's).
    if case == "scheduling:booking-approve":
        Booking.objects.filter(pk=everyone.booking_a.pk).update(approval_needed_at=timezone.now())
    # booking_a and booking_p were moved a moment ago, from 8:30 and 12:30, by their own side (issue 23).
    if case in ("scheduling:booking-undo", "partners:booking-undo"):
        _undoable(everyone, case)
    custom = {
        "core:language-set": ("post", [], {"language": "en"}, False),
        "accounts:organization-switch": ("post", [], {"organization": cast.institution_a.pk}, False),
        "scheduling:calendar week": ("get", [], _calendar(everyone), False),
        "scheduling:calendar htmx": ("get", [], _calendar(everyone), True),
        "scheduling:calendar all": ("get", [], _calendar(everyone, physician=False), True),
        "scheduling:booking-create htmx": ("get", [], {**_calendar(everyone), **slot}, True),
        "scheduling:agenda day": ("get", [], _agenda(everyone), False),
        "scheduling:agenda htmx": ("get", [], _agenda(everyone), True),
        # Anna has visits on the slot day: booked once the clerk acknowledges them, else shown again, warned.
        "scheduling:booking-create post": ("post", [], {**_calendar(everyone), **slot, "patient": cast.patient_a.pk, "same_day_ok": cast.patient_a.pk}, True),
        "scheduling:booking-create same-day": ("post", [], {**_calendar(everyone), **slot, "patient": cast.patient_a.pk}, True),
        "scheduling:booking-create new": ("post", [], {**_calendar(everyone), **slot, **new_patient}, True),
        "scheduling:booking-detail": ("get", booking_a, {}, True),
        "scheduling:booking-move ask": ("post", booking_a, {**_calendar(everyone), "starts_at": local(day, 14).isoformat()}, True),
        "scheduling:booking-move": ("post", booking_a, {**_calendar(everyone), "starts_at": local(day, 14).isoformat(), "confirm": "1"}, True),
        "scheduling:booking-undo": ("post", booking_a, _calendar(everyone), True),
        "scheduling:booking-cancel": ("post", booking_a, _calendar(everyone), True),
        "scheduling:booking-attendance": ("post", [everyone.booking_ended.pk], {**_calendar(everyone), "status": "completed"}, True),
        "scheduling:booking-payment": ("post", [everyone.booking_ended.pk], {**_calendar(everyone), "payment_status": "paid"}, True),
        "scheduling:manage-move": ("post", [everyone.manage_token], {"starts_at": local(day, 14).isoformat()}, False),
        "scheduling:booking-link-revoke": ("post", booking_a, _calendar(everyone), True),
        "scheduling:booking-approve": ("post", booking_a, _calendar(everyone), True),
        "patients:patient-list q": ("get", [], {"q": "Anna"}, False),
        "patients:patient-search": ("get", [], {"q": "Anna"}, True),
        "patients:patient-create post": ("post", [], {"full_name": "Budget Newcomer", "insurance_id": taj(9998)}, False),
        "patients:patient-edit post": ("post", [cast.patient_a.pk], {"full_name": "Anna Patient-Budget", "insurance_id": cast.patient_a.insurance_id}, False),
        "partners:partner-edit post": ("post", [partners.partnership_p.pk], _partner_form(everyone), False),
        "partners:book htmx": ("get", [], _offer(everyone), True),
        "partners:book-slot htmx": ("get", [], {
            "slot_location": cast.location_a1.pk, "slot_physician": cast.physician_a.pk,
            "slot_service": cast.service_a.pk, "starts_at": local(day, 14).isoformat(),
        }, True),
        "partners:book-slot post": ("post", [], {
            **_offer(everyone), "slot_location": cast.location_a1.pk, "slot_physician": cast.physician_a.pk,
            "slot_service": cast.service_a.pk, "starts_at": local(day, 14).isoformat(), **new_patient,
        }, True),
        "partners:patient-search": ("get", [], {"partnership": partners.partnership_p.pk, "q": "Anna"}, True),
        "partners:booking-move": ("post", booking_p, {"starts_at": local(day, 15).isoformat(), "confirm": "1"}, False),
        "online:details post": ("post", [cast.institution_a.pk, cast.service_a.pk], {
            "location": cast.location_a1.pk, "physician": cast.physician_a.pk,
            "at": int(local(day, 13).timestamp()), **person(),
        }, False),
        "online:verify post": ("post", [everyone.online_token], {"code": last_code("olivia@example.test")}, False),
        "reports:booking-report": ("get", [], _period(everyone), False),
        "reports:traffic": ("get", [], _period(everyone), False),
        "reports:partner-bookings": ("get", [], _period(everyone), False),
        "reports:settlement": ("get", [], _period(everyone), False),
        "reports:settlement-download": ("get", [partners.partner_p.pk, "csv"], _period(everyone), False),
        "reports:partner-statement-download": ("get", [cast.institution_a.pk, "csv"], _period(everyone), False),
        "fhir:slot-search": ("get", [], _slots(everyone), False),
        "fhir:slot-search partner": ("get", [], _slots(everyone), False),
        "fhir:slot-post-search": ("post", [], _slots(everyone), False),
        "fhir:slot-post-search partner": ("post", [], _slots(everyone), False),
        "fhir:appointment-find": ("get", [], _find(everyone), False),
        "fhir:appointment-find partner": ("get", [], _find(everyone), False),
        "privacy:processing-record json": ("get", [], {"format": "json"}, False),
        "api:traffic": ("get", [], _period(everyone), False),
        "api:settlement": ("get", [], _period(everyone), False),
    }  # fmt: skip
    if case in custom:
        method, args, data, htmx = custom[case]
        return method, reverse(_name(case), args=args), data, htmx
    method, url, data = _request_of(_name(case), everyone)
    return method, url, data, False


def _log_in(http: Client, everyone: Everyone, user) -> None:
    """Give the client the user's session, made once: every request's writes are rolled back, so each
    finds the session as the login left it and writes the same to it (the time first seen among them)."""
    sessions = everyone.__dict__.setdefault("_sessions", {})
    if user not in sessions:
        http.cookies.clear()
        if user is not None:
            http.force_login(user)
        sessions[user] = copy.deepcopy(http.cookies)
    http.cookies = copy.deepcopy(sessions[user])


def _send(http: Client, everyone: Everyone, case: str) -> tuple[int, int, int]:
    """Send the case's request as its actor in a savepoint rolled back: its number of queries and status."""
    actor = BUDGETS[case][0]
    method, url, data, htmx = _request(case, everyone)
    api = case.startswith(TOKEN_NAMESPACES)
    user = everyone.user(actor)
    _log_in(http, everyone, None if api else user)
    _token, secret = _token_of(everyone, actor) if api else (None, "")
    ApiToken.objects.update(last_used_at=timezone.now())
    cache.clear()  # nothing cached carries over (the API rate limit counts in the database, rolled back)
    ContentType.objects.clear_cache()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    if htmx:
        headers["HTTP_HX_REQUEST"] = "true"
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            if "-post-search" in case:  # FHIR's POST _search: the search's parameters as a form
                form = urlencode(data, doseq=True)
                response = http.post(url, form, content_type="application/x-www-form-urlencoded", **headers)
            elif api and method in ("post", "put"):
                response = getattr(http, method)(
                    url, json.dumps(data), content_type="application/json", **headers
                )
            else:
                response = getattr(http, method)(url, data, **headers)
            content = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    return len(queries), response.status_code, len(content)


def _measure(http: Client, everyone: Everyone) -> dict[str, tuple[int, int]]:
    return {case: _send(http, everyone, case) for case in BUDGETS}


@pytest.fixture(scope="module")
def counts(django_db_setup, django_db_blocker):
    """Every case's (queries, status) at the small and at the large size, measured once for the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        # Once a minute a session records its last request and asks again for the second factor
        # (`security.SEEN_RESOLUTION`): a case measured a minute after the session was made would count those
        # queries at one size and not at the other. Measured as within the minute, at both sizes.
        with (
            override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
            mock.patch.object(security, "SEEN_RESOLUTION", 10**9),
        ):
            cast = cast_build()
            everyone = everyone_make(cast, partners_build(cast, gtc_publish()))
            for actor in ACTORS:
                _token_of(everyone, actor)
            _webhook_of(everyone)
            _hold_of(everyone)  # made before both sizes are measured, not by the first $book between them
            http = Client()
            grow(everyone, 0, SMALL)
            small = _measure(http, everyone)
            grow(everyone, SMALL, LARGE * SMALL - SMALL)
            large = _measure(http, everyone)
        yield {case: (small[case], large[case]) for case in BUDGETS}
        transaction.set_rollback(True)


def test_x_every_url_has_a_query_budget():
    names = _names()
    assert set(MATRIX) == names
    missing = names - {_name(case) for case in BUDGETS}
    assert not missing, f"give these URLs a query budget: {sorted(missing)}"
    assert not {_name(case) for case in BUDGETS} - names, "a budget names no URL"
    assert all(
        actor in ACTORS and shows in (ONE, LIST) for actor, _status, _budget, shows in BUDGETS.values()
    )


def _budget_of(case: str) -> int:
    budget = BUDGETS[case][2]
    if isinstance(budget, tuple):
        return budget[0] if connection.vendor == "postgresql" else budget[1]
    return budget


@pytest.mark.parametrize("case", list(BUDGETS))
def test_x_query_budget(counts, case):
    """The same number of queries with ten times the data, within the case's budget, answered as expected."""
    (small, small_status, small_length), (large, large_status, large_length) = counts[case]
    _actor, status, _budget, shows = BUDGETS[case]
    assert (small_status, large_status) == (status, status), (
        f"{case}: answered {small_status}, {large_status}"
    )
    if shows == LIST:
        assert large_length > small_length, f"{case}: the answer does not list the grown data"
    assert small == large, f"{case}: {small} queries with the small data, {large} with ten times as much"
    assert small == _budget_of(case), f"{case}: {small} queries, its budget is {_budget_of(case)}"
