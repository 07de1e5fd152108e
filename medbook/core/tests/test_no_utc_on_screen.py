"""Every page every actor may open, and the e-mails of a booking's life, show times as people read them: in
the institution's zone, never an ISO or UTC timestamp (ISO values inside attributes, for the scripts, are
fine). The bookings sit on both sides of a daylight-saving change."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils.html import strip_tags

from conftest import BUDAPEST, actor_of, local
from medbook.core.tests.cast import ACTORS, everyone_make
from medbook.core.tests.test_permission_matrix import GET, MATRIX, _request_of
from medbook.notifications.models import OutboxMessage
from medbook.partners.tests import services
from medbook.scheduling.tests.test_dst import next_change

pytestmark = pytest.mark.django_db
MACHINE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}|[+-]00:00\b|\bUTC\b|\d{2}:\d{2}Z\b")


def _visible(html: str) -> str:
    """The text a person reads: no tags (so no attributes), no scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return strip_tags(html)


def test_x_no_page_shows_a_utc_or_iso_timestamp(cast, partners):
    everyone = everyone_make(cast, partners)
    http = Client()
    problems = []
    for name, (method, _obj, answers) in MATRIX.items():
        if method != GET:
            continue
        request = _request_of(name, everyone)
        for actor, answer in zip(ACTORS, answers, strict=True):
            if answer != 200 or actor == "anon":
                continue
            http.cookies.clear()
            http.force_login(everyone.user(actor))
            with transaction.atomic():
                response = http.get(request[1], request[2])
                transaction.set_rollback(True)
            if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                continue
            found = MACHINE_TIME.search(_visible(response.content.decode()))
            if found:
                problems.append(f"{name} as {actor}: {found.group(0)!r}")
    assert not problems, "\n".join(problems)


def test_x_booking_emails_across_a_dst_change_read_the_local_hour(cast, partners, settings):
    """A partner's booking made before the clocks change and moved across the change: the e-mails to the
    institution say the wall-clock hour both times, with no ISO or UTC text."""
    change = next_change(BUDAPEST, forward=False)  # the night the clocks go back
    before, after = change - timedelta(days=3), change + timedelta(days=1)  # a Thursday, the Monday after
    booking = services.booking_create(
        actor=actor_of(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(before, 10),
    )
    services.booking_move(actor=actor_of(partners.peter), booking=booking, starts_at=local(after, 10))
    bodies = list(OutboxMessage.objects.filter(to_email=cast.alice.email).values_list("text_body", flat=True))
    assert len(bodies) == 2
    for body in bodies:
        assert "10:00" in body, body
        assert not MACHINE_TIME.search(body), body
