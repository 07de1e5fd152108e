"""What the online booking tests share: an institution taking online bookings, a picked time, the code."""

import re
from urllib.parse import urlencode

from django.urls import reverse

from conftest import local, next_weekday
from medbook.institutions.models import Institution
from medbook.notifications.models import OutboxMessage
from medbook.scheduling.models import TrafficChannel

PRIVACY = "We use your details to book and hold your appointment."
CODE = re.compile(r"\b(\d{6})\b")


def online_on(institution, *services) -> None:
    """Turn online booking on at the institution and tick the services in its Online column."""
    Institution.objects.filter(pk=institution.pk).update(online_booking=True, privacy_notice=PRIVACY)
    institution.refresh_from_db()
    TrafficChannel.objects.get(institution=institution, code="online").services.add(*services)


def details_url(cast, hour: int = 10, weekday: int = 2) -> str:
    """The details page of institution A's service with Dr. Alpha at A Central, at `hour` next week."""
    at = int(local(next_weekday(weekday), hour).timestamp())
    query = urlencode({"location": cast.location_a1.pk, "physician": cast.physician_a.pk, "at": at})
    return f"{reverse('online:details', args=[cast.institution_a.pk, cast.service_a.pk])}?{query}"


def person(**changes) -> dict:
    """A newcomer's details as the form takes them."""
    return {
        "full_name": "Nora Newcomer",
        "birth_date": "1990-04-12",
        "email": "nora@example.test",
        "phone": "",
        "insurance_id": "",
        "accept_privacy": "on",
        "website": "",
        **changes,
    }


def last_code(email: str) -> str:
    """The code of the latest e-mail sent to the address."""
    message = OutboxMessage.objects.filter(to_email=email, kind="online_code").order_by("-pk").first()
    assert message is not None, f"no code e-mailed to {email}"
    found = CODE.search(message.subject)
    assert found is not None
    return found.group(1)
