"""The fixed cast of every test, and the switches that tell PostgreSQL and SQLite runs apart."""

import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from medbook.accounts.models import Membership
from medbook.core.tenancy import Actor
from medbook.institutions.tests.factories import (
    PASSWORD,
    InstitutionFactory,
    LocationFactory,
    MembershipFactory,
    PhysicianFactory,
    ServiceFactory,
    UserFactory,
    weekly_hours,
)
from medbook.partners.tests.factories import (
    TEN_PERCENT,
    gtc_accepted_by,
    gtc_publish,
    partner_make,
    partner_member,
    partnership_make,
)
from medbook.patients.tests.factories import PatientFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# smtp_server (a real aiosmtpd server) and deliver_outbox (runs the outbox worker) for every app's tests.
pytest_plugins = ["medbook.notifications.tests.fixtures"]
BUDAPEST = ZoneInfo("Europe/Budapest")
# The scripts every page loads from npm's node_modules (STATICFILES_DIRS): without them no click works.
FRONT_END_FILES = ("vendor/htmx/htmx.min.js",)
# Why a PostgreSQL-only test is skipped on SQLite; the summary lists every test skipped for it.
NEEDS_POSTGRESQL = "needs PostgreSQL: run with DATABASE_URL=postgres://... (make test does)"


def pytest_sessionstart(session):
    """Create the STATIC_ROOT whitenoise scans (empty: tests serve via the finders), so it need not warn."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def pytest_collection_modifyitems(config, items):
    """Skip, loudly, the tests that need PostgreSQL when the suite runs on SQLite."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    marker = pytest.mark.skip(reason=NEEDS_POSTGRESQL)
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(marker)


def pytest_terminal_summary(terminalreporter):
    """List the tests skipped for want of PostgreSQL. Read from the reports, not from the collection: under
    pytest-xdist the workers collect and skip, and only the reports reach the process that prints."""
    skipped = sorted(
        {
            report.nodeid
            for report in terminalreporter.stats.get("skipped", [])
            if NEEDS_POSTGRESQL in str(report.longrepr)
        }
    )
    if skipped:
        terminalreporter.write_sep("!", f"SKIPPED {len(skipped)} PostgreSQL-only tests on SQLite")
        for nodeid in skipped:
            terminalreporter.write_line(f"  skipped (needs PostgreSQL): {nodeid}")


def actor_of(user, organization=None) -> Actor:
    """The actor a request of this user would resolve to."""
    memberships = tuple(
        Membership.objects.filter(user=user, is_active=True).select_related("organization__institution")
    )
    current = next(
        (m for m in memberships if organization is None or m.organization_id == organization.pk), None
    )
    return Actor(user=user, membership=current, memberships=memberships)


def next_weekday(weekday: int, weeks_ahead: int = 1) -> date:
    """A date of the given weekday at least a week from today (always in the future)."""
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware Budapest datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=BUDAPEST)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash test passwords cheaply; the production hasher is tested by Django itself."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Cast:
    """Institution A (alice admin, bob staff, two locations), institution B (charlie, the stranger)."""

    institution_a: object
    location_a1: object
    location_a2: object
    physician_a: object
    service_a: object
    patient_a: object
    alice: object
    bob: object
    institution_b: object
    location_b: object
    physician_b: object
    service_b: object
    patient_b: object
    charlie: object

    def actor(self, user) -> Actor:
        return actor_of(user)


@pytest.fixture
def cast(db) -> Cast:
    return cast_build()


def cast_build() -> Cast:
    """Create the cast; the fixture's body, for fixtures of a wider scope."""
    a = InstitutionFactory(name="Institution A")
    a1 = LocationFactory(institution=a, name="A Central")
    a2 = LocationFactory(institution=a, name="A North")
    doc_a = PhysicianFactory(institution=a, full_name="Dr. Alpha", locations=[a1, a2])
    svc_a = ServiceFactory(institution=a, name="Cardiology check", locations=[a1, a2], physicians=[doc_a])
    weekly_hours(doc_a, a1)
    alice = UserFactory(email="alice@a.test", full_name="Alice Admin")
    bob = UserFactory(email="bob@a.test", full_name="Bob Reception")
    MembershipFactory(user=alice, organization=a, role=Membership.Role.ADMIN)
    MembershipFactory(user=bob, organization=a, role=Membership.Role.STAFF)
    b = InstitutionFactory(name="Institution B")
    b1 = LocationFactory(institution=b, name="B Only")
    doc_b = PhysicianFactory(institution=b, full_name="Dr. Beta", locations=[b1])
    svc_b = ServiceFactory(institution=b, name="Dermatology check", locations=[b1], physicians=[doc_b])
    weekly_hours(doc_b, b1)
    charlie = UserFactory(email="charlie@b.test", full_name="Charlie Stranger")
    MembershipFactory(user=charlie, organization=b, role=Membership.Role.ADMIN)
    return Cast(
        institution_a=a,
        location_a1=a1,
        location_a2=a2,
        physician_a=doc_a,
        service_a=svc_a,
        patient_a=PatientFactory(institution=a, full_name="Anna Patient", insurance_id="111111110"),
        alice=alice,
        bob=bob,
        institution_b=b,
        location_b=b1,
        physician_b=doc_b,
        service_b=svc_b,
        patient_b=PatientFactory(institution=b, full_name="Berta Patient"),
        charlie=charlie,
    )


@dataclass
class PartnerCast:
    """Partner P active at institution A (admin, a user who may book, one who may not); Q with none."""

    gtc: object
    partner_p: object
    partnership_p: object
    paula: object  # P's admin
    peter: object  # P's user who may book
    petra: object  # P's user who may not book
    partner_q: object
    quentin: object  # Q's admin


@pytest.fixture
def gtc(db):
    return gtc_publish()


@pytest.fixture
def partners(cast, gtc) -> PartnerCast:
    return partners_build(cast, gtc)


def partners_build(cast: Cast, gtc) -> PartnerCast:
    """Create the partner cast; the fixture's body, for fixtures of a wider scope."""
    p = partner_make("CallCenter Ltd", "01-09-111111", "12345676-2-41", "paula@p.test")
    partnership = partnership_make(
        cast.institution_a, p, locations=[cast.location_a1], services=[cast.service_a], **TEN_PERCENT
    )
    paula = UserFactory(email="paula@p.test", full_name="Paula Partner")
    peter = UserFactory(email="peter@p.test", full_name="Peter Booker")
    petra = UserFactory(email="petra@p.test", full_name="Petra Viewer")
    partner_member(paula, p, Membership.Role.PARTNER_ADMIN, can_book=True)
    partner_member(peter, p, can_book=True)
    partner_member(petra, p)
    gtc_accepted_by(p, paula, gtc)
    q = partner_make("Quiet Partners Kft.", "01-09-222222", "24703350-2-19", "quentin@q.test")
    quentin = UserFactory(email="quentin@q.test", full_name="Quentin Q")
    partner_member(quentin, q, Membership.Role.PARTNER_ADMIN, can_book=True)
    gtc_accepted_by(q, quentin, gtc)
    return PartnerCast(gtc, p, partnership, paula, peter, petra, q, quentin)


@pytest.fixture
def login(client):
    """Log the test client in as a user of the cast."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# Playwright's bound on one action or expectation, for a loaded two-core machine: a passing test never waits
# it out (expect() polls), and page.set_default_timeout() never bounded expect(), which waited 5 s at most.
BROWSER_TIMEOUT_MS = 30_000
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def front_end_missing() -> list[str]:
    """The static directories the finders would skip without a word, and the page scripts they cannot find."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    roots = [entry[1] if isinstance(entry, tuple) else entry for entry in settings.STATICFILES_DIRS]
    missing = [str(root) for root in roots if not Path(root).is_dir()]
    return missing + [path for path in FRONT_END_FILES if finders.find(path) is None]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright."""
    from playwright.sync_api import expect, sync_playwright

    if missing := front_end_missing():
        pytest.fail(
            f"the browser tests need the front-end libraries from npm; missing: {', '.join(missing)}. "
            "Run npm ci (make install) first.",
            pytrace=False,
        )

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=BROWSER_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Open a page in a browser context of its own (another user); every one is closed after the test."""
    contexts = []

    def _new_page(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


__all__ = ["PASSWORD", "actor_of", "local", "next_weekday"]


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's language: a request in Hungarian leaves its language active in the
    thread, which would translate the next test's expected texts."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
